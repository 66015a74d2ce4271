// Hand-computed quantizer cases: ties, clipping, zero and all-equal tensors, a max at
// a power of two, a negative max, and rejected parameters.
#include <gtest/gtest.h>

#include <climits>

#include "golden/quantizers.h"
#include "golden/quantizers_fast.h"
#include "golden/trainer.h"

using namespace octet::golden;

namespace {
Tensor<int64_t> vec(std::vector<int64_t> v, int exp) {
  const auto n = static_cast<int64_t>(v.size());
  return Tensor<int64_t>({n}, std::move(v), exp);
}
std::vector<int32_t> payload(const Tensor<int32_t>& t) { return {t.data.begin(), t.data.end()}; }
}  // namespace

TEST(QuantizerCases, DirectTiesRoundToEvenAndWeightsClip) {
  // exp -10, k = 8: payload / 8 on the 2^-7 grid.
  const auto q = direct_quantize(vec({4, 12, 20, -12, -20, 13, 2000, -2000, 1016}, -10), 8, Clip::kSymmetric);
  EXPECT_EQ(q.exp, -7);
  // 0.5->0, 1.5->2, 2.5->2, -1.5->-2, -2.5->-2, 1.625->2, 250->127, -250->-127, 127->127
  EXPECT_EQ(payload(q), (std::vector<int32_t>{0, 2, 2, -2, -2, 2, 127, -127, 127}));
  // Without the clip the grid value is kept.
  EXPECT_EQ(direct_quantize(vec({2000}, -10), 8, Clip::kStorage).data[0], 250);
  // Coarser input than the grid: an exact left shift.
  EXPECT_EQ(direct_quantize(vec({3}, 0), 8, Clip::kStorage).data[0], 3 * 128);
}

TEST(QuantizerCases, ShiftQuantizerHandComputed) {
  // max 1000: log2 1000 = 9.97 -> R = 2^10; k = 8 keeps payload / 2^3.
  const auto q = shift_quantize(vec({1000, -333, 5, 6, 4, 12, 20, -20}, -10), 8);
  EXPECT_EQ(q.exp, -10 + 3);
  EXPECT_EQ(payload(q), (std::vector<int32_t>{125, -42, 1, 1, 0, 2, 2, -2}));
}

TEST(QuantizerCases, ShiftQuantizerClipsAndHandlesPowerOfTwoAndNegativeMax) {
  // 1400: log2 = 10.45 -> R = 2^10, 1400/8 = 175 -> clipped to 127 (Octet clips E1 to a true int8).
  EXPECT_EQ(shift_quantize(vec({1400, 8}, 0), 8).data, (std::vector<int32_t>{127, 1}));
  // Max exactly at a power of two: 1024 / 8 = 128 -> 127.
  EXPECT_EQ(shift_quantize(vec({1024, 3}, 0), 8).data, (std::vector<int32_t>{127, 0}));
  // Negative max.
  const auto neg = shift_quantize(vec({-1024, 512, -4}, 0), 8);
  EXPECT_EQ(neg.data, (std::vector<int32_t>{-127, 64,0}));
  EXPECT_EQ(neg.exp, 3);
  // Just below sqrt(2)*2^7 (181) the scale is 2^7, at 182 it is 2^8.
  EXPECT_EQ(shift_quantize(vec({181}, 0), 8).exp, 0);
  EXPECT_EQ(shift_quantize(vec({182}, 0), 8).exp, 1);
}

TEST(QuantizerCases, AllEqualAndZeroTensors) {
  // All equal 5: R = 2^round(2.32) = 4; 5/4 * 128 = 160 -> 127 at exponent -5.
  const auto eq = shift_quantize(vec({5, 5, 5}, 0), 8);
  EXPECT_EQ(eq.data, (std::vector<int32_t>{127, 127, 127}));
  EXPECT_EQ(eq.exp, -5);
  // An all-zero tensor uses r = 0: zeros out, no division by zero, no exception.
  const auto z = vec({0, 0, 0, 0}, -9);
  EXPECT_EQ(shift_quantize(z, 8).data, (std::vector<int32_t>(4, 0)));
  EXPECT_EQ(shift_quantize(z, 8).exp, -9 - 7);
  EXPECT_EQ(flag_quantize(z, 8).data, (std::vector<int32_t>(4, 0)));
  EXPECT_EQ(flag_quantize(z, 8).exp, -9 - 14);
  CqParams p;
  EXPECT_EQ(constant_factor_quantize(z, p).data, (std::vector<int32_t>(4, 0)));
  EXPECT_EQ(constant_factor_quantize(z, p).exp, -14);
}

// G has s + 1 bits (docs/numerics.md §1, §4.3, [D20]): int8 at the default s = 7, int16 at the
// largest s a schedule accepts (15). Max 2^20 gives r = 20: 2^20 scales to 2^s and clips to
// 2^s - 1; (2^s - 1) · 2^(20-s) is exactly 2^s - 1, no randomness involved.
TEST(QuantizerCases, GradientWidthIsScalePlusOneBitsUpToTheScheduleLimit) {
  for (int s : {7, 15}) {
    CqParams p;
    p.log2_scale = s;
    p.key = make_stream_key(1, 1, 1);
    const int64_t top = (int64_t{1} << s) - 1;
    const auto q = constant_factor_quantize(vec({1 << 20, -(1 << 20), top << (20 - s)}, 0), p);
    EXPECT_EQ(q.data, (std::vector<int32_t>{static_cast<int32_t>(top), static_cast<int32_t>(-top), static_cast<int32_t>(top)}))
        << "s=" << s;
  }
  EXPECT_EQ(parse_schedule("0:26:15:0.1")[0].gscale_log2, 15);
  EXPECT_ANY_THROW(parse_schedule("0:26:16:0.1"));
  EXPECT_ANY_THROW(parse_schedule("0:26:0:0.1"));
}

TEST(QuantizerCases, ConstantFactorExactAndClipped) {
  CqParams p;
  p.log2_scale = 3;  // g_scale 8
  p.key = make_stream_key(1, 1, 1);
  // max 200 -> r = 8; drop 5 bits: 96/32 = 3 exactly, no randomness involved.
  const auto q = constant_factor_quantize(vec({96, -64, 0, 200}, -20), p);
  EXPECT_EQ(q.data[0], 3);
  EXPECT_EQ(q.data[1], -2);
  EXPECT_EQ(q.data[2], 0);
  EXPECT_TRUE(q.data[3] == 6 || q.data[3] == 7);  // 6.25 rounds stochastically
  EXPECT_EQ(q.exp, -14);
  // 256/32 = 8 is clipped to g_scale - 1 = 7; -256 to -7.
  EXPECT_EQ(constant_factor_quantize(vec({256, -256}, 0), p).data, (std::vector<int32_t>{7, -7}));
  // Ternary with g_scale 2.
  p.log2_scale = 1;
  for (int32_t v : constant_factor_quantize(vec({1000, -999, 3, -1, 0}, 0), p).data) EXPECT_LE(std::abs(v), 1);
}

TEST(QuantizerCases, FlagQuantizerFineCoarseAndCarry) {
  // max 1000 -> r = 10, k = 8: coarse unit 2^3, fine unit 2^-4 (payload in fine units).
  const auto q = flag_quantize(vec({1000, 3, -7, 0, 8, 12, 1020}, 0), 8);
  EXPECT_EQ(q.exp, 10 - 14);
  // 1000 -> coarse 125 (16000 fine); 3 -> fine 48; -7 -> -112; 8 -> coarse 1 (128);
  // 12 -> 1.5 coarse -> 2 (256); 1020 -> 127.5 -> 128 -> clipped 127 (16256).
  EXPECT_EQ(q.data, (std::vector<int32_t>{16000, 48, -112, 0, 128, 256, 16256}));
  // Fine values that round up to 2^(k-1) fine units are the coarse value 1.
  const auto carry = flag_quantize(vec({int64_t{1} << 20, 8191, 8159}, 0), 8);  // r = 20, coarse 2^13, fine 2^6
  EXPECT_EQ(carry.data[1], 128);   // 127.98 fine units -> 128
  EXPECT_EQ(carry.data[2], 127);   // 127.48 -> 127
  const FlagCode c = flag_encode(carry.data[1], 8);
  EXPECT_FALSE(c.fine);
  EXPECT_EQ(c.value, 1);
  EXPECT_TRUE(flag_encode(127, 8).fine);
  EXPECT_THROW(flag_encode(129, 8), std::invalid_argument);      // neither grid
  EXPECT_THROW(flag_encode(128 * 128, 8), std::invalid_argument);  // coarse 128 > 127
}

TEST(QuantizerCases, BadParametersAreRejected) {
  const auto x = vec({1, 2, 3}, 0);
  for (int k : {-1, 0, 1, 32, 40}) {
    EXPECT_THROW(direct_quantize(x, k, Clip::kSymmetric), std::invalid_argument) << k;
    EXPECT_THROW(shift_quantize(x, k), std::invalid_argument) << k;
    EXPECT_THROW(flag_quantize(x, k), std::invalid_argument) << k;
  }
  EXPECT_THROW(flag_quantize(x, 17), std::invalid_argument);
  try {
    shift_quantize(x, 0);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "shift_quantize: bit-width k=0 outside the supported range [2, 31]");
  }
  CqParams p;
  p.log2_scale = 0;
  EXPECT_THROW(constant_factor_quantize(x, p), std::invalid_argument);
  p.log2_scale = 31;
  EXPECT_THROW(constant_factor_quantize(x, p), std::invalid_argument);
  const Tensor<int64_t> empty;
  EXPECT_THROW(shift_quantize(empty, 8), std::invalid_argument);
  EXPECT_THROW(direct_quantize(empty, 8, Clip::kSymmetric), std::invalid_argument);
  EXPECT_THROW(constant_factor_quantize(empty, CqParams{}), std::invalid_argument);
  EXPECT_THROW(flag_quantize(empty, 8), std::invalid_argument);
  EXPECT_THROW(Tensor<int64_t>({2, 0}, 0), std::invalid_argument);
  EXPECT_THROW(Tensor<int64_t>({2, 2}, std::vector<int64_t>(3), 0), std::invalid_argument);
}

TEST(QuantizerCases, ExtremePayloadsDoNotWrap) {
  const int64_t lo = std::numeric_limits<int64_t>::min();
  const int64_t hi = std::numeric_limits<int64_t>::max();
  const auto s = shift_quantize(vec({lo, hi, 0}, 0), 8);
  EXPECT_EQ(s.data, (std::vector<int32_t>{-127, 127, 0}));  // |min| = 2^63 exactly: 128 -> 127
  EXPECT_EQ(s.exp, 63 - 7);
  // A huge left shift saturates at the clip instead of wrapping.
  EXPECT_EQ(direct_quantize(vec({hi, lo}, 40), 8, Clip::kStorage).data,
            (std::vector<int32_t>{std::numeric_limits<int32_t>::max(), std::numeric_limits<int32_t>::min()}));
}

TEST(QuantizerCases, ExponentsAtTheEndsOfIntDoNotWrap) {
  // in_exp - out_exp leaves int (it wrapped before): 1 at 2^INT_MAX on the grid 2^INT_MIN saturates,
  // and 2^62 at 2^INT_MIN on the grid 2^INT_MAX rounds to 0.
  EXPECT_EQ(requantize_element(1, INT_MAX, INT_MIN, -127, 127), 127);
  EXPECT_EQ(requantize_element(-1, INT_MAX, INT_MIN, -127, 127), -127);
  EXPECT_EQ(requantize_element(int64_t{1} << 62, INT_MIN, INT_MAX, -127, 127), 0);
  EXPECT_EQ(direct_quantize(vec({1, -1, 0}, INT_MAX), 8, Clip::kSymmetric).data, (std::vector<int32_t>{127, -127, 0}));
  // An output exponent outside int cannot be represented: refused, by the reference and the fast kernels.
  const auto big = vec({int64_t{1} << 20}, INT_MAX);  // exponent INT_MAX + 20 - 7
  const auto small = vec({1}, INT_MIN);                // exponent INT_MIN + 0 - 14 (flag, k = 8)
  EXPECT_THROW(shift_quantize(big, 8), std::overflow_error);
  EXPECT_THROW(shift_quantize_fast(big, 8), std::overflow_error);
  EXPECT_THROW(flag_quantize(small, 8), std::overflow_error);
  EXPECT_THROW(flag_quantize_fast(small, 8), std::overflow_error);
  // At the edge itself the exponent is exact.
  EXPECT_EQ(shift_quantize(vec({1 << 7}, INT_MAX), 8).exp, INT_MAX);  // r = 7: INT_MAX + 7 - 7
  EXPECT_EQ(flag_quantize(vec({1 << 14}, INT_MIN), 8).exp, INT_MIN);  // r = 14: INT_MIN + 14 - 14
}
