// Integer helpers against independent expectations: float math where it is exact,
// defining inequalities (r^2 <= m < (r+1)^2), and hand-computed cases.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "golden/int_math.h"

using namespace octet::golden;

TEST(IntMath, RoundLog2HandCases) {
  EXPECT_EQ(round_log2(1), 0);
  EXPECT_EQ(round_log2(2), 1);
  EXPECT_EQ(round_log2(3), 2);    // log2 3 = 1.585
  EXPECT_EQ(round_log2(5), 2);    // 2.32
  EXPECT_EQ(round_log2(6), 3);    // 2.585
  EXPECT_EQ(round_log2(181), 7);  // 7.4998
  EXPECT_EQ(round_log2(182), 8);  // 7.5078
  EXPECT_EQ(round_log2(uint64_t{1} << 63), 63);
  EXPECT_EQ(round_log2(~uint64_t{0}), 64);
  EXPECT_THROW(floor_log2(0), std::invalid_argument);
}

TEST(IntMath, RoundLog2MatchesFloatForSmallIntegers) {
  // Below 2^24 double's log2 is far from any half-integer, so it is an exact oracle.
  for (uint64_t m = 1; m < (uint64_t{1} << 20); ++m) {
    ASSERT_EQ(round_log2(m), static_cast<int>(std::lround(std::log2(static_cast<double>(m))))) << "m=" << m;
    ASSERT_EQ(floor_log2(m), static_cast<int>(std::floor(std::log2(static_cast<double>(m))))) << "m=" << m;
  }
}

TEST(IntMath, RoundLog2SwitchesExactlyAtSqrt2TimesPowerOfTwo) {
  for (int k = 1; k < 63; ++k) {
    // t = floor(2^k * sqrt 2): the last integer below the threshold.
    const uint64_t t = isqrt(static_cast<uint128>(1) << (2 * k + 1));
    ASSERT_EQ(round_log2(t), k) << "k=" << k;
    ASSERT_EQ(round_log2(t + 1), k + 1) << "k=" << k;
  }
}

TEST(IntMath, IsqrtExhaustiveSmall) {
  for (uint64_t m = 0; m < (uint64_t{1} << 20); ++m) {
    const uint64_t r = isqrt(m);
    ASSERT_LE(r * r, m);
    ASSERT_GT((r + 1) * (r + 1), m);
  }
}

TEST(IntMath, IsqrtRandomWide) {
  const unsigned seed = 20261126;
  std::mt19937_64 gen(seed);
  SCOPED_TRACE("seed=" + std::to_string(seed));
  for (int i = 0; i < 200000; ++i) {
    const int bits = 1 + static_cast<int>(gen() % 128);
    uint128 m = (static_cast<uint128>(gen()) << 64) | gen();
    if (bits < 128) m &= (static_cast<uint128>(1) << bits) - 1;
    const uint128 r = isqrt(m);
    ASSERT_LE(r * r, m);
    if (r < ~uint64_t{0}) {
      ASSERT_GT((r + 1) * (r + 1), m);
    }
  }
  EXPECT_EQ(isqrt(~static_cast<uint128>(0)), ~uint64_t{0});
  EXPECT_EQ(isqrt(static_cast<uint128>(1) << 126), uint64_t{1} << 63);
}

TEST(IntMath, ShiftRightRoundHalfEvenMatchesNearbyint) {
  for (int s = 0; s <= 12; ++s)
    for (int64_t x = -5000; x <= 5000; ++x) {
      const double expected = std::nearbyint(std::ldexp(static_cast<double>(x), -s));
      ASSERT_EQ(shift_right_round_half_even(x, s), static_cast<int64_t>(expected)) << x << ">>" << s;
      ASSERT_EQ(shift_right_round_half_even(static_cast<int128>(x), s), static_cast<int128>(expected));
    }
}

TEST(IntMath, ShiftRightHandCases) {
  EXPECT_EQ(shift_right_round_half_even(int64_t{4}, 3), 0);    // 0.5 -> 0
  EXPECT_EQ(shift_right_round_half_even(int64_t{12}, 3), 2);   // 1.5 -> 2
  EXPECT_EQ(shift_right_round_half_even(int64_t{20}, 3), 2);   // 2.5 -> 2
  EXPECT_EQ(shift_right_round_half_even(int64_t{-20}, 3), -2); // -2.5 -> -2
  EXPECT_EQ(shift_right_round_half_even(int64_t{-12}, 3), -2); // -1.5 -> -2
  EXPECT_EQ(shift_right_round_half_even(int64_t{-13}, 3), -2); // -1.625 -> -2
  EXPECT_EQ(shift_right_round_half_even(std::numeric_limits<int64_t>::min(), 64), 0);
  EXPECT_EQ(shift_right_round_half_even(std::numeric_limits<int64_t>::max(), 100), 0);
  EXPECT_THROW(shift_right_round_half_even(int64_t{1}, -1), std::invalid_argument);
}

TEST(IntMath, ShiftRightByWidthMinusOne) {
  // s = width-1, where the remainder mask 2^s - 1 does not fit the signed type (caught by UBSan).
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min(), kMax = std::numeric_limits<int64_t>::max();
  const int64_t half = int64_t{1} << 62;  // 0.5 at s = 63
  EXPECT_EQ(shift_right_round_half_even(kMin, 63), -1);         // exactly -1
  EXPECT_EQ(shift_right_round_half_even(kMax, 63), 1);          // 1 - 2^-63
  EXPECT_EQ(shift_right_round_half_even(half, 63), 0);          // 0.5 -> 0
  EXPECT_EQ(shift_right_round_half_even(half + 1, 63), 1);      // just above 0.5
  EXPECT_EQ(shift_right_round_half_even(-half, 63), 0);         // -0.5 -> 0
  EXPECT_EQ(shift_right_round_half_even(-half - 1, 63), -1);    // just below -0.5
  EXPECT_EQ(shift_right_round_half_even(kMin + half, 63), 0);   // -0.5 -> 0, from below
  EXPECT_EQ(shift_right_round_half_even(kMin + half - 1, 63), -1);
  const int128 half128 = static_cast<int128>(1) << 126;  // 0.5 at s = 127
  const int128 min128 = -half128 - half128;              // -2^127
  EXPECT_TRUE(shift_right_round_half_even(min128, 127) == -1);
  EXPECT_TRUE(shift_right_round_half_even(half128, 127) == 0);
  EXPECT_TRUE(shift_right_round_half_even(half128 + 1, 127) == 1);
  EXPECT_TRUE(shift_right_round_half_even(-half128 - 1, 127) == -1);
}

TEST(IntMath, ShiftLeftIsCheckedNeverWraps) {
  EXPECT_EQ(shift_left_checked(3, 4), 48);
  EXPECT_EQ(shift_left_checked(-3, 60), -3 * (int64_t{1} << 60));
  EXPECT_EQ(shift_left_checked(0, 200), 0);
  EXPECT_THROW(shift_left_checked(4, 61), std::overflow_error);
  EXPECT_THROW(shift_left_checked(-5, 61), std::overflow_error);
  EXPECT_EQ(shift_round_half_even(10, -2), 2);  // 2.5 -> 2
  EXPECT_EQ(shift_round_half_even(10, 2), 40);
}

TEST(IntMath, DivideRoundHalfEvenMatchesNearbyint) {
  for (int64_t b = 1; b <= 300; ++b)
    for (int64_t a = -3000; a <= 3000; ++a) {
      const auto expected = static_cast<int64_t>(std::nearbyint(static_cast<double>(a) / static_cast<double>(b)));
      ASSERT_EQ(divide_round_half_even(a, b), expected) << a << "/" << b;
      ASSERT_EQ(divide_round_half_even(static_cast<int128>(a), static_cast<int128>(b)), expected);
    }
  EXPECT_THROW(divide_round_half_even(int64_t{1}, int64_t{0}), std::invalid_argument);
  EXPECT_THROW(divide_round_half_even(int64_t{1}, int64_t{-3}), std::invalid_argument);
}

TEST(IntMath, NarrowCheckedRejectsOverflow) {
  EXPECT_EQ(narrow_checked(static_cast<int128>(-42), "t"), -42);
  EXPECT_THROW(narrow_checked(static_cast<int128>(1) << 63, "t"), std::overflow_error);
}
