#include "golden/image_transform.h"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string>

#include "golden/dataset.h"  // uniform_below
#include "golden/int_math.h"

namespace octet::golden {

namespace {

constexpr int kCropAttempts = 10;
constexpr int64_t kScaleOne = int64_t{1} << 16;  // scales on 2^-16
constexpr int64_t kScaleMin = 5243;              // round(0.08 · 2^16)
constexpr int kRatioSteps = 256;

// round(sqrt(m) / 2^24) for m holding a square on 2^-48: floor sqrt, then round its 24 fraction bits.
int64_t sqrt_q48_rounded(uint128 m) { return static_cast<int64_t>((isqrt(m) + (uint64_t{1} << 23)) >> 24); }

// round(a / b) for a >= 0, b > 0, halves up.
int64_t round_div(int64_t a, int64_t b) { return (2 * a + b) / (2 * b); }

}  // namespace

StreamKey augment_key(uint64_t seed, uint64_t epoch, uint64_t image_index) {
  return StreamKey{mix64(make_stream_key(seed, epoch, kAugmentStreamId).value ^ image_index)};
}

uint64_t crop_ratio_q32(int k) {
  if (k < 0 || k > kRatioSteps) throw std::invalid_argument("crop_ratio_q32: k outside 0..256");
  // root[m] = (16/9)^(2^-m) on 2^-32, by repeated integer square roots.
  static const std::array<uint64_t, 9> root = [] {
    std::array<uint64_t, 9> r{};
    r[0] = (uint64_t{16} << 32) / 9;
    for (size_t m = 1; m < r.size(); ++m) r[m] = isqrt(static_cast<uint128>(r[m - 1]) << 32);
    return r;
  }();
  uint128 acc = uint128{3} << 30;  // 3/4
  for (int m = 0; m <= 8; ++m)
    if (k >> (8 - m) & 1) acc = (acc * root[static_cast<size_t>(m)]) >> 32;
  return static_cast<uint64_t>(acc);
}

ImageTransform train_transform(int64_t height, int64_t width, int64_t size, StreamKey key) {
  if (height < 1 || width < 1 || size < 1) throw std::invalid_argument("train_transform: empty image or output");
  ImageTransform t;
  t.flip = random_bits(key, 0) >> 63;  // draw 0: the flip; the crop draws from 1 on
  uint64_t counter = 1;
  const auto area = static_cast<uint128>(height) * static_cast<uint128>(width);
  int64_t top = 0, left = 0, h = 0, w = 0;
  bool found = false;
  for (int attempt = 0; attempt < kCropAttempts && !found; ++attempt) {
    const auto scale = static_cast<uint128>(kScaleMin + static_cast<int64_t>(uniform_below(
                                                            key, counter, kScaleOne - kScaleMin + 1)));
    const uint128 ratio = crop_ratio_q32(static_cast<int>(uniform_below(key, counter, kRatioSteps + 1)));
    // w² = area·scale·ratio, h² = area·scale/ratio, both on 2^-48.
    w = sqrt_q48_rounded(area * scale * ratio);
    h = sqrt_q48_rounded(((area * scale) << 64) / ratio);
    if (w >= 1 && w <= width && h >= 1 && h <= height) {
      top = static_cast<int64_t>(uniform_below(key, counter, static_cast<uint64_t>(height - h + 1)));
      left = static_cast<int64_t>(uniform_below(key, counter, static_cast<uint64_t>(width - w + 1)));
      found = true;
    }
  }
  if (!found) {  // the centre crop of the allowed ratio nearest to the image's
    if (4 * width < 3 * height) {  // narrower than 3/4
      w = width;
      h = std::min(height, round_div(4 * width, 3));
    } else if (3 * width > 4 * height) {  // wider than 4/3
      h = height;
      w = std::min(width, round_div(4 * height, 3));
    } else {
      h = height;
      w = width;
    }
    top = (height - h) / 2;
    left = (width - w) / 2;
  }
  t.y = {top, h, size, 0};
  t.x = {left, w, size, 0};
  return t;
}

ImageTransform eval_transform(int64_t height, int64_t width, int64_t size) {
  if (height < 1 || width < 1 || size < 1) throw std::invalid_argument("eval_transform: empty image or output");
  const int64_t shorter = round_div(256 * size, 224);
  int64_t out_h = shorter, out_w = shorter;
  if (height <= width)
    out_w = static_cast<int64_t>(static_cast<uint128>(width) * static_cast<uint128>(shorter) / static_cast<uint128>(height));
  else
    out_h = static_cast<int64_t>(static_cast<uint128>(height) * static_cast<uint128>(shorter) / static_cast<uint128>(width));
  ImageTransform t;
  t.y = {0, height, out_h, (out_h - size) / 2};
  t.x = {0, width, out_w, (out_w - size) / 2};
  return t;
}

AxisTaps axis_taps(const AxisMap& m, int64_t count) {
  if (m.in_count < 1 || m.out_count < 1 || m.in_first < 0 || m.out_first < 0 || count < 0 ||
      m.out_first + count > m.out_count)
    throw std::invalid_argument("axis_taps: outputs " + std::to_string(m.out_first) + "+" + std::to_string(count) +
                                " of " + std::to_string(m.out_count) + " from " + std::to_string(m.in_count) +
                                " inputs");
  AxisTaps t;
  const auto tap = [&](int64_t i, int64_t w) {
    if (w == 0) return;
    t.index.push_back(m.in_first + i);
    t.weight.push_back(w);
  };
  const int64_t in = m.in_count, out = m.out_count;
  if (in >= out) {
    // Area: on the grid of 1/out input pixels, input j spans [j·out, (j+1)·out) and output r
    // spans [r·in, (r+1)·in); a tap's weight is the overlap, the denominator in.
    t.denom = in;
    for (int64_t o = 0; o < count; ++o) {
      t.first.push_back(static_cast<int64_t>(t.index.size()));
      const int64_t r = m.out_first + o, lo = r * in, hi = (r + 1) * in;
      for (int64_t j = lo / out; j * out < hi; ++j) tap(j, std::min(hi, (j + 1) * out) - std::max(lo, j * out));
    }
  } else {
    // Linear: output r's centre (r + 1/2)·in/out − 1/2 in input pixels is num / (2·out); it
    // lies between inputs j and j + 1 with weights (den − frac, frac), clamped at the borders.
    t.denom = 2 * out;
    for (int64_t o = 0; o < count; ++o) {
      t.first.push_back(static_cast<int64_t>(t.index.size()));
      const int64_t r = m.out_first + o, num = (2 * r + 1) * in - out;
      if (num <= 0) {
        tap(0, t.denom);
      } else {
        const int64_t j = num / t.denom, frac = num % t.denom;
        if (j >= in - 1) {
          tap(in - 1, t.denom);
        } else {
          tap(j, t.denom - frac);
          tap(j + 1, frac);
        }
      }
    }
  }
  t.first.push_back(static_cast<int64_t>(t.index.size()));
  return t;
}

void apply_transform(const DecodedImage& image, const ImageTransform& t, int64_t size, uint8_t* out) {
  if (image.channels != 1 && image.channels != 3) throw std::invalid_argument("apply_transform: 1 or 3 channels");
  if (t.y.in_first + t.y.in_count > image.height || t.x.in_first + t.x.in_count > image.width)
    throw std::invalid_argument("apply_transform: the transform reads outside the " + std::to_string(image.height) +
                                "x" + std::to_string(image.width) + " image");
  AxisTaps ty = axis_taps(t.y, size), tx = axis_taps(t.x, size);
  if (t.flip) {  // mirror the columns: output x takes what output size-1-x would have
    AxisTaps f;
    f.denom = tx.denom;
    for (int64_t o = size - 1; o >= 0; --o) {
      f.first.push_back(static_cast<int64_t>(f.index.size()));
      for (int64_t k = tx.first[static_cast<size_t>(o)]; k < tx.first[static_cast<size_t>(o) + 1]; ++k) {
        f.index.push_back(tx.index[static_cast<size_t>(k)]);
        f.weight.push_back(tx.weight[static_cast<size_t>(k)]);
      }
    }
    f.first.push_back(static_cast<int64_t>(f.index.size()));
    tx = std::move(f);
  }
  const int64_t c_in = image.channels;
  // Horizontal sums (exact, undivided) of the input rows the outputs read: row_sum[r][x][c].
  const int64_t row_lo = t.y.in_first, row_hi = t.y.in_first + t.y.in_count;
  std::vector<uint64_t> row_sum(static_cast<size_t>((row_hi - row_lo) * size * c_in));
  std::vector<bool> row_done(static_cast<size_t>(row_hi - row_lo), false);
  const auto horizontal = [&](int64_t row) {
    if (row_done[static_cast<size_t>(row - row_lo)]) return;
    row_done[static_cast<size_t>(row - row_lo)] = true;
    const uint8_t* src = image.pixels.data() + row * image.width * c_in;
    uint64_t* dst = row_sum.data() + (row - row_lo) * size * c_in;
    for (int64_t x = 0; x < size; ++x)
      for (int64_t k = tx.first[static_cast<size_t>(x)]; k < tx.first[static_cast<size_t>(x) + 1]; ++k) {
        const uint8_t* p = src + tx.index[static_cast<size_t>(k)] * c_in;
        const auto w = static_cast<uint64_t>(tx.weight[static_cast<size_t>(k)]);
        for (int64_t c = 0; c < c_in; ++c) dst[x * c_in + c] += p[c] * w;
      }
  };
  const auto denom = static_cast<uint64_t>(ty.denom) * static_cast<uint64_t>(tx.denom);
  const int64_t plane = size * size;
  std::vector<uint64_t> acc(static_cast<size_t>(size * c_in));
  for (int64_t y = 0; y < size; ++y) {
    std::fill(acc.begin(), acc.end(), 0);
    for (int64_t k = ty.first[static_cast<size_t>(y)]; k < ty.first[static_cast<size_t>(y) + 1]; ++k) {
      const int64_t row = ty.index[static_cast<size_t>(k)];
      horizontal(row);
      const uint64_t* src = row_sum.data() + (row - row_lo) * size * c_in;
      const auto w = static_cast<uint64_t>(ty.weight[static_cast<size_t>(k)]);
      for (int64_t i = 0; i < size * c_in; ++i) acc[static_cast<size_t>(i)] += src[i] * w;
    }
    for (int64_t x = 0; x < size; ++x)
      for (int64_t c = 0; c < 3; ++c) {
        const uint64_t v = acc[static_cast<size_t>(x * c_in + (c_in == 1 ? 0 : c))];
        // v / denom rounded half to even; a weighted mean of bytes, so at most 255.
        uint64_t q = v / denom;
        const uint64_t r2 = 2 * (v % denom);
        if (r2 > denom || (r2 == denom && (q & 1))) ++q;
        out[c * plane + y * size + x] = static_cast<uint8_t>(q);
      }
  }
}

}  // namespace octet::golden
