#include "golden/quantizers.h"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

#include "golden/int_math.h"
#include "golden/parallel.h"

namespace octet::golden {

namespace {
constexpr int64_t kInt32Min = std::numeric_limits<int32_t>::min();
constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();

uint64_t magnitude(int64_t x) { return x < 0 ? 0 - static_cast<uint64_t>(x) : static_cast<uint64_t>(x); }

int64_t symmetric_limit(int k) { return (int64_t{1} << (k - 1)) - 1; }

// Runs f(i) for every element, in `threads` contiguous chunks.
template <typename F>
void for_each_element(int64_t n, int threads, F f) {
  for_each_chunk(n, std::max(1, threads), [&](int64_t, int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) f(i);
  });
}

void check_input(const char* quantizer, const Tensor<int64_t>& x) {
  if (x.empty()) throw std::invalid_argument(std::string(quantizer) + ": empty tensor");
}

// |x| * 2^shift for shift of either sign, on magnitudes, saturating at `cap` instead of overflowing.
uint64_t scale_magnitude_rhe(uint64_t a, int shift, uint64_t cap) {
  if (shift >= 0) {
    if (a == 0) return 0;
    if (shift >= 64 || a > (cap >> shift)) return cap;
    return a << shift;
  }
  const int s = -shift;
  if (s >= 65) return 0;
  if (s == 64) return a > (uint64_t{1} << 63) ? 1 : 0;  // tie at exactly 2^63 rounds to even 0
  const uint64_t q = a >> s;
  const uint64_t rem = a & ((uint64_t{1} << s) - 1);
  const uint64_t half = uint64_t{1} << (s - 1);
  const bool up = rem > half || (rem == half && (q & 1));
  return std::min<uint64_t>(q + (up ? 1 : 0), cap);
}

int64_t with_sign(int64_t x, uint64_t mag) { return x < 0 ? -static_cast<int64_t>(mag) : static_cast<int64_t>(mag); }
}  // namespace

void check_bits(const char* quantizer, int k, int max_bits) {
  if (k < kMinBits || k > max_bits)
    throw std::invalid_argument(std::string(quantizer) + ": bit-width k=" + std::to_string(k) +
                                " outside the supported range [" + std::to_string(kMinBits) + ", " +
                                std::to_string(max_bits) + "]");
}

uint64_t tensor_max_magnitude(const int64_t* x, int64_t n) {
  uint64_t m = 0;
  for (int64_t i = 0; i < n; ++i) m = std::max(m, magnitude(x[i]));
  return m;
}

int scale_log2_of_max(uint64_t max_magnitude) { return max_magnitude == 0 ? 0 : round_log2(max_magnitude); }

int tensor_scale_log2(const int64_t* x, int64_t n) { return scale_log2_of_max(tensor_max_magnitude(x, n)); }

int output_exponent(const char* quantizer, int64_t exp) {
  if (exp < std::numeric_limits<int>::min() || exp > std::numeric_limits<int>::max())
    throw std::overflow_error(std::string(quantizer) + ": output exponent " + std::to_string(exp) + " outside int");
  return static_cast<int>(exp);
}

int64_t requantize_element(int64_t x, int in_exp, int out_exp, int64_t lo, int64_t hi) {
  // Rounding is symmetric (half to even), so round the magnitude and restore the sign.
  const auto cap = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  // The difference of two ints needs int64; beyond ±128 every magnitude saturates or rounds to 0 alike.
  const auto shift = static_cast<int>(std::clamp<int64_t>(int64_t{in_exp} - out_exp, -128, 128));
  const int64_t q = with_sign(x, scale_magnitude_rhe(magnitude(x), shift, cap));
  return saturate(q, lo, hi);
}

int64_t shift_quantize_element(int64_t x, int r, int k) {
  const uint64_t lim = static_cast<uint64_t>(symmetric_limit(k));
  return with_sign(x, scale_magnitude_rhe(magnitude(x), -(r - (k - 1)), lim));
}

int64_t constant_factor_quantize_element(int64_t x, int r, const CqParams& p, uint64_t index) {
  const uint64_t a = magnitude(x);
  const uint64_t lim = static_cast<uint64_t>(symmetric_limit(p.log2_scale + 1));  // 2^s - 1
  const int drop = r - p.log2_scale;  // bits below the output grid
  uint64_t q;
  if (drop <= 0) {
    q = scale_magnitude_rhe(a, -drop, lim);  // exact left shift (no rounding)
  } else {
    q = a >> drop;
    const uint64_t fraction = a & ((drop >= 64 ? 0 : (uint64_t{1} << drop)) - 1);
    // Round the magnitude up iff the random value (drop bits) is below the dropped fraction.
    if (fraction != 0 && random_top_bits(p.key, index, drop) < fraction) ++q;
    q = std::min(q, lim);
  }
  return with_sign(x, q);
}

int64_t flag_quantize_element(int64_t x, int r, int k) {
  const uint64_t a = magnitude(x);
  const int coarse_shift = r - (k - 1);        // one coarse unit = 2^coarse_shift payload units
  const int fine_shift = coarse_shift - (k - 1);  // one fine unit
  const uint64_t half_range = uint64_t{1} << (k - 1);
  // y = |x| / 2^coarse_shift < 1; for coarse_shift <= 0 only zero qualifies.
  const bool below_one_coarse_unit =
      coarse_shift >= 64 || (coarse_shift <= 0 ? a == 0 : a < (uint64_t{1} << coarse_shift));
  if (below_one_coarse_unit) {
    // Fine grid: |q| <= 2^(k-1); a rounding up to 2^(k-1) is the coarse value 1, same payload.
    return with_sign(x, scale_magnitude_rhe(a, -fine_shift, half_range));
  }
  const uint64_t coarse = scale_magnitude_rhe(a, -coarse_shift, half_range - 1);
  return with_sign(x, coarse << (k - 1));
}

FlagCode flag_encode(int64_t payload, int k) {
  check_bits("flag_encode", k, kMaxFlagBits);
  const uint64_t a = magnitude(payload);
  const uint64_t unit = uint64_t{1} << (k - 1);
  const auto lim = static_cast<uint64_t>(symmetric_limit(k));
  if (a <= lim) return FlagCode{static_cast<int32_t>(payload), true};
  if (a % unit != 0 || a / unit > lim)
    throw std::invalid_argument("flag_encode: payload " + std::to_string(payload) + " is not an E2 value");
  return FlagCode{static_cast<int32_t>(with_sign(payload, a / unit)), false};
}

int64_t flag_decode(FlagCode code, int k) {
  return code.fine ? code.value : static_cast<int64_t>(code.value) * (int64_t{1} << (k - 1));
}

Tensor<int32_t> requantize(const Tensor<int64_t>& x, int out_exp, int64_t lo, int64_t hi) {
  check_input("requantize", x);
  if (lo > hi || lo < kInt32Min || hi > kInt32Max)
    throw std::invalid_argument("requantize: clip range must lie inside int32 and lo <= hi");
  Tensor<int32_t> out(x.shape, out_exp);
  for (int64_t i = 0; i < x.size(); ++i)
    out.data[i] = static_cast<int32_t>(requantize_element(x.data[i], x.exp, out_exp, lo, hi));
  return out;
}

Tensor<int32_t> direct_quantize(const Tensor<int64_t>& x, int k, Clip clip) {
  check_bits("direct_quantize", k);
  const int64_t lim = symmetric_limit(k);
  return clip == Clip::kSymmetric ? requantize(x, 1 - k, -lim, lim) : requantize(x, 1 - k, kInt32Min, kInt32Max);
}

Tensor<int32_t> shift_quantize(const Tensor<int64_t>& x, int k, int threads) {
  return shift_quantize_with_max(x, k, tensor_max_magnitude(x.data.data(), x.size()), threads);
}

Tensor<int32_t> shift_quantize_with_max(const Tensor<int64_t>& x, int k, uint64_t batch_max, int threads) {
  check_bits("shift_quantize", k);
  check_input("shift_quantize", x);
  const int r = scale_log2_of_max(batch_max);
  Tensor<int32_t> out(x.shape, output_exponent("shift_quantize", int64_t{x.exp} + r - (k - 1)));
  for_each_element(x.size(), threads,
                   [&](int64_t i) { out.data[i] = static_cast<int32_t>(shift_quantize_element(x.data[i], r, k)); });
  return out;
}

Tensor<int32_t> constant_factor_quantize(const Tensor<int64_t>& x, const CqParams& p, int threads) {
  if (p.log2_scale < 1 || p.log2_scale > kMaxBits - 1)
    throw std::invalid_argument("constant_factor_quantize: log2 of the gradient scale s=" +
                                std::to_string(p.log2_scale) + " outside [1, 30]");
  check_input("constant_factor_quantize", x);
  const int r = tensor_scale_log2(x.data.data(), x.size());
  Tensor<int32_t> out(x.shape, p.out_exp);
  for_each_element(x.size(), threads, [&](int64_t i) {
    out.data[i] = static_cast<int32_t>(constant_factor_quantize_element(x.data[i], r, p, static_cast<uint64_t>(i)));
  });
  return out;
}

Tensor<int32_t> flag_quantize(const Tensor<int64_t>& x, int k, int threads) {
  return flag_quantize_with_max(x, k, tensor_max_magnitude(x.data.data(), x.size()), threads);
}

Tensor<int32_t> flag_quantize_with_max(const Tensor<int64_t>& x, int k, uint64_t batch_max, int threads) {
  check_bits("flag_quantize", k, kMaxFlagBits);
  check_input("flag_quantize", x);
  const int r = scale_log2_of_max(batch_max);
  Tensor<int32_t> out(x.shape, output_exponent("flag_quantize", int64_t{x.exp} + r - 2 * (k - 1)));
  for_each_element(x.size(), threads,
                   [&](int64_t i) { out.data[i] = static_cast<int32_t>(flag_quantize_element(x.data[i], r, k)); });
  return out;
}

}  // namespace octet::golden
