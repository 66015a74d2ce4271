// ReLU quantization, pooling, residual add, softmax loss, optimizer and initialisation.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>

#include "golden/activation.h"
#include "golden/int_network.h"
#include "golden/loss.h"
#include "golden/optimizer.h"
#include "golden/pooling.h"
#include "golden/residual.h"
#include "golden/softmax_table.h"
#include "random_tensors.h"

using namespace octet::golden;
using namespace octet::testing;

TEST(Relu, QuantizesSaturatesAndMasks) {
  // y on 2^-14: -5 -> 0 (mask 0); 64 = 0.5 grid step -> 0 (even) but mask 1; 192 -> 2 (1.5 -> 2);
  // 255*128 -> 255 (mask 1); 255*128+64 -> 255.5 -> 256 -> 255 (mask 0); huge -> 255.
  const Tensor<int32_t> y({6}, {-5, 64, 192, 255 * 128, 255 * 128 + 64, 1 << 30}, -14);
  const ReluForward r = relu_quantize(y);
  EXPECT_EQ(r.a.exp, -7);
  EXPECT_EQ(r.a.data, (std::vector<uint8_t>{0, 0, 2, 255, 255, 255}));
  EXPECT_EQ(r.mask, (std::vector<uint8_t>{0, 1, 1, 1, 0, 0}));
  const Tensor<int32_t> e({6}, {1, 2, 3, 4, 5, 6}, -9);
  EXPECT_EQ(relu_backward(e, r.mask).data, (std::vector<int32_t>{0, 2, 3, 4, 0, 0}));
}

TEST(Pooling, MaxPoolFirstMaximumAndAdjoint) {
  // 1x1x2x4 plane, 2x2 windows stride 2; ties route to the first maximum (row-major).
  const Tensor<uint8_t> x({1, 1, 2, 4}, {3, 9, 7, 7, 9, 1, 7, 2}, -7);
  const MaxPoolForward f = maxpool_forward(x, {2, 2, 0, false});
  EXPECT_EQ(f.out.data, (std::vector<uint8_t>{9, 7}));
  EXPECT_EQ(f.argmax, (std::vector<int64_t>{1, 2}));
  const Tensor<int64_t> e({1, 1, 1, 2}, {5, -6}, -20);
  EXPECT_EQ(maxpool_backward(e, f.argmax, x.shape).data, (std::vector<int64_t>{0, 5, -6, 0, 0, 0, 0, 0}));
  // Padding never wins: a 3x3/2 pad-1 pool of zeros stays zero with in-bounds argmax.
  const Tensor<uint8_t> z({1, 1, 3, 3}, -7);
  const MaxPoolForward fz = maxpool_forward(z, {3, 2, 1, false});
  for (int64_t a : fz.argmax) EXPECT_GE(a, 0);
}

TEST(Pooling, AveragePoolRoundsHalfToEvenAndBackwardShares) {
  const unsigned seed = 555;
  std::printf("seed=%u\n", seed);
  std::mt19937_64 gen(seed);
  for (int trial = 0; trial < 50; ++trial) {
    const int64_t H = uniform(gen, 2, 8);
    const auto x = random_tensor<uint8_t>(gen, {2, 3, H, H}, 0, 255, -7);
    const PoolParams p{static_cast<int>(uniform(gen, 1, H)), static_cast<int>(uniform(gen, 1, 3)), 0, trial % 2 == 0};
    const Tensor<uint8_t> y = avgpool_forward(x, p);
    const int64_t k = p.global ? H : p.kernel, s = p.global ? 1 : p.stride;
    for (int64_t nc = 0; nc < 6; ++nc)
      for (int64_t oy = 0; oy < y.shape[2]; ++oy)
        for (int64_t ox = 0; ox < y.shape[3]; ++ox) {
          double sum = 0;
          for (int64_t ky = 0; ky < k; ++ky)
            for (int64_t kx = 0; kx < k; ++kx) sum += x.data[(nc * H + oy * s + ky) * H + ox * s + kx];
          ASSERT_EQ(y.data[(nc * y.shape[2] + oy) * y.shape[3] + ox], std::nearbyint(sum / static_cast<double>(k * k)));
        }
    // Backward: each input gets rdiv(e·2^8, k²) per window that covers it.
    const auto e = random_tensor<int64_t>(gen, y.shape, -100000, 100000, -20);
    const Tensor<int64_t> dx = avgpool_backward(e, x.shape, p);
    ASSERT_EQ(dx.exp, -28);
    // Split over the planes on 2 and 3 threads: the same values.
    for (int threads : {2, 3}) {
      ASSERT_EQ(avgpool_forward(x, p, threads).data, y.data) << "threads " << threads;
      ASSERT_EQ(avgpool_backward(e, x.shape, p, threads).data, dx.data) << "threads " << threads;
    }
    double total_in = 0, total_out = 0;
    for (int64_t v : dx.data) total_in += static_cast<double>(v);
    for (int64_t v : e.data) total_out += static_cast<double>(v) * 256;
    // Conservation up to one rounding (±0.5) per window share.
    ASSERT_LE(std::abs(total_in - total_out), 0.5 * static_cast<double>(e.size() * k * k));
  }
  // Global pooling of a 7x7 plane: 49 values summing to 49*3 + 24 -> 3.49 -> 3.
  Tensor<uint8_t> g({1, 1, 7, 7}, -7);
  std::fill(g.data.begin(), g.data.end(), 3);
  for (int i = 0; i < 24; ++i) g.data[i] = 4;
  EXPECT_EQ(avgpool_forward(g, {1, 1, 0, true}).data[0], 3);
  g.data[24] = 5;  // sum 49*3 + 26 -> 3.53 -> 4
  EXPECT_EQ(avgpool_forward(g, {1, 1, 0, true}).data[0], 4);
}

TEST(Residual, AlignsToTheFinerExponentExactly) {
  const Tensor<int32_t> a({3}, {1, -2, 3}, -14), b({3}, {5, 5, -7}, -15);
  const Tensor<int32_t> s = residual_add(a, b);
  EXPECT_EQ(s.exp, -15);
  EXPECT_EQ(s.data, (std::vector<int32_t>{7, 1, -1}));
  const Tensor<int32_t> big({1}, {1 << 30}, -10), small({1}, {1}, -14);
  EXPECT_THROW(residual_add(big, small), std::overflow_error);
  // Errors: an all-zero operand never forces a huge shift.
  const Tensor<int64_t> z({2}, -200), e({2}, {3, 4}, -10);
  EXPECT_EQ(error_add(z, e).data, e.data);
  EXPECT_EQ(error_add(e, z).exp, -10);
  const Tensor<int64_t> f({2}, {1, 1}, -12);
  EXPECT_EQ(error_add(e, f).data, (std::vector<int64_t>{13, 17}));
  // An int64 sum that would wrap is an overflow error, at the same exponent as after alignment.
  const Tensor<int64_t> near_max({2}, {INT64_MAX - 1, 5}, -3), two({2}, {2, 5}, -3);
  EXPECT_THROW(error_add(near_max, two), std::overflow_error);
  const Tensor<int64_t> near_min({1}, {INT64_MIN + 1}, 0), minus_two({1}, {-2}, 0);
  EXPECT_THROW(error_add(near_min, minus_two), std::overflow_error);
  EXPECT_EQ(error_add(near_min, Tensor<int64_t>({1}, {-1}, 0)).data, (std::vector<int64_t>{INT64_MIN}));
}

TEST(Softmax, TableMatchesExp2) {
  for (int f = 0; f < 256; ++f)
    EXPECT_LE(std::abs(kExp2Table[f] - 32768.0 * std::exp2(-f / 256.0)), 0.5) << f;
}

TEST(Softmax, ProbabilitiesWithinTheDocumentedBoundAndErrorIsPMinusOneHot) {
  const unsigned seed = 8080;
  std::printf("seed=%u\n", seed);
  std::mt19937_64 gen(seed);
  for (int trial = 0; trial < 500; ++trial) {
    const int64_t B = uniform(gen, 1, 16), C = uniform(gen, 2, 20);
    const int64_t spread = int64_t{1} << uniform(gen, 4, 20);
    const auto z = random_tensor<int32_t>(gen, {B, C}, -spread, spread, -14);
    std::vector<Label> labels(B);
    for (auto& l : labels) l = static_cast<Label>(uniform(gen, 0, C - 1));
    const SoftmaxLoss L = softmax_cross_entropy(z, labels);
    for (int64_t b = 0; b < B; ++b) {
      double zmax = -1e300, denom = 0;
      for (int64_t i = 0; i < C; ++i) zmax = std::max(zmax, z.as_double(b * C + i));
      for (int64_t i = 0; i < C; ++i) denom += std::exp(z.as_double(b * C + i) - zmax);
      for (int64_t i = 0; i < C; ++i) {
        const double p = std::exp(z.as_double(b * C + i) - zmax) / denom;
        ASSERT_LE(std::abs(L.prob.as_double(b * C + i) - p), 0.003 * p + std::ldexp(1.0, -14)) << "trial " << trial;
        const int64_t g = L.prob.data[b * C + i] - (i == labels[b] ? 32768 : 0);
        ASSERT_EQ(L.error.data[b * C + i], static_cast<int64_t>(std::nearbyint(g * 256.0 / static_cast<double>(B))));
      }
    }
  }
  EXPECT_THROW(softmax_cross_entropy(Tensor<int32_t>({1, 3}, -14), {3}), std::invalid_argument);
}

TEST(Optimizer, MomentumUpdateHandComputed) {
  ParamState s = make_param_state(Tensor<int32_t>({3}, {1000000, -5, 0}, -23));
  s.momentum.data = {40, -3, 0};
  const Tensor<int32_t> g({3}, {10, 7, -127}, -14);
  momentum_update(s, g, 26);  // lr = 26 * 2^-9 ≈ 0.05
  // acc = V + G = {50, 4, -127}; M -= 26 * acc; V = rshift(acc, 2) = {12 (12.5 -> 12), 1, -32 (-31.75)}.
  EXPECT_EQ(s.master.data, (std::vector<int32_t>{1000000 - 1300, -5 - 104, 3302}));
  EXPECT_EQ(s.momentum.data, (std::vector<int32_t>{12, 1, -32}));
  EXPECT_THROW(momentum_update(s, Tensor<int32_t>({3}, -13), 1), std::invalid_argument);
  EXPECT_THROW(momentum_update(s, g, 512), std::invalid_argument);
}

TEST(Optimizer, WorkingCopiesAndDecayAndLearningRate) {
  const Tensor<int32_t> m({5}, {65536 * 3 + 32768, 65536 * 2 + 32768, 200 << 16, -(200 << 16), 100}, -23);
  EXPECT_EQ(derive_weight8(m).data, (std::vector<int8_t>{4, 2, 127, -127, 0}));  // 3.5 -> 4, 2.5 -> 2
  EXPECT_EQ(derive_bn_affine(m).data, (std::vector<int16_t>{4, 2, 200, -200, 0}));
  EXPECT_EQ(derive_bias(m).data[4], 0);   // 100 / 512 -> 0
  EXPECT_EQ(derive_bias(m).data[0], 448);  // 3.5 * 65536 / 512
  Tensor<int64_t> g({2}, {10, -10}, -25);
  add_weight_decay(g, Tensor<int8_t>({2}, {3, -1}, -7), 13);  // 3 * 2^-20 = 96 * 2^-25
  EXPECT_EQ(g.data, (std::vector<int64_t>{106, -42}));
  EXPECT_EQ(quantize_learning_rate(0.05), 26);
  EXPECT_EQ(quantize_learning_rate(0.006), 3);
  EXPECT_EQ(quantize_learning_rate(0.003), 2);
  EXPECT_EQ(quantize_learning_rate(0.0015), 1);
  EXPECT_EQ(quantize_learning_rate(5.0), 511);
  EXPECT_THROW(quantize_learning_rate(-1), std::invalid_argument);
}

TEST(Optimizer, InitialisationHasTheDocumentedScaleAndIsReproducible) {
  const Shape shape{64, 16, 3, 3};
  const auto a = init_weight_master(shape, 144, 7, 16 * 3 + 2);
  const auto b = init_weight_master(shape, 144, 7, 16 * 3 + 2);
  EXPECT_EQ(a.data, b.data);
  EXPECT_NE(a.data, init_weight_master(shape, 144, 8, 16 * 3 + 2).data);
  double sum = 0, sum2 = 0, maxabs = 0;
  for (int32_t v : a.data) {
    const double x = std::ldexp(static_cast<double>(v), -23);
    sum += x;
    sum2 += x * x;
    maxabs = std::max(maxabs, std::abs(x));
  }
  const double n = static_cast<double>(a.size()), sd = std::sqrt(sum2 / n - (sum / n) * (sum / n));
  EXPECT_NEAR(sd, 1.0 / 12.0, 0.03 / 12.0);     // σ = 1/sqrt(144)
  EXPECT_LT(std::abs(sum / n), 3 * sd / std::sqrt(n));
  EXPECT_LE(maxabs, 2 * std::sqrt(3.0) / 12.0 + 1e-6);  // Irwin-Hall(4) bound ±3.46σ
}

// The int64 sums of the backward / update kernels (docs/numerics.md §10): right at the limit
// they are exact, one step past it they throw std::overflow_error, never wrap.
constexpr int64_t kMax = std::numeric_limits<int64_t>::max(), kMin = std::numeric_limits<int64_t>::min();

TEST(Int64Sums, WeightDecayThrowsInsteadOfWrapping) {
  const Tensor<int8_t> w({2}, {3, -1}, -7);  // at λ = 13 on 2^-25: +96, -32
  Tensor<int64_t> g({2}, {kMax - 96, kMin + 32}, -25);
  add_weight_decay(g, w, 13);
  EXPECT_EQ(g.data, (std::vector<int64_t>{kMax, kMin}));
  Tensor<int64_t> up({2}, {kMax - 95, 0}, -25);
  EXPECT_THROW(add_weight_decay(up, w, 13), std::overflow_error);
  Tensor<int64_t> down({2}, {0, kMin + 31}, -25);
  EXPECT_THROW(add_weight_decay(down, w, 13), std::overflow_error);
}

TEST(Int64Sums, MaxPoolBackwardThrowsInsteadOfWrapping) {
  // 2x3 plane, 2x2 windows at stride 1: both windows route to element 1.
  const Tensor<uint8_t> x({1, 1, 2, 3}, {0, 9, 0, 0, 0, 0}, -7);
  const MaxPoolForward f = maxpool_forward(x, {2, 1, 0, false});
  ASSERT_EQ(f.argmax, (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(maxpool_backward(Tensor<int64_t>({1, 1, 1, 2}, {kMax - 5, 5}, -20), f.argmax, x.shape).data[1], kMax);
  EXPECT_EQ(maxpool_backward(Tensor<int64_t>({1, 1, 1, 2}, {kMin + 5, -5}, -20), f.argmax, x.shape).data[1], kMin);
  EXPECT_THROW(maxpool_backward(Tensor<int64_t>({1, 1, 1, 2}, {kMax - 4, 5}, -20), f.argmax, x.shape),
               std::overflow_error);
  EXPECT_THROW(maxpool_backward(Tensor<int64_t>({1, 1, 1, 2}, {kMin + 4, -5}, -20), f.argmax, x.shape),
               std::overflow_error);
}

TEST(Int64Sums, AvgPoolBackwardThrowsInsteadOfWrapping) {
  // 2x2 plane, k2 s1 p1: 3x3 windows; input (0,0) is in window 0 (count 1, share e·256),
  // windows 1 and 3 (count 2, e·128) and window 4 (count 4, e·64).
  const Shape in{1, 1, 2, 2};
  const PoolParams p{2, 1, 1, false};
  const auto e = [](int64_t e0, int64_t e4) {
    Tensor<int64_t> t({1, 1, 3, 3}, -20);
    t.data[0] = e0;
    t.data[4] = e4;
    return t;
  };
  const int64_t big = (int64_t{1} << 55) - 1;  // e·2^8 = 2^63 - 256
  for (int threads : {1, 2}) {
    EXPECT_EQ(avgpool_backward(e(-big, -4), in, p, threads).data[0], kMin);  // -2^63 + 256 - 256
    EXPECT_EQ(avgpool_backward(e(big, 3), in, p, threads).data[0], kMax - 63);  // the largest reachable
    EXPECT_THROW(avgpool_backward(e(-big, -5), in, p, threads), std::overflow_error);
    EXPECT_THROW(avgpool_backward(e(big, 4), in, p, threads), std::overflow_error);
  }
}

TEST(Int64Sums, LinearBiasGradThrowsInsteadOfWrapping) {
  const Tensor<int64_t> at({2, 2}, {kMax - 1, kMin + 1, 1, -1}, -23);
  EXPECT_EQ(linear_bias_grad(at).data, (std::vector<int32_t>{INT32_MAX, INT32_MIN}));  // saturated after the sum
  EXPECT_THROW(linear_bias_grad(Tensor<int64_t>({2, 2}, {kMax, 0, 1, 0}, -23)), std::overflow_error);
  EXPECT_THROW(linear_bias_grad(Tensor<int64_t>({2, 2}, {0, kMin, 0, -1}, -23)), std::overflow_error);
}

TEST(Pooling, WidthAndHeightFollowOneRule) {
  // The padded plane must hold the window in both dimensions; width used to pass by truncation.
  EXPECT_EQ(pool_output_shape({1, 1, 2, 2}, {2, 2, 0, false}), (Shape{1, 1, 1, 1}));
  EXPECT_EQ(pool_output_shape({1, 1, 3, 3}, {3, 2, 1, false}), (Shape{1, 1, 2, 2}));
  EXPECT_THROW(pool_output_shape({1, 1, 1, 2}, {2, 2, 0, false}), std::invalid_argument);
  EXPECT_THROW(pool_output_shape({1, 1, 2, 1}, {2, 2, 0, false}), std::invalid_argument);
  EXPECT_THROW(pool_output_shape({1, 1, 4, 2}, {4, 3, 0, false}), std::invalid_argument);  // 2 short, stride 3
  EXPECT_THROW(pool_output_shape({1, 1, 2, 4}, {4, 3, 0, false}), std::invalid_argument);
  EXPECT_THROW(pool_output_shape({1, 1, 4, 1}, {4, 3, 1, false}), std::invalid_argument);  // 1 + 2 < 4
}
