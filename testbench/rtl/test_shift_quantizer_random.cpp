// Random tensors of many shapes and scales in every mode and several bit-widths, compared
// element by element with the golden quantizers.
#include <gtest/gtest.h>

#include <cstdio>

#include "testbench/rtl/shift_quantizer_check.h"
#include "testbench/rtl/shift_quantizer_gen.h"

using namespace octet::tb;

namespace {
// Values per mode and configuration: 4 modes x 2 configurations x 250k = 2M per run.
constexpr int64_t kValuesPerMode = 250000;

// Each test draws from its own stream of the run seed, so tests do not repeat each other.
std::mt19937_64 generator(uint64_t seed, uint64_t salt) {
  std::seed_seq seq{seed & 0xffffffffu, seed >> 32, salt};
  return std::mt19937_64(seq);
}

void random_mode(SqMode mode, uint64_t salt) {
  const uint64_t seed = test_seed();
  auto g = generator(seed, salt);
  SqHarness h;
  int64_t compared = 0, cases = 0, with_addend = 0, overflows = 0;
  while (compared < kValuesPerMode) {
    SqCase c;
    c.seed = seed;
    c.name = std::string("random ") + mode_name(mode) + " #" + std::to_string(cases);
    c.cfg = random_config(g, mode);
    c.x = random_tensor(g, random_size(g));
    // A quarter of the cases with random input gaps and output stalls.
    if (g() % 4 == 0) c.timing = {0.3, 0.3, g()};
    // A third of the cases fused (max |x| with the configuration, one pass).
    if (mode != SqMode::kDirect && g() % 3 == 0) c.cfg.fused = true;
    // A quarter with the weight-decay addend on the input stream.
    if (g() % 4 == 0) random_addend(g, c);
    const SqCheck res = run_and_check(h, c);
    ASSERT_TRUE(res.ok) << c.name;
    compared += res.compared;
    if (c.cfg.addend) with_addend += res.compared;
    overflows += res.run.overflow ? 1 : 0;
    ++cases;
  }
  std::printf("%s: compared %lld values in %lld tensors (%lld values with an addend; %lld tensors flagged overflow)\n",
              mode_name(mode), static_cast<long long>(compared), static_cast<long long>(cases),
              static_cast<long long>(with_addend), static_cast<long long>(overflows));
}
}  // namespace

TEST(SqRandom, Direct) { random_mode(SqMode::kDirect, 1); }
TEST(SqRandom, Shift) { random_mode(SqMode::kShift, 2); }
TEST(SqRandom, ConstantFactor) { random_mode(SqMode::kConst, 3); }
TEST(SqRandom, Flag) { random_mode(SqMode::kFlag, 4); }

// k = 8 (the paper's width) and a second width in every mode that takes one.
TEST(SqRandom, FixedBitWidths) {
  const uint64_t seed = test_seed();
  auto g = generator(seed, 5);
  SqHarness h;
  int64_t compared = 0;
  for (const int k : {8, 4, 16}) {
    for (const SqMode mode : {SqMode::kShift, SqMode::kFlag, SqMode::kConst}) {
      for (int i = 0; i < 20; ++i) {
        SqCase c;
        c.seed = seed;
        c.name = std::string("k=") + std::to_string(k) + " " + mode_name(mode) + " #" + std::to_string(i);
        c.cfg = random_config(g, mode);
        c.cfg.bits = k;
        c.cfg.log2_scale = k - 1;  // CQ: g_scale = 2^(k-1), the k-bit gradient
        c.x = random_tensor(g, random_size(g));
        const SqCheck res = run_and_check(h, c);
        ASSERT_TRUE(res.ok) << c.name;
        compared += res.compared;
      }
    }
  }
  std::printf("compared %lld values\n", static_cast<long long>(compared));
}
