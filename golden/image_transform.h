// The input pipeline's pixel arithmetic for decoded photographs (docs/numerics.md §5.1.1):
// the ResNet recipe's random-resized crop and flip (training) and resize + centre crop
// (evaluation), and the resampling they need — all in integers, so that a crop and its pixels
// are a pure function of (seed, epoch, image index, decoded image) on every machine.
#pragma once

#include <cstdint>
#include <vector>

#include "golden/counter_rng.h"

namespace octet::golden {

// Tensor id of the augmentation's random streams (ASCII "AUGMENT"): epoch e's key is
// make_stream_key(seed, e, kAugmentStreamId); image i draws from augment_key(that, i).
inline constexpr uint64_t kAugmentStreamId = 0x4155474D454E54ull;
StreamKey augment_key(uint64_t seed, uint64_t epoch, uint64_t image_index);

// A decoded image: height × width × channels bytes, row-major, channels interleaved
// (1: grey, 3: R, G, B).
struct DecodedImage {
  int64_t height = 0, width = 0, channels = 0;
  std::vector<uint8_t> pixels;
};

// One axis of a resampling: the input span [in_first, in_first + in_count) is resized to
// out_count pixels, of which the outputs out_first, out_first + 1, ... are kept.
struct AxisMap {
  int64_t in_first = 0, in_count = 0, out_count = 0, out_first = 0;
};

// Where an output image's pixels come from: rows by `y`, columns by `x`, then mirrored
// left-right if `flip`.
struct ImageTransform {
  AxisMap y, x;
  bool flip = false;
};

// Random-resized crop to size × size (scale [0.08, 1], aspect ratio log-uniform in [3/4, 4/3],
// 10 attempts, else the centre crop of the closest allowed ratio) and a flip with p = 1/2.
ImageTransform train_transform(int64_t height, int64_t width, int64_t size, StreamKey key);
// Shorter side to round(size · 256/224), then the centre size × size.
ImageTransform eval_transform(int64_t height, int64_t width, int64_t size);

// The resized pixels of one axis: output o (0 <= o < count) is Σ weight · input[index] / denom
// over its taps. Shrinking (in_count >= out_count) averages the covered area exactly; enlarging
// interpolates linearly between the two nearest pixel centres.
struct AxisTaps {
  int64_t denom = 1;
  std::vector<int64_t> first;   // per output: index of its first tap in `index` / `weight`
  std::vector<int64_t> index;   // input index (0-based in the whole image)
  std::vector<int64_t> weight;  // > 0, an output's weights sum to denom
};
AxisTaps axis_taps(const AxisMap& map, int64_t count);

// Writes the size × size output, 3 channels (a grey image repeated), planar C × H × W, each value
// the exact weighted mean of its taps rounded half to even. Throws std::invalid_argument if the
// transform reads outside the image.
void apply_transform(const DecodedImage& image, const ImageTransform& t, int64_t size, uint8_t* out);

// Aspect ratio 3/4 · (16/9)^(k/256), k = 0..256, in 32 fraction bits (integer square roots only).
uint64_t crop_ratio_q32(int k);

}  // namespace octet::golden
