// The counter-based generator: SplitMix64's published output, purity, key sensitivity, uniformity.
#include <gtest/gtest.h>

#include <array>
#include <cmath>

#include "golden/counter_rng.h"

using namespace octet::golden;

TEST(CounterRng, IndexStreamIsSplitMix64) {
  // SplitMix64 seeded with 0 (state += gamma; output mix64(state)) starts with these
  // published values; our element stream from a zero key must reproduce them.
  const StreamKey zero{0};
  EXPECT_EQ(random_bits(zero, 0), 0xE220A8397B1DCDAFull);
  EXPECT_EQ(random_bits(zero, 1), 0x6E789E6AA1B965F4ull);
  EXPECT_EQ(random_bits(zero, 2), 0x06C45D188009454Full);
}

TEST(CounterRng, PureFunctionOfSeedStepTensorIndex) {
  const StreamKey a = make_stream_key(1, 2, 3);
  const StreamKey b = make_stream_key(1, 2, 3);
  EXPECT_EQ(a.value, b.value);
  for (uint64_t i = 0; i < 1000; ++i) ASSERT_EQ(random_bits(a, i), random_bits(b, i));
  // Changing any coordinate changes the key.
  EXPECT_NE(make_stream_key(2, 2, 3).value, a.value);
  EXPECT_NE(make_stream_key(1, 3, 3).value, a.value);
  EXPECT_NE(make_stream_key(1, 2, 4).value, a.value);
  // Coordinates are not interchangeable.
  EXPECT_NE(make_stream_key(1, 2, 3).value, make_stream_key(3, 2, 1).value);
  EXPECT_NE(make_stream_key(0, 0, 0).value, 0u);
}

TEST(CounterRng, TopBitsAreUniform) {
  // Chi-square of the top 8 bits over 2^20 draws; 255 degrees of freedom.
  const StreamKey key = make_stream_key(7, 0, 1);
  std::array<int64_t, 256> hist{};
  const int64_t n = int64_t{1} << 20;
  for (int64_t i = 0; i < n; ++i) ++hist[random_top_bits(key, static_cast<uint64_t>(i), 8)];
  double chi2 = 0;
  const double expected = static_cast<double>(n) / 256;
  for (int64_t h : hist) chi2 += (h - expected) * (h - expected) / expected;
  // P(chi2_255 > 350) is about 1e-4.
  EXPECT_LT(chi2, 350.0);
  EXPECT_GT(chi2, 170.0);  // suspiciously flat would be just as wrong
}

TEST(CounterRng, EveryBitIsBalanced) {
  const StreamKey key = make_stream_key(11, 5, 9);
  std::array<int64_t, 64> ones{};
  const int n = 1 << 18;
  for (int i = 0; i < n; ++i) {
    const uint64_t r = random_bits(key, static_cast<uint64_t>(i));
    for (int b = 0; b < 64; ++b) ones[b] += (r >> b) & 1;
  }
  const double sigma = std::sqrt(n * 0.25);
  for (int b = 0; b < 64; ++b) EXPECT_LT(std::abs(ones[b] - n / 2.0), 5.5 * sigma) << "bit " << b;
}
