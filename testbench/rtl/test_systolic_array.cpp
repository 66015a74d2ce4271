// The systolic array against the golden GEMMs, element by element, for the array size
// this executable was built for (OCTET_ARRAY_ROWS x OCTET_ARRAY_COLS), plus its cycle
// count against the documented formula on every run.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <string>

#include "sim/array_driver.h"
#include "testbench/rtl/rtl_env.h"
#include "testbench/rtl/training_gemm.h"
#include "octet_params.h"
#include OCTET_ARRAY_HEADER

namespace {

using namespace octet::tb;
using namespace octet::sim;
using Model = OCTET_ARRAY_MODEL;

constexpr int kRows = OCTET_ARRAY_ROWS;
constexpr int kCols = OCTET_ARRAY_COLS;
constexpr int kAccBits = octet::params::kAccW;
constexpr int64_t kGap = std::max(kRows, kCols);  // the array's TileGap
const std::string kSize = std::to_string(kRows) + "x" + std::to_string(kCols);

int64_t draw(std::mt19937_64& rng, int64_t lo, int64_t hi) {
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
}

struct Shape3 {
  int64_t M, K, N;
};

// Sizes that are mostly not multiples of the array, with K = 1 and M = 1 always among them.
Shape3 random_shape(std::mt19937_64& rng, int64_t index, int64_t min_k) {
  Shape3 s{draw(rng, 1, 3 * kRows + 1), 1, draw(rng, 1, 3 * kCols + 1)};
  const int64_t pick = draw(rng, 0, 9);
  if (pick == 0) {
    s.K = 1;
  } else if (pick <= 2) {
    s.K = draw(rng, 2, std::max<int64_t>(2, kGap - 1));
  } else if (pick <= 8) {
    s.K = draw(rng, kGap, 4 * kGap);
  } else {
    s.K = draw(rng, 4 * kGap, 300);
  }
  if (index % 8 == 0) s.M = 1;
  if (index % 8 == 1) s.K = 1;
  if (index % 8 == 2) s.M = 1, s.K = 1;
  s.K = std::max(s.K, min_k);
  return s;
}

struct Totals {
  int64_t gemms = 0, elements = 0;
};

// Runs one GEMM on the array and checks it; on a mismatch reports the first wrong
// element and re-runs the same GEMM with an FST waveform.
void run_and_check(ArrayDriver<Model>& drv, const TrainingGemm& g, unsigned bubbles, uint64_t run_seed,
                   const std::string& tag, Totals& totals) {
  const ArrayGemm ag = to_array(g);
  const ArrayRun run = drv.run(ag, bubbles, run_seed);
  const std::vector<int64_t> expected = golden_result(g);
  const int64_t bad = first_mismatch(expected, run.out);
  if (bad >= 0) {
    const std::string wave = wave_path("systolic_" + kSize + "_" + tag);
    ArrayDriver<Model>(kRows, kCols, kAccBits, wave).run(ag, bubbles, run_seed);
    FAIL() << kSize << " array, " << describe(g) << ", " << tag << ": first mismatch at out[" << bad / g.N << "]["
           << bad % g.N << "]: golden " << expected[static_cast<size_t>(bad)] << ", RTL "
           << run.out[static_cast<size_t>(bad)] << "; waveform " << wave;
  }
  // The drain-path maximum: max |C| of this GEMM (one job), as golden's tensor max.
  uint64_t max_abs = 0;
  for (int64_t v : expected) max_abs = std::max(max_abs, static_cast<uint64_t>(v < 0 ? -v : v));
  EXPECT_EQ(run.max_abs, max_abs) << kSize << " array, " << describe(g) << ", " << tag << ": out_max_o";
  const uint64_t formula = array_gemm_cycles(g.M, g.K, g.N, kRows, kCols);
  EXPECT_EQ(run.cycles, formula + run.bubbles) << describe(g) << ", " << tag << " (bubbles " << run.bubbles << ")";
  if (g.K >= kGap) {
    EXPECT_EQ(run.stalls, 0u) << describe(g) << ", " << tag;
  }
  totals.gemms += 1;
  totals.elements += g.M * g.N;
}

// Random GEMMs of one kind until at least `min_elements` outputs have been compared.
void random_gemms(GemmKind kind, int64_t min_elements, unsigned bubbles, uint64_t salt) {
  const std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  const uint64_t seed = test_seed(test.c_str(), salt);
  std::mt19937_64 rng(seed);
  ArrayDriver<Model> drv(kRows, kCols, kAccBits);
  Totals totals;
  for (int64_t i = 0; totals.elements < min_elements && !::testing::Test::HasFailure(); ++i) {
    const Shape3 s = random_shape(rng, i, bubbles ? kGap : 1);
    const auto style = static_cast<ValueStyle>(draw(rng, 0, 3));
    const TrainingGemm g = make_training_gemm(kind, s.M, s.K, s.N, style, rng);
    run_and_check(drv, g, bubbles, seed + static_cast<uint64_t>(i), test + "_case" + std::to_string(i), totals);
  }
  std::printf("[  volume  ] %s %s: %lld GEMMs, %lld output elements compared\n", kSize.c_str(), kind_name(kind),
              static_cast<long long>(totals.gemms), static_cast<long long>(totals.elements));
}

constexpr int64_t kDefaultElements = 100'000;  // per kind and array size (label rtl)
constexpr int64_t kSlowElements = 2'000'000;   // per kind and array size (label slow)

}  // namespace

TEST(SystolicArray, ForwardRandom) { random_gemms(GemmKind::kForward, kDefaultElements, 0, 1); }
TEST(SystolicArray, BackwardDataRandom) { random_gemms(GemmKind::kBackwardData, kDefaultElements, 0, 2); }
TEST(SystolicArray, WeightGradRandom) { random_gemms(GemmKind::kWeightGrad, kDefaultElements, 0, 3); }

// The feeder idles at random (in_valid low): results unchanged, cycles = formula + idle cycles.
TEST(SystolicArray, RandomBubbles) {
  random_gemms(GemmKind::kWeightGrad, kDefaultElements / 10, 300, 4);
  random_gemms(GemmKind::kBackwardData, kDefaultElements / 10, 300, 5);
}

// Long reductions of extreme operands: large sums reach the upper accumulator bits.
TEST(SystolicArray, LongReductionsOfExtremes) {
  const uint64_t seed = test_seed("LongReductionsOfExtremes", 6);
  std::mt19937_64 rng(seed);
  ArrayDriver<Model> drv(kRows, kCols, kAccBits);
  Totals totals;
  int i = 0;
  for (GemmKind kind : {GemmKind::kForward, GemmKind::kBackwardData, GemmKind::kWeightGrad}) {
    const TrainingGemm g = make_training_gemm(kind, kRows + 1, 5000, kCols - 1 + (kCols == 1), ValueStyle::kExtreme, rng);
    run_and_check(drv, g, 0, seed + static_cast<uint64_t>(i), "long_case" + std::to_string(i), totals);
    ++i;
  }
  // All products equal and maximal: the weight-gradient sum is -5000 * 255 * 127 * 128.
  TrainingGemm g = make_training_gemm(GemmKind::kWeightGrad, kRows, 5000, kCols, ValueStyle::kExtreme, rng);
  for (auto& v : g.a.data) v = 255;
  for (auto& c : g.e.data) c = {-127, false};
  ASSERT_EQ(golden_result(g)[0], -5000LL * 255 * 127 * 128);
  run_and_check(drv, g, 0, seed, "long_uniform", totals);
}

// out_max_o restarts with each job: a GEMM of large negative sums, then smaller GEMMs
// (the last all zero) on the same array; each reports its own maximum, not the running one.
TEST(SystolicArray, DrainMaxRestartsPerJob) {
  const uint64_t seed = test_seed("DrainMaxRestartsPerJob", 7);
  std::mt19937_64 rng(seed);
  ArrayDriver<Model> drv(kRows, kCols, kAccBits);
  Totals totals;
  TrainingGemm big = make_training_gemm(GemmKind::kWeightGrad, 2 * kRows + 1, 300, kCols + 1, ValueStyle::kExtreme, rng);
  for (auto& v : big.a.data) v = 255;
  for (auto& c : big.e.data) c = {-127, false};  // coarse: 127 * 128 fine units
  ASSERT_EQ(golden_result(big)[0], -300LL * 255 * 127 * 128);
  run_and_check(drv, big, 0, seed, "max_big", totals);
  TrainingGemm small = make_training_gemm(GemmKind::kForward, 1, 3, 2, ValueStyle::kUniform, rng);
  run_and_check(drv, small, 0, seed, "max_small", totals);
  TrainingGemm zero = make_training_gemm(GemmKind::kForward, kRows + 2, kGap + 1, 2 * kCols, ValueStyle::kUniform, rng);
  for (auto& v : zero.a.data) v = 0;
  run_and_check(drv, zero, 0, seed, "max_zero", totals);
}

// The drain maximum's high bits: one tile of maximal weight-gradient terms t = 255 * 127 * 128,
// row 0 one term shorter. Row 0's |C| = 530,488 t lies just below 2^41 (bits 29 ... 40 set), the
// other rows' just above (bit 41): max_q takes both (conv1's weight gradient at batch 64 is
// 2^41.6; bits 42 ... 47 are headroom above docs/architecture.md's bound).
TEST(SystolicArray, DrainMaxHighBits) {
  const uint64_t seed = test_seed("DrainMaxHighBits", 8);
  std::mt19937_64 rng(seed);
  ArrayDriver<Model> drv(kRows, kCols, kAccBits);
  Totals totals;
  constexpr int64_t kTerm = 255LL * 127 * 128, kK0 = ((int64_t{1} << 41) - 1) / kTerm, kK = kK0 + 1;
  TrainingGemm g = make_training_gemm(GemmKind::kWeightGrad, kRows, kK, kCols, ValueStyle::kExtreme, rng);
  for (int64_t k = 0; k < kK; ++k)
    for (int64_t m = 0; m < kRows; ++m) g.a.data[static_cast<size_t>(k * kRows + m)] = m == 0 && k >= kK0 ? 0 : 255;
  for (auto& c : g.e.data) c = {-127, false};
  const std::vector<int64_t> c = golden_result(g);
  ASSERT_EQ(c[0], -kK0 * kTerm);
  ASSERT_EQ(c.back(), -kK * kTerm);
  const uint64_t bits = static_cast<uint64_t>(kK0 * kTerm) | static_cast<uint64_t>(kK * kTerm);
  for (int b = 29; b <= 41; ++b) EXPECT_TRUE(bits >> b & 1) << "no maximum sets bit " << b;
  run_and_check(drv, g, 0, seed, "max_high_bits", totals);
}

TEST(SystolicArraySlow, ForwardRandom) { random_gemms(GemmKind::kForward, kSlowElements, 0, 11); }
TEST(SystolicArraySlow, BackwardDataRandom) { random_gemms(GemmKind::kBackwardData, kSlowElements, 0, 12); }
TEST(SystolicArraySlow, WeightGradRandom) { random_gemms(GemmKind::kWeightGrad, kSlowElements, 0, 13); }
TEST(SystolicArraySlow, RandomBubbles) { random_gemms(GemmKind::kForward, kSlowElements / 4, 300, 14); }

// The checker itself: a single corrupted element must be found at its index.
TEST(SystolicArray, CheckerFindsACorruptedElement) {
  std::vector<int64_t> golden{1, 2, 3, 4}, rtl = golden;
  EXPECT_EQ(first_mismatch(golden, rtl), -1);
  rtl[2] ^= int64_t{1} << 40;
  EXPECT_EQ(first_mismatch(golden, rtl), 2);
}
