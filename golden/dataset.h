// Training data for the golden engine: an image-classification data set held as
// raw uint8 pixels, deterministic per-epoch shuffles and integer batches.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "golden/counter_rng.h"
#include "golden/idx.h"  // DataError
#include "golden/label.h"
#include "golden/tensor.h"

namespace octet::golden {

// Where Debian's dataset-fashion-mnist package installs the four *.gz IDX files.
inline constexpr const char* kDefaultFashionMnistDir = "/usr/share/datasets/fashion-mnist";
inline constexpr int kFashionMnistClasses = 10;

// Exponent of a batch's pixels: payload p (0..255) means p·2^-8. The raw pixel is
// already the exact integer payload, so the input needs no rounding and its value
// lies in [0, 1). (The usual p/255 has no power-of-two scale and would have to be
// rounded; the constant factor 256/255 between the two is absorbed by the first layer.)
inline constexpr int kPixelExp = -8;

// Tensor id of the shuffle's random stream, make_stream_key(seed, epoch, id): ASCII
// "SHUFFLE", far from the small per-layer ids of the quantizers, so the shuffle never
// shares a stream with stochastic rounding even though epoch and step share a slot.
inline constexpr uint64_t kShuffleStreamId = 0x53485546464C45ull;

struct Dataset {
  int64_t channels = 0, height = 0, width = 0;
  int num_classes = 0;
  std::vector<uint8_t> images;  // size() × channels × height × width, row-major (NCHW)
  std::vector<Label> labels;    // size() labels, each < num_classes

  int64_t size() const { return static_cast<int64_t>(labels.size()); }
  int64_t image_elements() const { return channels * height * width; }
};

// Loads N images (an IDX array N×H×W, read as C = 1, or N×C×H×W) and N labels (an
// IDX vector of N bytes, each < num_classes <= kMaxClasses). Throws DataError on any mismatch.
Dataset load_idx_dataset(const std::string& images_path, const std::string& labels_path, int num_classes);

enum class Split { kTrain, kTest };

// Fashion-MNIST from `dir` (train: 60000 images, test: 10000; 1×28×28; 10 classes).
// Takes each file as <name>.gz, or uncompressed as <name> if only that exists.
Dataset load_fashion_mnist(const std::string& dir, Split split);
// The path load_fashion_mnist reads for a split's images or labels.
std::string fashion_mnist_file(const std::string& dir, Split split, bool labels);
inline Dataset load_fashion_mnist(Split split) { return load_fashion_mnist(kDefaultFashionMnistDir, split); }

// The first n examples (0 <= n <= ds.size(), else std::invalid_argument).
Dataset take_first(const Dataset& ds, int64_t n);

// Uniform integer in [0, bound), bound >= 1, without bias: Lemire's multiply-shift
// ("Fast Random Integer Generation in an Interval", 2019). The 128-bit product
// r·bound maps a 64-bit draw r to its high word; draws whose low word falls below
// 2^64 mod bound are rejected, leaving exactly floor(2^64 / bound) draws per result.
// Draw i is random_bits(key, i) with i = counter++, so a sequential consumer
// (the shuffle) is a pure function of the key.
uint64_t uniform_below(StreamKey key, uint64_t& counter, uint64_t bound);

// The order in which epoch `epoch` visits n examples: a Fisher–Yates shuffle of
// 0..n-1 (for i = n-1 down to 1, swap i with uniform_below(i + 1)) drawing from
// make_stream_key(seed, epoch, kShuffleStreamId). A pure function of (n, seed, epoch)
// on every platform; std::shuffle is not (its algorithm is implementation-defined).
std::vector<int64_t> shuffled_order(int64_t n, uint64_t seed, uint64_t epoch);

struct Batch {
  Tensor<uint8_t> images;       // B×C×H×W, exp = kPixelExp
  std::vector<Label> labels;    // B
};

// The examples at `indices` (in that order), e.g. a slice of shuffled_order.
// Throws std::invalid_argument for an empty batch or an index out of range.
Batch make_batch(const Dataset& ds, std::span<const int64_t> indices);

}  // namespace octet::golden
