// Handshakes: random input-valid gaps and output-ready de-assertion at several rates, in
// every mode, back to back without reset; the harness checks that every element comes out
// exactly once, in order, with the right lane masks and last flag, and the values are
// compared with the golden (so a lost, duplicated or reordered value fails).
#include <gtest/gtest.h>

#include "testbench/rtl/shift_quantizer_check.h"
#include "testbench/rtl/shift_quantizer_gen.h"

using namespace octet::tb;

TEST(SqStream, BackPressureAndInputGaps) {
  const uint64_t seed = test_seed();
  std::mt19937_64 g(seed);
  SqHarness h;
  int64_t compared = 0;
  const double rates[] = {0.0, 0.1, 0.5, 0.9};
  for (const double gap : rates) {
    for (const double stall : rates) {
      for (const SqMode mode : {SqMode::kDirect, SqMode::kShift, SqMode::kConst, SqMode::kFlag}) {
        SqCase c;
        c.seed = seed;
        c.name = std::string("stream ") + mode_name(mode) + " gap=" + std::to_string(gap) +
                 " stall=" + std::to_string(stall);
        c.cfg = random_config(g, mode);
        c.x = random_tensor(g, 1 + static_cast<int64_t>(g() % 700));
        c.timing = {gap, stall, g()};
        const SqCheck res = run_and_check(h, c);
        ASSERT_TRUE(res.ok) << c.name;
        compared += res.compared;
      }
    }
  }
  std::printf("compared %lld values\n", static_cast<long long>(compared));
}

// The same tensor with and without stalls gives identical results (stalls move no data).
TEST(SqStream, StallsDoNotChangeResults) {
  const uint64_t seed = test_seed();
  std::mt19937_64 g(seed);
  SqHarness h;
  for (const SqMode mode : {SqMode::kDirect, SqMode::kShift, SqMode::kConst, SqMode::kFlag}) {
    SqCase c;
    c.seed = seed;
    c.name = std::string("stall invariance ") + mode_name(mode);
    c.cfg = random_config(g, mode);
    c.x = random_tensor(g, 1 + static_cast<int64_t>(g() % 2000));
    const SqCheck smooth = run_and_check(h, c);
    c.timing = {0.4, 0.6, g()};
    const SqCheck stalled = run_and_check(h, c);
    ASSERT_TRUE(smooth.ok && stalled.ok) << c.name;
    EXPECT_EQ(smooth.run.data, stalled.run.data) << c.name;
    EXPECT_EQ(smooth.run.rand, stalled.run.rand) << c.name;
  }
}
