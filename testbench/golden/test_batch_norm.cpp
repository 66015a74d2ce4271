// Integer batch norm against the float formulas evaluated on the same quantized inputs,
// within the bounds that docs/numerics.md §5.4 and §6.3 state.
#include <gtest/gtest.h>

#include <cmath>

#include "golden/batch_norm.h"
#include "golden/batch_norm_fast.h"
#include "golden/int_math.h"
#include "random_tensors.h"

using namespace octet::golden;
using namespace octet::testing;

namespace {
struct Case {
  Tensor<int32_t> x;
  Tensor<int16_t> gamma, beta;
};

Case random_case(std::mt19937_64& gen, int exp) {
  const int64_t N = uniform(gen, 1, 4), C = uniform(gen, 1, 5), H = uniform(gen, 1, 6), W = uniform(gen, 1, 6);
  const int64_t spread = int64_t{1} << uniform(gen, 0, 22);
  const int64_t centre = uniform(gen, -spread, spread);
  auto x = random_tensor<int32_t>(gen, {N, C, H, W}, centre - spread, centre + spread, exp);
  return {x, random_tensor<int16_t>(gen, {C}, -400, 400, -7), random_tensor<int16_t>(gen, {C}, -400, 400, -7)};
}
}  // namespace

TEST(BatchNorm, StatisticsAreExactlyRounded) {
  const unsigned seed = 31337;
  std::printf("seed=%u\n", seed);
  std::mt19937_64 gen(seed);
  for (int trial = 0; trial < 300; ++trial) {
    const int exp = trial % 3 == 0 ? -15 : -14;
    const Case c = random_case(gen, exp);
    const BnStats s = bn_batch_statistics(c.x);
    const int64_t C = c.x.shape[1], inner = c.x.size() / (c.x.shape[0] * C), N = s.count;
    const int a = exp + 15;
    for (int64_t ch = 0; ch < C; ++ch) {
      int64_t s1 = 0;
      int128 s2 = 0;
      for (int64_t n = 0; n < c.x.shape[0]; ++n)
        for (int64_t j = 0; j < inner; ++j) {
          const int64_t v = c.x.data[(n * C + ch) * inner + j];
          s1 += v;
          s2 += static_cast<int128>(v) * v;
        }
      // Mean: the double quotient is exact enough to be rounded by nearbyint (ties are representable).
      ASSERT_EQ(s.mean[ch], static_cast<int64_t>(std::nearbyint(std::ldexp(static_cast<double>(s1), a) / N)));
      // Std: sigma' - 1 = round(z), z^2 = D 2^(2a) / N^2, checked by exact integer inequalities
      // (2σ-1)^2 N^2 <= 4 D 2^(2a) <= (2σ+1)^2 N^2.
      const int128 D = static_cast<int128>(N) * s2 - static_cast<int128>(s1) * s1;
      const int128 sig = s.sigma[ch] - 1;
      const int128 four_d = (D * 4) << (2 * a);
      const int128 n2 = static_cast<int128>(N) * N;
      ASSERT_TRUE((2 * sig - 1) * (2 * sig - 1) * n2 <= four_d || sig == 0) << "trial " << trial;
      ASSERT_TRUE(four_d <= (2 * sig + 1) * (2 * sig + 1) * n2) << "trial " << trial;
      // Reciprocal: 2^23 <= rho <= 2^24 and within half a unit of 2^(L+24)/sigma'.
      ASSERT_GE(s.recip[ch], int64_t{1} << 23);
      ASSERT_LE(s.recip[ch], int64_t{1} << 24);
      const double exact_recip = std::ldexp(1.0, s.recip_shift[ch] + 24) / static_cast<double>(s.sigma[ch]);
      ASSERT_LE(std::abs(static_cast<double>(s.recip[ch]) - exact_recip), 0.5 + 1e-9);
    }
  }
}

TEST(BatchNorm, StdTieRoundsHalfToEven) {
  // Two values 0 and 1 on 2^-15 (exp -15, a = 0): z = 0.5 exactly -> σ = 0 (even), σ' = 1.
  const Tensor<int32_t> x({2, 1}, {0, 1}, -15);
  EXPECT_EQ(bn_batch_statistics(x).sigma[0], 1);
  // 0 and 3: z = 1.5 -> 2, σ' = 3. Mean 1.5 -> 2 (even).
  const Tensor<int32_t> y({2, 1}, {0, 3}, -15);
  EXPECT_EQ(bn_batch_statistics(y).sigma[0], 3);
  EXPECT_EQ(bn_batch_statistics(y).mean[0], 2);
  // A channel with zero variance: σ' = ε = 1, and x̂ = 0 everywhere.
  const Tensor<int32_t> flat({3, 1}, {77, 77, 77}, -14);
  const BnStats s = bn_batch_statistics(flat);
  EXPECT_EQ(s.sigma[0], 1);
  EXPECT_EQ(s.mean[0], 154);
  const Tensor<int16_t> g({1}, {128}, -7), b({1}, {0}, -7);
  for (int16_t v : bn_forward(flat, s, g, b).xhat.data) EXPECT_EQ(v, 0);
}

// x̂'s rounding rule (docs/numerics.md §5.4): rshift of the product with the 24-bit reciprocal ρ,
// so exact ties of (x - μ)/σ' round half to even only when ρ is exact (σ' a power of two); otherwise
// the reciprocal's rounding error decides. Hand-computed, μ = 0, a = 0, ties at ±0.5, ±1.5, ±2.5:
//   σ' = 2^15:      ρ = 2^24 exactly                         -> 0, 2, 2 (half to even)
//   σ' = 3·2^13:    ρ = rdiv(2^38, 24576) = 11184811 > 2^25/3 -> 1, 2, 3 (away from zero)
//                   e.g. 96·ρ = 1073741856 > 2^30 = 0.5·2^31
//   σ' = 25·2^10:   ρ = rdiv(2^38, 25600) = 10737418 < 2^28/25 -> 0, 1, 2 (toward zero)
//                   e.g. 300·ρ = 3221225400 < 1.5·2^31 = 3221225472
// Golden and fast twin (rows of 18, past the 4- and 8-lane vector loops) agree on every case.
TEST(BatchNorm, XhatTiesFollowTheReciprocalNotHalfToEven) {
  const int64_t sigma[3] = {32768, 24576, 25600};
  const int32_t centred[3][6] = {{128, 384, 640, -128, -384, -640},
                                 {96, 288, 480, -96, -288, -480},
                                 {100, 300, 500, -100, -300, -500}};
  const int16_t expect[3][6] = {{0, 2, 2, 0, -2, -2}, {1, 2, 3, -1, -2, -3}, {0, 1, 2, 0, -1, -2}};
  const int64_t W = 18;
  Tensor<int32_t> x({1, 3, 1, W}, -15);
  BnStats s;
  s.count = W;
  s.input_shift = 0;
  for (int c = 0; c < 3; ++c) {
    s.mean.push_back(0);
    s.sigma.push_back(sigma[c]);
    for (int64_t i = 0; i < W; ++i) x.data[c * W + i] = centred[c][i % 6];
  }
  bn_fill_reciprocals(s);
  EXPECT_EQ(s.recip, (std::vector<int64_t>{1 << 24, 11184811, 10737418}));
  const Tensor<int16_t> gamma({3}, {128, 128, 128}, -7), beta({3}, {0, 0, 0}, -7);
  const BnForward ref = bn_forward(x, s, gamma, beta);
  const BnForward fast = bn_forward_fast(x, s, gamma, beta);
  for (int c = 0; c < 3; ++c)
    for (int64_t i = 0; i < W; ++i) {
      EXPECT_EQ(ref.xhat.data[c * W + i], expect[c][i % 6]) << "σ' " << sigma[c] << " x " << centred[c][i % 6];
      EXPECT_EQ(fast.xhat.data[c * W + i], expect[c][i % 6]) << "fast: σ' " << sigma[c] << " x " << centred[c][i % 6];
    }
}

TEST(BatchNorm, ForwardMatchesFloatWithinTheReciprocalBound) {
  const unsigned seed = 4711;
  std::printf("seed=%u\n", seed);
  std::mt19937_64 gen(seed);
  int64_t compared = 0;
  for (int trial = 0; trial < 200; ++trial) {
    const Case c = random_case(gen, -14);
    const BnStats s = bn_batch_statistics(c.x);
    const BnForward f = bn_forward(c.x, s, c.gamma, c.beta);
    const int64_t C = c.x.shape[1], inner = c.x.size() / (c.x.shape[0] * C);
    for (int64_t i = 0; i < c.x.size(); ++i) {
      const int64_t ch = (i / inner) % C;
      // Float formula on the same quantized μ and σ': (x - μ) / σ' on the 2^-7 grid.
      const double exact = (static_cast<double>(c.x.data[i]) * 2 - static_cast<double>(s.mean[ch])) * 128.0 /
                           static_cast<double>(s.sigma[ch]);
      if (std::abs(exact) > 32767) continue;  // saturated
      ASSERT_LE(std::abs(f.xhat.data[i] - exact), 0.5 + std::abs(exact) * std::ldexp(1.0, -23) + 1e-9)
          << "trial " << trial << " i " << i;
      ASSERT_EQ(f.y.data[i], int64_t{f.xhat.data[i]} * c.gamma.data[ch] + int64_t{c.beta.data[ch]} * 128);
      ++compared;
    }
  }
  std::printf("%lld BN outputs compared\n", static_cast<long long>(compared));
}

TEST(BatchNorm, BackwardMatchesFloatFormulaWithinBound) {
  const unsigned seed = 2718;
  std::printf("seed=%u\n", seed);
  std::mt19937_64 gen(seed);
  for (int trial = 0; trial < 200; ++trial) {
    const Case c = random_case(gen, -14);
    const BnStats s = bn_batch_statistics(c.x);
    const BnForward f = bn_forward(c.x, s, c.gamma, c.beta);
    const int e1 = static_cast<int>(uniform(gen, -30, -5));
    const auto dy = random_tensor<int32_t>(gen, c.x.shape, -127, 127, e1);
    const BnBackward b = bn_backward(dy, f.xhat, c.gamma, s);
    ASSERT_EQ(b.dx.exp, e1 - 16);
    const int64_t C = c.x.shape[1], inner = c.x.size() / (c.x.shape[0] * C), N = s.count;
    for (int64_t ch = 0; ch < C; ++ch) {
      double sum_dy = 0, sum_dyx = 0;
      std::vector<int64_t> idx;
      for (int64_t n = 0; n < c.x.shape[0]; ++n)
        for (int64_t j = 0; j < inner; ++j) idx.push_back((n * C + ch) * inner + j);
      for (int64_t i : idx) {
        sum_dy += dy.as_double(i);
        sum_dyx += dy.as_double(i) * f.xhat.as_double(i);
      }
      // Parameter gradients are exact sums on 2^-14 here (e1 <= -5: on or finer than their grid).
      ASSERT_NEAR(b.g_beta.as_double(ch), sum_dy, std::ldexp(0.5, -14) + 1e-12);
      ASSERT_NEAR(b.g_gamma.as_double(ch), sum_dyx, std::ldexp(0.5, -14) + 1e-12);
      const double k = c.gamma.as_double(ch) / std::ldexp(static_cast<double>(s.sigma[ch]), -15);
      for (int64_t i : idx) {
        const double xh = f.xhat.as_double(i);
        const double exact = k * (dy.as_double(i) - sum_dy / N - xh * sum_dyx / N);
        // The two means rounded 8 bits below their grids, the 24-bit reciprocal, the final rounding.
        const double bound = std::abs(k) * (std::ldexp(0.5, e1 - 8) + std::abs(xh) * std::ldexp(0.5, e1 - 15)) +
                             std::abs(exact) * std::ldexp(1.0, -22) + std::ldexp(0.5, e1 - 16);
        ASSERT_LE(std::abs(b.dx.as_double(i) - exact), bound * (1 + 1e-9)) << "trial " << trial;
      }
    }
  }
}

TEST(BatchNorm, RunningStatisticsFollowThePowerOfTwoDecay) {
  BnRunning r(1);
  BnStats batch;
  batch.mean = {1000};
  batch.sigma = {3000};
  // μ_acc += rshift(1000·2^8 - 0, 8) = 1000; σ_acc += rshift(3000·2^8 - 2^23, 8) = -29768.
  bn_update_running(r, batch, 8);
  EXPECT_EQ(r.mean_acc[0], 1000);
  EXPECT_EQ(r.sigma_acc[0], (int64_t{1} << 23) - 29768);
  for (int i = 0; i < 4000; ++i) bn_update_running(r, batch, 8);
  const BnStats inf = bn_running_statistics(r, -14, 10);
  EXPECT_EQ(inf.mean[0], 1000);   // converged
  EXPECT_EQ(inf.sigma[0], 3000);
}

TEST(BatchNorm, BadInputsAreRejected) {
  EXPECT_THROW(bn_batch_statistics(Tensor<int32_t>({2, 1}, -16)), std::invalid_argument);
  EXPECT_THROW(bn_batch_statistics(Tensor<int32_t>({2, 1}, 1)), std::invalid_argument);
  EXPECT_THROW(bn_batch_statistics(Tensor<int32_t>({4}, -14)), std::invalid_argument);
}
