// The integer softmax at many classes (docs/numerics.md §7.1): the documented bound
// |p - p_float| <= 0.003·p_float + 2^-14 against a double reference at 10 ... 65,536 classes, on
// adversarial logits (long tails at and just below the rounding thresholds, all-equal logits, one
// dominant logit, the extremes of the int32 range and of the logit exponent), and the error output.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>

#include "golden/loss.h"
#include "random_tensors.h"

using namespace octet::golden;
using namespace octet::testing;

namespace {

// Logit payload offset u (on 2^-14) whose base-2 exponent rounds to exactly -w/256, i.e. whose
// unnormalised probability is 2^(-w/256): the nearest u to -w/256 · 2^21 / 47274 (§7.1).
int32_t logit_for_log2_step(int64_t w) { return static_cast<int32_t>(-std::llround(w * 2097152.0 / 47274.0)); }

// Checks every probability of every row against the float softmax and the error against its definition.
void expect_within_bound(const Tensor<int32_t>& z, const std::vector<Label>& labels, const std::string& what) {
  const SoftmaxLoss L = softmax_cross_entropy(z, labels);
  const int64_t B = z.shape[0], C = z.shape[1];
  ASSERT_EQ(L.prob.exp, -15);
  ASSERT_EQ(L.error.exp, -23);
  std::vector<double> e(static_cast<size_t>(C));
  for (int64_t b = 0; b < B; ++b) {
    double zmax = -1e300, denom = 0;
    for (int64_t i = 0; i < C; ++i) zmax = std::max(zmax, std::ldexp(static_cast<double>(z.data[b * C + i]), z.exp));
    for (int64_t i = 0; i < C; ++i)
      denom += (e[i] = std::exp(std::ldexp(static_cast<double>(z.data[b * C + i]), z.exp) - zmax));
    for (int64_t i = 0; i < C; ++i) {
      const double p = e[i] / denom;
      const double got = std::ldexp(L.prob.data[b * C + i], -15);
      ASSERT_LE(std::abs(got - p), 0.003 * p + std::ldexp(1.0, -14))
          << what << ": C=" << C << " row " << b << " class " << i << " p=" << got << " float " << p;
      const int64_t g = L.prob.data[b * C + i] - (i == labels[b] ? 32768 : 0);
      ASSERT_EQ(L.error.data[b * C + i], static_cast<int64_t>(std::nearbyint(g * 256.0 / static_cast<double>(B))))
          << what << ": C=" << C << " row " << b << " class " << i;
    }
  }
}

const int64_t kClassCounts[] = {10, 100, 1000, 10000, kMaxClasses};

}  // namespace

// One logit at the maximum and C-1 equal tail logits, for tail levels 2^(-w/256) swept across the
// range where tails matter, and at and around both rounding thresholds: half a unit of 2^-15 (where
// the 2^-15-rounded p~ of the first scheme dropped every tail term: 1000 terms at 2^-16·(1-2^-9)
// summed to 0.015 but contributed 0) and half a unit of 2^-31 (where the present p~ drops them).
TEST(SoftmaxClasses, LongTailsAtAndBelowRoundingThresholds) {
  for (int64_t C : kClassCounts) {
    std::vector<int64_t> steps;
    for (int64_t w = 0; w <= 40 * 256; w += C > 1000 ? 211 : 61) steps.push_back(w);
    for (int64_t n : {15, 16, 17, 31, 32, 33})
      for (int64_t d = -3; d <= 3; ++d) steps.push_back(n * 256 + d);
    for (int64_t w : steps) {
      Tensor<int32_t> z({2, C}, -14);  // row 0: label at the maximum; row 1: label in the tail
      for (int64_t i = 1; i < C; ++i) z.data[i] = z.data[C + i] = logit_for_log2_step(w);
      expect_within_bound(z, {0, static_cast<Label>(C - 1)}, "tail w=" + std::to_string(w));
    }
  }
}

// The first scheme's failure, by hand: 999 tail terms each just below 2^-16 (w = 16·256 + 2).
// Float: p_max = 1 / (1 + 999 · 2^-(16 + 2/256)) = 0.98498; the 2^-15-rounded sum gave p_max = 1.
TEST(SoftmaxClasses, ThousandClassTailIsNotLost) {
  Tensor<int32_t> z({1, 1000}, -14);
  for (int64_t i = 1; i < 1000; ++i) z.data[i] = logit_for_log2_step(16 * 256 + 2);
  const SoftmaxLoss L = softmax_cross_entropy(z, {0});
  const double expect = 1.0 / (1.0 + 999.0 * std::exp2(-16.0 - 2.0 / 256.0));
  EXPECT_NEAR(L.prob.data[0] / 32768.0, expect, 0.003 * expect + std::ldexp(1.0, -14));
  EXPECT_LT(L.prob.data[0], 32768 - 400);  // 1 - 0.985 = 0.015 = 492 units of 2^-15
}

// All logits equal: p = 1/C exactly in float. At C = 2^16, p~ = 2^31 each, the sum is 2^47 (the
// largest the scheme reaches) and p = rdiv(2^46, 2^47) = 1/2 unit: a tie, rounded to the even 0.
TEST(SoftmaxClasses, AllEqualLogits) {
  for (int64_t C : kClassCounts)
    for (int32_t v : {int32_t{0}, INT32_MIN, INT32_MAX, int32_t{-123456}}) {
      Tensor<int32_t> z({2, C}, -14);
      std::fill(z.data.begin(), z.data.end(), v);
      expect_within_bound(z, {0, static_cast<Label>(C - 1)}, "equal " + std::to_string(v));
    }
  Tensor<int32_t> z({1, kMaxClasses}, -14);
  const SoftmaxLoss L = softmax_cross_entropy(z, {65535});
  EXPECT_EQ(L.prob.data[0], 0);
  EXPECT_EQ(L.prob.data[65535], 0);
  EXPECT_EQ(L.error.data[65535], -32768 * 256);
}

// One dominant logit at the int32 maximum, the rest at the minimum (|u| = 2^32 - 1), at the
// largest and a very small logit exponent, and one dominant logit over a tail spread below it.
TEST(SoftmaxClasses, DominantLogitAndExtremesOfRangeAndExponent) {
  for (int64_t C : kClassCounts)
    for (int e : {7, 0, -14, -30, -60}) {
      Tensor<int32_t> z({1, C}, e);
      std::fill(z.data.begin(), z.data.end(), INT32_MIN);
      z.data[C / 2] = INT32_MAX;
      expect_within_bound(z, {static_cast<Label>(C / 2)}, "dominant, e=" + std::to_string(e));
      expect_within_bound(z, {0}, "dominant, label elsewhere, e=" + std::to_string(e));
      Tensor<int32_t> ramp({1, C}, e);  // a tail from 0 down to the int32 minimum
      for (int64_t i = 0; i < C; ++i) ramp.data[i] = static_cast<int32_t>(INT32_MAX - i * (int64_t{UINT32_MAX} / C));
      expect_within_bound(ramp, {static_cast<Label>(C - 1)}, "ramp, e=" + std::to_string(e));
    }
}

// Random rows: a few large logits over many small ones, at several spreads and exponents.
TEST(SoftmaxClasses, RandomTailsAgainstFloat) {
  const unsigned seed = 4242;
  std::printf("seed=%u\n", seed);
  std::mt19937_64 gen(seed);
  for (int64_t C : kClassCounts)
    for (int trial = 0; trial < 6; ++trial) {
      const int e = static_cast<int>(uniform(gen, -20, -10));
      const int64_t spread = int64_t{1} << uniform(gen, 2, 30);
      const int64_t B = 2;
      Tensor<int32_t> z = random_tensor<int32_t>(gen, {B, C}, -spread, 0, e);
      for (int k = 0; k < 3; ++k) z.data[static_cast<size_t>(uniform(gen, 0, B * C - 1))] = static_cast<int32_t>(uniform(gen, 0, spread));
      std::vector<Label> labels(B);
      for (auto& l : labels) l = static_cast<Label>(uniform(gen, 0, C - 1));
      expect_within_bound(z, labels, "random trial " + std::to_string(trial) + " e=" + std::to_string(e));
    }
}

TEST(SoftmaxClasses, RejectsUnsupportedClassCounts) {
  EXPECT_THROW(softmax_cross_entropy(Tensor<int32_t>({1, kMaxClasses + 1}, -14), {0}), std::invalid_argument);
  EXPECT_THROW(softmax_cross_entropy(Tensor<int32_t>({1, 0}, -14), {0}), std::invalid_argument);
  EXPECT_THROW(softmax_cross_entropy(Tensor<int32_t>({1, 300}, -14), {300}), std::invalid_argument);
}
