// The fast batch norm and ReLU (golden/batch_norm_fast.h, golden/activation_fast.h) against the
// reference functions, bit for bit, on random shapes and values from the training ranges to the
// extremes that force the int128 fallback; in the AVX2 and the portable code, with 1, 2, 3 threads.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <optional>
#include <string>
#include <typeinfo>

#include "golden/activation.h"
#include "golden/activation_fast.h"
#include "golden/batch_norm.h"
#include "golden/batch_norm_fast.h"
#include "golden/int_math.h"
#include "golden/quantizers.h"
#include "random_tensors.h"

using namespace octet::golden;
using namespace octet::testing;

namespace {
constexpr int kTrials = 1000;
// Thread counts to compare: every channel is computed the same way whatever the split, so 2 and 3
// threads run on every 8th trial only (a parallel_for spawns threads: slow on a small CI machine).
std::vector<int> thread_counts(int trial) { return trial % 8 == 0 ? std::vector<int>{1, 2, 3} : std::vector<int>{1}; }
constexpr int32_t kMin32 = std::numeric_limits<int32_t>::min(), kMax32 = std::numeric_limits<int32_t>::max();

// The code paths under test: portable (0), and AVX2 (1) and AVX-512 (2) where the CPU has them.
std::vector<int> simd_modes() {
  bn_relu_fast_set_avx2(true);
  bn_relu_fast_set_avx512(true);
  std::vector<int> modes{0};
  if (bn_relu_fast_uses_avx2()) modes.push_back(1);
  if (bn_relu_fast_uses_avx512()) modes.push_back(2);
  std::printf("simd modes: portable%s%s\n", modes.size() > 1 ? ", avx2" : "", modes.size() > 2 ? ", avx512" : "");
  return modes;
}

void set_simd_mode(int mode) {
  bn_relu_fast_set_avx2(mode >= 1);
  bn_relu_fast_set_avx512(mode >= 2);
}

// Runs f, returning the name of the exception type it throws (nullopt if none).
template <typename F>
std::optional<std::string> thrown(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return std::string(typeid(e).name());
  }
  return std::nullopt;
}

template <typename T>
void expect_same(const Tensor<T>& fast, const Tensor<T>& ref, const std::string& what) {
  ASSERT_EQ(fast.shape, ref.shape) << what;
  ASSERT_EQ(fast.exp, ref.exp) << what;
  for (int64_t i = 0; i < ref.size(); ++i) ASSERT_EQ(fast.data[i], ref.data[i]) << what << " at " << i;
}

void expect_same(const BnStats& f, const BnStats& r, const std::string& what) {
  ASSERT_EQ(f.mean, r.mean) << what;
  ASSERT_EQ(f.sigma, r.sigma) << what;
  ASSERT_EQ(f.recip, r.recip) << what;
  ASSERT_EQ(f.recip_shift, r.recip_shift) << what;
  ASSERT_EQ(f.count, r.count) << what;
  ASSERT_EQ(f.input_shift, r.input_shift) << what;
}

void expect_same(const BnBackward& f, const BnBackward& r, const std::string& what) {
  expect_same(f.dx, r.dx, what + " dx");
  expect_same(f.g_gamma, r.g_gamma, what + " g_gamma");
  expect_same(f.g_beta, r.g_beta, what + " g_beta");
}

Shape random_shape(std::mt19937_64& gen, bool large) {
  if (large) return {uniform(gen, 1, 4), uniform(gen, 1, 4), uniform(gen, 5, 16), uniform(gen, 5, 16)};
  switch (uniform(gen, 0, 3)) {
    case 0: return {uniform(gen, 1, 5), uniform(gen, 1, 6)};  // {N, C}: one element per row
    case 1: return {uniform(gen, 1, 3), uniform(gen, 1, 4), uniform(gen, 1, 40)};
    default: return {uniform(gen, 1, 5), uniform(gen, 1, 6), uniform(gen, 1, 9), uniform(gen, 1, 9)};
  }
}

// x for one of several regimes: training-like, extremes near ±2^31, constant channels, outliers.
Tensor<int32_t> random_input(std::mt19937_64& gen, const Shape& shape, int exp) {
  const int regime = static_cast<int>(uniform(gen, 0, 5));
  Tensor<int32_t> x(shape, exp);
  const int64_t inner = x.size() / (shape[0] * shape[1]);
  const int64_t spread = int64_t{1} << uniform(gen, 0, 24);
  const int64_t centre = uniform(gen, -(int64_t{1} << 24), int64_t{1} << 24);
  for (int64_t i = 0; i < x.size(); ++i) {
    const int64_t c = (i / inner) % shape[1];
    int64_t v = 0;
    switch (regime) {
      case 0: case 1: v = centre + uniform(gen, -spread, spread); break;
      case 2: v = uniform(gen, 0, 1) ? uniform(gen, kMin32, kMin32 + 1000) : uniform(gen, kMax32 - 1000, kMax32); break;
      case 3: v = uniform(gen, kMin32, kMax32); break;
      case 4: v = c * 1000 - 777; break;  // constant channels: zero variance
      default: v = uniform(gen, 0, 30) == 0 ? uniform(gen, kMin32, kMax32) : centre; break;  // saturating x̂
    }
    x.data[i] = static_cast<int32_t>(v);
  }
  return x;
}

int16_t random_param(std::mt19937_64& gen) {
  switch (uniform(gen, 0, 4)) {
    case 0: return static_cast<int16_t>(uniform(gen, 0, 1) ? 32767 : -32767);
    case 1: return -32768;
    case 2: return static_cast<int16_t>(uniform(gen, -32768, 32767));
    default: return static_cast<int16_t>(uniform(gen, -400, 400));
  }
}

Tensor<int16_t> random_params(std::mt19937_64& gen, int64_t C) {
  Tensor<int16_t> t({C}, -7);
  for (auto& v : t.data) v = random_param(gen);
  return t;
}

// Statistics for the forward/backward tests: the batch's (when it has any), or inference
// statistics from random running accumulators (means and σ' up to 2^55: the int128 fallback).
// Or the batch's with σ' moved to a power of two >= 2^8: ρ = 2^24, and x̂ has rounding ties.
BnStats random_stats(std::mt19937_64& gen, const Tensor<int32_t>& x) {
  const int64_t kind = uniform(gen, 0, 4);
  if (kind <= 2) {
    try {
      BnStats s = bn_batch_statistics(x);
      if (kind == 2) {
        for (auto& sigma : s.sigma) sigma = int64_t{1} << std::max(8, floor_log2(static_cast<uint64_t>(sigma)));
        bn_fill_reciprocals(s);
      }
      return s;
    } catch (const std::exception&) {
    }
  }
  BnRunning r(x.shape[1]);
  const int bits = static_cast<int>(uniform(gen, 0, 62));
  for (auto& m : r.mean_acc) m = uniform(gen, -(int64_t{1} << bits), int64_t{1} << bits);
  for (auto& s : r.sigma_acc)  // σ' a power of two makes ρ = 2^24 and rounding ties frequent
    s = uniform(gen, 0, 2) ? uniform(gen, 0, int64_t{1} << bits) : int64_t{1} << (8 + uniform(gen, 0, bits / 2));
  return bn_running_statistics(r, x.exp, uniform(gen, 1, 1 << 24));
}
}  // namespace

TEST(BatchNormFast, BranchFreeRoundingMatchesTheReferenceExhaustively) {
  // Every v in [-2^16, 2^16] and every shift up to two beyond the width.
  for (int s = 1; s <= 18; ++s)
    for (int64_t v = -(int64_t{1} << 16); v <= (int64_t{1} << 16); ++v)
      ASSERT_EQ(shift_right_rhe_branch_free(v, s), shift_right_round_half_even(v, s)) << v << " >> " << s;
  // The ends of its int64 domain (v + 2^(s-1) <= INT64_MAX), and around every multiple of 2^(s-1) there.
  const unsigned seed = 8128;
  std::printf("seed=%u\n", seed);
  std::mt19937_64 gen(seed);
  for (int s = 1; s <= 62; ++s) {
    const int64_t top = std::numeric_limits<int64_t>::max() - (int64_t{1} << (s - 1));
    for (int64_t v : {top, top - 1, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::min() + 1})
      ASSERT_EQ(shift_right_rhe_branch_free(v, s), shift_right_round_half_even(v, s)) << v << " >> " << s;
    for (int k = 0; k < 2000; ++k) {
      const int64_t base = uniform(gen, std::numeric_limits<int64_t>::min() >> s, top >> s) * (int64_t{1} << s);
      // In int128: the sum can leave int64 at either end (base = INT64_MIN, or s = 1 near the top).
      const int128 wide = static_cast<int128>(base) + (k % 2 ? int64_t{1} << (s - 1) : 0) + uniform(gen, -1, 1);
      if (wide > top || wide < std::numeric_limits<int64_t>::min()) continue;
      const auto v = static_cast<int64_t>(wide);
      ASSERT_EQ(shift_right_rhe_branch_free(v, s), shift_right_round_half_even(v, s)) << v << " >> " << s;
    }
  }
}

TEST(BatchNormFast, SquareRootViaDoubleIsExact) {
  // Around every perfect square t² (t random up to 2^64, and small), and at random m of every width.
  const unsigned seed = 1008;
  std::printf("seed=%u\n", seed);
  std::mt19937_64 gen(seed);
  for (int k = 0; k < 20000; ++k) {
    const uint64_t t = k < 2000 ? static_cast<uint64_t>(k) : gen() >> uniform(gen, 0, 63);
    const uint128 sq = static_cast<uint128>(t) * t;
    for (int d = -2; d <= 2; ++d) {
      const uint128 m = sq + static_cast<uint128>(static_cast<int128>(d));
      if (d < 0 && sq < static_cast<uint128>(-d)) continue;
      ASSERT_EQ(isqrt_via_double(m), isqrt(m)) << "t " << t << " d " << d;
    }
    const uint128 r = ((static_cast<uint128>(gen()) << 64) | gen()) >> uniform(gen, 0, 127);
    ASSERT_EQ(isqrt_via_double(r), isqrt(r));
  }
}

TEST(BatchNormFast, StatisticsAreBitIdentical) {
  const unsigned seed = 1001;
  std::printf("seed=%u\n", seed);
  std::mt19937_64 gen(seed);
  const auto modes = simd_modes();
  int thrown_cases = 0;
  for (int trial = 0; trial < kTrials; ++trial) {
    const int exp = trial % 4 == 0 ? static_cast<int>(uniform(gen, -15, 0)) : -14;
    const Tensor<int32_t> x = random_input(gen, random_shape(gen, trial % 20 == 0), exp);
    BnStats ref;
    const auto ref_error = thrown([&] { ref = bn_batch_statistics(x); });
    for (int mode : modes) {
      set_simd_mode(mode);
      const std::string what = "trial " + std::to_string(trial) + " simd " + std::to_string(mode);
      if (ref_error) {  // a throw inside a worker thread terminates: compare errors single-threaded
        ASSERT_EQ(thrown([&] { bn_batch_statistics_fast(x); }), ref_error) << what;
        continue;
      }
      for (int threads : thread_counts(trial)) expect_same(bn_batch_statistics_fast(x, threads), ref, what);
    }
    thrown_cases += ref_error.has_value();
  }
  std::printf("%d of %d cases throw in both\n", thrown_cases, kTrials);
}

TEST(BatchNormFast, TrainingLikeStatisticsAtFullSize) {
  // One small_resnet-sized channel group: {64, 2, 28, 28} on 2^-14 with |x| < 2^24.
  const unsigned seed = 1002;
  std::printf("seed=%u\n", seed);
  std::mt19937_64 gen(seed);
  const auto x = random_tensor<int32_t>(gen, {64, 2, 28, 28}, -(1 << 24), 1 << 24, -14);
  const BnStats ref = bn_batch_statistics(x);
  for (int mode : simd_modes()) {
    set_simd_mode(mode);
    expect_same(bn_batch_statistics_fast(x, 2), ref, "simd " + std::to_string(mode));
  }
}

TEST(BatchNormFast, ForwardIsBitIdentical) {
  const unsigned seed = 1003;
  std::printf("seed=%u\n", seed);
  std::mt19937_64 gen(seed);
  const auto modes = simd_modes();
  for (int trial = 0; trial < kTrials; ++trial) {
    const int exp = trial % 4 == 0 ? static_cast<int>(uniform(gen, -15, 0)) : -14;
    const Tensor<int32_t> x = random_input(gen, random_shape(gen, trial % 20 == 0), exp);
    const BnStats s = random_stats(gen, x);
    const auto gamma = random_params(gen, x.shape[1]), beta = random_params(gen, x.shape[1]);
    BnForward ref;
    const auto ref_error = thrown([&] { ref = bn_forward(x, s, gamma, beta); });
    ReluForward ref_relu;
    if (!ref_error) ref_relu = relu_quantize(ref.y);
    for (int mode : modes) {
      set_simd_mode(mode);
      const std::string what = "trial " + std::to_string(trial) + " simd " + std::to_string(mode);
      if (ref_error) {
        ASSERT_EQ(thrown([&] { bn_forward_fast(x, s, gamma, beta); }), ref_error) << what;
        ASSERT_EQ(thrown([&] { bn_relu_forward_fast(x, s, gamma, beta); }), ref_error) << what;
        continue;
      }
      for (int threads : thread_counts(trial)) {
        const BnForward f = bn_forward_fast(x, s, gamma, beta, threads);
        expect_same(f.xhat, ref.xhat, what + " xhat");
        expect_same(f.y, ref.y, what + " y");
        const BnReluForward fr = bn_relu_forward_fast(x, s, gamma, beta, threads);
        expect_same(fr.xhat, ref.xhat, what + " fused xhat");
        expect_same(fr.relu.a, ref_relu.a, what + " fused A");
        ASSERT_EQ(fr.relu.mask, ref_relu.mask) << what;
      }
    }
  }
}

TEST(BatchNormFast, BackwardIsBitIdentical) {
  const unsigned seed = 1004;
  std::printf("seed=%u\n", seed);
  std::mt19937_64 gen(seed);
  const auto modes = simd_modes();
  int thrown_cases = 0, narrow_cases = 0, narrow_threaded = 0;
  for (int trial = 0; trial < kTrials; ++trial) {
    const Shape shape = random_shape(gen, trial % 20 == 0);
    const int e1 = static_cast<int>(uniform(gen, -30, 2));
    const bool extreme = trial % 3 == 0;
    const int64_t dmax = extreme ? kMax32 : 127;
    const auto e = random_tensor<int32_t>(gen, shape, -dmax - (extreme ? 1 : 0), dmax, e1);
    Tensor<int16_t> xhat;
    BnStats s;
    const auto gamma = random_params(gen, shape[1]);
    if (!extreme) {  // the forward pass's x̂ and statistics
      const Tensor<int32_t> x = random_input(gen, shape, -14);
      s = random_stats(gen, x);
      if (thrown([&] { xhat = bn_forward(x, s, gamma, gamma).xhat; })) continue;
    } else {  // any x̂, any σ'
      const int64_t lo = uniform(gen, 0, 1) ? -32768 : -300, hi = uniform(gen, 0, 1) ? 32767 : 300;
      xhat = random_tensor<int16_t>(gen, shape, lo, hi, -7);
      s.count = uniform(gen, 1, int64_t{1} << uniform(gen, 0, 24));
      s.input_shift = 1;
      for (int64_t c = 0; c < shape[1]; ++c) {
        s.mean.push_back(0);
        const int64_t sigma_bits = uniform(gen, 0, 47);  // σ' a power of two: rounding ties in dx
        s.sigma.push_back(uniform(gen, 0, 1) ? int64_t{1} << sigma_bits : uniform(gen, 1, int64_t{1} << sigma_bits));
      }
      bn_fill_reciprocals(s);
    }
    std::vector<uint8_t> mask(static_cast<size_t>(e.size()));
    for (auto& m : mask) m = static_cast<uint8_t>(uniform(gen, 0, 2) == 0 ? 0 : uniform(gen, 1, 255));
    BnBackward ref, ref_masked;
    const auto ref_error = thrown([&] { ref = bn_backward(e, xhat, gamma, s); });
    const auto ref_masked_error = thrown([&] { ref_masked = bn_backward(relu_backward(e, mask), xhat, gamma, s); });
    for (int mode : modes) {
      set_simd_mode(mode);
      const std::string what = "trial " + std::to_string(trial) + " simd " + std::to_string(mode);
      if (ref_error)
        ASSERT_EQ(thrown([&] { bn_backward_fast(e, xhat, gamma, s); }), ref_error) << what;
      else
        for (int threads : thread_counts(trial)) expect_same(bn_backward_fast(e, xhat, gamma, s, threads), ref, what);
      if (ref_masked_error)
        ASSERT_EQ(thrown([&] { bn_relu_backward_fast(e, mask, xhat, gamma, s); }), ref_masked_error) << what;
      else
        for (int threads : thread_counts(trial)) {
          expect_same(bn_relu_backward_fast(e, mask, xhat, gamma, s, threads), ref_masked, what + " fused");
          // max |dx|, measured while dx is written (AVX-512) or per channel after it: exact.
          uint64_t dx_max = ~uint64_t{0};
          expect_same(bn_relu_backward_fast(e, mask, xhat, gamma, s, threads, nullptr, &dx_max), ref_masked,
                      what + " fused, max");
          ASSERT_EQ(dx_max, tensor_max_magnitude(ref_masked.dx.data.data(), ref_masked.dx.size())) << what;
          // dx in int32 where the bound allows (AVX-512 only): the same values, else the int64 result.
          Tensor<int32_t> narrow;
          uint64_t narrow_max = ~uint64_t{0};
          const BnBackward got = bn_relu_backward_fast(e, mask, xhat, gamma, s, threads, nullptr, &narrow_max, &narrow);
          ASSERT_EQ(narrow_max, tensor_max_magnitude(ref_masked.dx.data.data(), ref_masked.dx.size())) << what;
          if (narrow.empty()) {
            expect_same(got, ref_masked, what + " fused, int32 dx asked");
            continue;
          }
          ++narrow_cases;
          narrow_threaded += threads > 1;
          EXPECT_TRUE(mode == 2 && got.dx.empty()) << what;
          const Tensor<int64_t> wide(narrow.shape, Payload<int64_t>(narrow.data.begin(), narrow.data.end()), narrow.exp);
          expect_same(BnBackward{wide, got.g_gamma, got.g_beta}, ref_masked, what + " fused, int32 dx");
        }
    }
    thrown_cases += ref_error.has_value();
  }
  std::printf("%d of %d cases throw in both; %d fused results with dx in int32 (%d of them threaded)\n", thrown_cases,
              kTrials, narrow_cases, narrow_threaded);
  if (std::find(modes.begin(), modes.end(), 2) != modes.end()) {  // both the per-channel and the image-group path
    EXPECT_GT(narrow_cases, 20);
    EXPECT_GT(narrow_threaded, 2);
  }
}

TEST(BatchNormFast, BackwardWithAMeanGradientBeyondInt32) {
  // mg = rdiv(dγ_raw·2^8, N) > 2^31 while max|U|·|cγ| < 2^62 (the int64 path with a 64-bit mg
  // multiplier): dy = ±2^16 and x̂ = ±(1..3) of the same sign, so that Σdy = 0 (mb = 0) and
  // dγ_raw >= 2^24; N = 1 (statistics of another tensor); |γ| = 1 and ρ ≈ 2^23 (σ' = 2^(L+1) - 1).
  const unsigned seed = 1007;
  std::printf("seed=%u\n", seed);
  std::mt19937_64 gen(seed);
  const auto modes = simd_modes();
  for (int trial = 0; trial < 200; ++trial) {
    const Shape shape{2, uniform(gen, 1, 3), 8, 16};
    Tensor<int32_t> dy(shape, -20);
    Tensor<int16_t> xhat(shape, -7);
    for (int64_t i = 0; i < dy.size(); ++i) {
      const int sign = i % 2 ? 1 : -1;
      dy.data[i] = sign * (1 << 16);
      xhat.data[i] = static_cast<int16_t>(sign * uniform(gen, 1, 3));
    }
    Tensor<int16_t> gamma({shape[1]}, -7);
    BnStats s;
    s.count = 1;
    for (int64_t c = 0; c < shape[1]; ++c) {
      gamma.data[c] = static_cast<int16_t>(uniform(gen, 0, 1) ? 1 : -1);
      s.mean.push_back(0);
      s.sigma.push_back((int64_t{1} << uniform(gen, 5, 30)) - 1);
    }
    bn_fill_reciprocals(s);
    const BnBackward ref = bn_backward(dy, xhat, gamma, s);
    for (int mode : modes) {
      set_simd_mode(mode);
      expect_same(bn_backward_fast(dy, xhat, gamma, s), ref, "trial " + std::to_string(trial));
    }
  }
}

TEST(BatchNormFast, BackwardUBeyondInt64IsAnErrorInBoth) {
  // One channel, two rows of dy = 2^31 - 1 and x̂ = -2^15, N = 1: mg = rdiv(dγ_raw·2^8, 1) ≈ -2^56,
  // so x̂·mg ≈ 2^71 and U leaves int64, an error by the contract (§6.3), not a wrap. With γ = 0
  // (cγ = 0) the wrapped U would vanish from dx: the error must not depend on it.
  const Tensor<int32_t> dy({2, 1}, std::vector<int32_t>{kMax32, kMax32}, -20);
  const Tensor<int16_t> xhat({2, 1}, std::vector<int16_t>{-32768, -32768}, -7);
  const std::vector<uint8_t> keep(2, 1);
  BnStats s;
  s.count = 1;
  s.input_shift = 1;
  s.mean = {0};
  s.sigma = {1};
  bn_fill_reciprocals(s);
  for (int16_t g : {1, 0}) {
    const Tensor<int16_t> gamma({1}, std::vector<int16_t>{g}, -7);
    EXPECT_THROW(bn_backward(dy, xhat, gamma, s), std::overflow_error) << "gamma " << g;
    for (int mode : simd_modes()) {
      set_simd_mode(mode);
      EXPECT_THROW(bn_backward_fast(dy, xhat, gamma, s), std::overflow_error) << "gamma " << g << " simd " << mode;
      EXPECT_THROW(bn_relu_backward_fast(dy, keep, xhat, gamma, s), std::overflow_error) << "gamma " << g;
    }
  }
}

TEST(BatchNormFast, BadInputsAreRejectedLikeTheReference) {
  EXPECT_THROW(bn_batch_statistics_fast(Tensor<int32_t>({2, 1}, -16)), std::invalid_argument);
  EXPECT_THROW(bn_batch_statistics_fast(Tensor<int32_t>({2, 1}, 1)), std::invalid_argument);
  EXPECT_THROW(bn_batch_statistics_fast(Tensor<int32_t>({4}, -14)), std::invalid_argument);
  const Tensor<int32_t> x({2, 3}, -14);
  const BnStats s = bn_batch_statistics_fast(x);
  const Tensor<int16_t> p2({2}, -7), p3({3}, -7);
  EXPECT_THROW(bn_forward_fast(x, s, p2, p3), std::invalid_argument);
  EXPECT_THROW(bn_relu_forward_fast(Tensor<int32_t>({2, 3}, -15), s, p3, p3), std::invalid_argument);
  EXPECT_THROW(bn_backward_fast(x, Tensor<int16_t>({3, 2}, -7), p3, s), std::invalid_argument);
  EXPECT_THROW(bn_relu_backward_fast(x, std::vector<uint8_t>(5), Tensor<int16_t>({2, 3}, -7), p3, s),
               std::invalid_argument);
  EXPECT_THROW(relu_quantize_fast(Tensor<int32_t>({4}, -15)), std::invalid_argument);
  EXPECT_THROW(relu_backward_fast(Tensor<int32_t>({4}, -15), std::vector<uint8_t>(3)), std::invalid_argument);
}

TEST(ReluFast, QuantizeAndMaskMatchTheReferenceOnCornerValues) {
  // Every value around 0 and 255·2^7, every rounding tie (k·2^7 + 2^6) and its neighbours, the int32 ends.
  std::vector<int32_t> values;
  for (int32_t v = -1000; v <= 1000; ++v) values.push_back(v);
  for (int32_t v = 255 * 128 - 1000; v <= 255 * 128 + 1000; ++v) values.push_back(v);
  for (int32_t k = -2; k <= 260; ++k)
    for (int32_t d = -2; d <= 2; ++d) values.push_back(k * 128 + 64 + d);
  for (int32_t d = 0; d < 300; ++d) {
    values.push_back(kMin32 + d);
    values.push_back(kMax32 - d);
  }
  const unsigned seed = 1005;
  std::printf("seed=%u\n", seed);
  std::mt19937_64 gen(seed);
  for (int k = 0; k < 5000; ++k) values.push_back(static_cast<int32_t>(uniform(gen, kMin32, kMax32)));
  for (int mode : simd_modes()) {
    set_simd_mode(mode);
    // Several lengths and offsets, so that every value meets both the vector body and the tail.
    for (size_t off = 0; off < 9; ++off) {
      const std::vector<int32_t> v(values.begin() + static_cast<long>(off), values.end());
      const Tensor<int32_t> y({static_cast<int64_t>(v.size())}, v, -14);
      const ReluForward ref = relu_quantize(y);
      for (int threads : {1, 2, 3}) {
        const ReluForward f = relu_quantize_fast(y, threads);
        expect_same(f.a, ref.a, "simd " + std::to_string(mode));
        ASSERT_EQ(f.mask, ref.mask);
      }
    }
  }
}

TEST(ReluFast, BackwardMaskMatchesTheReference) {
  const unsigned seed = 1006;
  std::printf("seed=%u\n", seed);
  std::mt19937_64 gen(seed);
  const auto modes = simd_modes();
  for (int trial = 0; trial < kTrials; ++trial) {
    const int64_t n = trial % 50 == 0 ? uniform(gen, 30000, 100000) : uniform(gen, 1, 200);
    const auto e1 = random_tensor<int32_t>(gen, {n}, kMin32, kMax32, static_cast<int>(uniform(gen, -30, 0)));
    std::vector<uint8_t> mask(static_cast<size_t>(n));
    for (auto& m : mask) m = static_cast<uint8_t>(uniform(gen, 0, 1) ? 0 : uniform(gen, 1, 255));
    const Tensor<int32_t> ref = relu_backward(e1, mask);
    for (int mode : modes) {
      set_simd_mode(mode);
      for (int threads : thread_counts(trial))
        expect_same(relu_backward_fast(e1, mask, threads), ref, "trial " + std::to_string(trial));
    }
  }
}
