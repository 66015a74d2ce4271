// Measured cycle counts against the documented formulas (shift_quantizer_cycles.h mirrors
// docs/architecture.md), for many sizes and every mode, back to back without reset.
#include <gtest/gtest.h>

#include "testbench/rtl/shift_quantizer_check.h"
#include "testbench/rtl/shift_quantizer_cycles.h"
#include "testbench/rtl/shift_quantizer_gen.h"

using namespace octet::tb;

TEST(SqCycles, FullThroughputMatchesTheDocumentedFormulas) {
  const uint64_t seed = test_seed();
  std::mt19937_64 g(seed);
  SqHarness h;
  const int64_t sizes[] = {1, 2, kLanes - 1, kLanes, kLanes + 1, 2 * kLanes, 3 * kLanes + 1, 100, 1000, 4097};
  for (const SqMode mode : {SqMode::kDirect, SqMode::kShift, SqMode::kConst, SqMode::kFlag}) {
    for (const int64_t n : sizes) {
      if (n < 1) continue;
      SqCase c;
      c.seed = seed;
      c.name = std::string("cycles ") + mode_name(mode) + " n=" + std::to_string(n);
      c.cfg = random_config(g, mode);
      c.x = random_tensor(g, n);
      const SqCheck res = run_and_check(h, c);
      ASSERT_TRUE(res.ok) << c.name;
      const SqCycleModel want = sq_cycle_model(n, kLanes, kDepth, mode != SqMode::kDirect);
      const SqRun& r = res.run;
      EXPECT_EQ(r.first_pass2_in, want.first_pass2_in) << c.name;
      EXPECT_EQ(r.first_out, want.first_out) << c.name;
      EXPECT_EQ(r.last_out, want.last_out) << c.name;
      EXPECT_EQ(r.next_cfg, want.next_cfg) << c.name;
      // One beat per cycle in pass 2, and every beat takes exactly the pipeline depth.
      EXPECT_EQ(r.last_pass2_in - r.first_pass2_in + 1, static_cast<uint64_t>((n + kLanes - 1) / kLanes)) << c.name;
      EXPECT_EQ(r.min_latency, static_cast<uint64_t>(kDepth)) << c.name;
      EXPECT_EQ(r.max_latency, static_cast<uint64_t>(kDepth)) << c.name;
    }
  }
}

// Fused (max |x| with the configuration): one pass, B + 6 cycles to the last output, the
// values as in two passes (run_and_check compares them with the golden).
TEST(SqCycles, FusedIsOnePass) {
  const uint64_t seed = test_seed();
  std::mt19937_64 g(seed);
  SqHarness h;
  const int64_t sizes[] = {1, 2, kLanes - 1, kLanes, kLanes + 1, 2 * kLanes, 3 * kLanes + 1, 100, 1000, 4097};
  for (const SqMode mode : {SqMode::kShift, SqMode::kConst, SqMode::kFlag}) {
    for (const int64_t n : sizes) {
      if (n < 1) continue;
      SqCase c;
      c.seed = seed;
      c.name = std::string("fused cycles ") + mode_name(mode) + " n=" + std::to_string(n);
      c.cfg = random_config(g, mode);
      c.cfg.fused = true;
      c.x = random_tensor(g, n);
      const SqCheck res = run_and_check(h, c);
      ASSERT_TRUE(res.ok) << c.name;
      const SqCycleModel want = sq_cycle_model(n, kLanes, kDepth, true, true);
      const SqRun& r = res.run;
      EXPECT_EQ(r.first_pass2_in, want.first_pass2_in) << c.name;
      EXPECT_EQ(r.last_out, want.last_out) << c.name;
      EXPECT_EQ(r.last_out, static_cast<uint64_t>((n + kLanes - 1) / kLanes + 6)) << c.name;
      EXPECT_EQ(r.next_cfg, want.next_cfg) << c.name;
      EXPECT_EQ(r.min_latency, static_cast<uint64_t>(kDepth)) << c.name;
      EXPECT_EQ(r.max_latency, static_cast<uint64_t>(kDepth)) << c.name;
    }
  }
}

// The fused unit takes r from the given maximum, not from the data: a maximum of 2^20 on
// small values gives r = 20.
TEST(SqCycles, FusedUsesTheGivenMaximum) {
  const uint64_t seed = test_seed();
  std::mt19937_64 g(seed);
  SqHarness h;
  SqCase c;
  c.seed = seed;
  c.cfg = random_config(g, SqMode::kShift);
  c.cfg.fused = true;
  c.cfg.fused_max = int64_t{1} << 20;
  c.x = {3, -5, 7, 1, 0, 2};
  const SqRun r = h.run(c.cfg, c.x);
  EXPECT_TRUE(r.protocol_error.empty()) << r.protocol_error;
  EXPECT_EQ(r.scale_log2, 20);
}

// With gaps and stalls a tensor can only take longer, never shorter.
TEST(SqCycles, StallsOnlyAddCycles) {
  const uint64_t seed = test_seed();
  std::mt19937_64 g(seed);
  SqHarness h;
  for (int i = 0; i < 40; ++i) {
    const SqMode mode = static_cast<SqMode>(i % 4);
    SqCase c;
    c.seed = seed;
    c.name = "stalled cycles #" + std::to_string(i);
    c.cfg = random_config(g, mode);
    c.x = random_tensor(g, random_size(g));
    c.timing = {0.2, 0.2, g()};
    const SqCheck res = run_and_check(h, c);
    ASSERT_TRUE(res.ok) << c.name;
    const auto want = sq_cycle_model(c.x.size(), kLanes, kDepth, mode != SqMode::kDirect);
    EXPECT_GE(res.run.next_cfg, want.next_cfg) << c.name;
    EXPECT_GE(res.run.min_latency, static_cast<uint64_t>(kDepth)) << c.name;
  }
}
