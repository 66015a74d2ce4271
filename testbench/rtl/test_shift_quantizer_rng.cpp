// The counter-based generator in hardware: out_rand_o of element i equals the golden
// random_bits(make_stream_key(seed, step, tensor), i), and the CQ results built on it match.
// Both verilated configurations (1 and 4 lanes) run this against the same golden index
// function, so the bits do not depend on the lane count.
#include <gtest/gtest.h>

#include "testbench/rtl/shift_quantizer_check.h"
#include "testbench/rtl/shift_quantizer_gen.h"

using namespace octet::tb;

TEST(SqRandomBits, MatchGoldenForManyKeys) {
  const uint64_t seed = test_seed();
  std::mt19937_64 g(seed);
  SqHarness h;
  int64_t compared = 0;
  // docs/numerics.md §3's vector keys, then random ones; sizes that do and do not fill beats.
  std::vector<std::array<uint64_t, 3>> keys = {{0, 0, 0}, {1, 0, 0}, {1, 2, 3}, {51175, 100, 17}};
  for (int i = 0; i < 12; ++i) keys.push_back({g(), g() % 100000, g() % 4096});
  for (const auto& [s, step, tensor] : keys) {
    SqCase c;
    c.seed = seed;
    c.name = "key (" + std::to_string(s) + "," + std::to_string(step) + "," + std::to_string(tensor) + ")";
    c.cfg.mode = SqMode::kConst;
    c.cfg.seed = s;
    c.cfg.step = step;
    c.cfg.tensor = tensor;
    c.cfg.log2_scale = 1 + static_cast<int>(g() % 30);
    c.x = random_tensor(g, 1001 + static_cast<int64_t>(g() % 3000));
    const SqCheck res = run_and_check(h, c);
    ASSERT_TRUE(res.ok) << c.name;
    ASSERT_EQ(res.run.rand.size(), c.x.size());
    compared += res.compared;
  }
  std::printf("compared %lld values and their random bits\n", static_cast<long long>(compared));
}

// A tensor whose dropped fractions are all non-zero, so that every element's rounding
// depends on its random bits, with the key changing from tensor to tensor (back to back).
TEST(SqRandomBits, EveryElementRoundedStochastically) {
  const uint64_t seed = test_seed();
  std::mt19937_64 g(seed);
  SqHarness h;
  for (int t = 0; t < 8; ++t) {
    SqCase c;
    c.seed = seed;
    c.name = "stochastic #" + std::to_string(t);
    c.cfg.mode = SqMode::kConst;
    c.cfg.seed = seed;
    c.cfg.step = static_cast<uint64_t>(t);
    c.cfg.tensor = 17;
    c.cfg.log2_scale = 7;
    c.x.assign(4096, 0);
    for (auto& v : c.x) v = (g() & 1 ? -1 : 1) * static_cast<int64_t>((g() % (int64_t{1} << 30)) | 1);
    c.x[0] = int64_t{1} << 30;  // r = 30: 23 bits dropped
    const SqCheck res = run_and_check(h, c);
    ASSERT_TRUE(res.ok) << c.name;
  }
}
