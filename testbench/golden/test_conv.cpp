// Conv and linear kernels: forward against a float evaluation (exact for these sizes),
// backward passes against the adjoint identities <conv(x,w), e> = <x, bwd(e,w)> = <w, wgrad(x,e)>.
#include <gtest/gtest.h>

#include "golden/conv.h"
#include "golden/int_math.h"
#include "random_tensors.h"

using namespace octet::golden;
using namespace octet::testing;

namespace {
template <typename A, typename B>
int128 dot(const Tensor<A>& a, const Tensor<B>& b) {
  int128 s = 0;
  for (int64_t i = 0; i < a.size(); ++i) s += static_cast<int128>(a.data[i]) * b.data[i];
  return s;
}
}  // namespace

TEST(Conv, ForwardEqualsFloatEvaluationAndAdjointsHold) {
  const unsigned seed = 1234;
  std::printf("seed=%u\n", seed);
  std::mt19937_64 gen(seed);
  for (int trial = 0; trial < 60; ++trial) {
    const int64_t N = uniform(gen, 1, 3), C = uniform(gen, 1, 5), Co = uniform(gen, 1, 6), K = uniform(gen, 1, 4);
    const int stride = static_cast<int>(uniform(gen, 1, 3)), pad = static_cast<int>(uniform(gen, 0, K - 1));
    const int64_t H = uniform(gen, std::max<int64_t>(1, K - 2 * pad), 9), W = uniform(gen, std::max<int64_t>(1, K - 2 * pad), 9);
    const ConvParams p{stride, pad};
    const auto x = random_tensor<uint8_t>(gen, {N, C, H, W}, 0, 255, -7);
    const auto w = random_tensor<int8_t>(gen, {Co, C, K, K}, -128, 127, -7);
    const auto y = conv2d_forward(x, w, p);
    ASSERT_EQ(y.exp, -14);
    const int64_t Ho = y.shape[2], Wo = y.shape[3];
    // Float evaluation, output-gather order, on values (exact: all sums < 2^53).
    for (int64_t n = 0; n < N; ++n)
      for (int64_t co = 0; co < Co; ++co)
        for (int64_t oy = 0; oy < Ho; ++oy)
          for (int64_t ox = 0; ox < Wo; ++ox) {
            double acc = 0;
            for (int64_t ky = 0; ky < K; ++ky)
              for (int64_t kx = 0; kx < K; ++kx)
                for (int64_t ci = 0; ci < C; ++ci) {
                  const int64_t iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
                  if (iy >= 0 && iy < H && ix >= 0 && ix < W)
                    acc += x.as_double(((n * C + ci) * H + iy) * W + ix) * w.as_double(((co * C + ci) * K + ky) * K + kx);
                }
            ASSERT_EQ(y.as_double(((n * Co + co) * Ho + oy) * Wo + ox), acc) << "trial " << trial;
          }
    const auto e = random_tensor<int32_t>(gen, y.shape, -16256, 16256, -20);
    const auto dx = conv2d_backward_data(e, w, p, x.shape);
    const auto dw = conv2d_weight_grad(x, e, p, w.shape);
    ASSERT_EQ(dx.exp, e.exp + w.exp);
    ASSERT_EQ(dw.exp, x.exp + e.exp);
    const int128 lhs = dot(y, e);
    ASSERT_TRUE(lhs == dot(x, dx)) << "backward-data adjoint, trial " << trial;
    ASSERT_TRUE(lhs == dot(w, dw)) << "weight-gradient adjoint, trial " << trial;
  }
}

TEST(Conv, ShapeErrorsAndOverflowAreReported) {
  EXPECT_THROW(conv_output_shape({1, 3, 5, 5}, {4, 2, 3, 3}, {}), std::invalid_argument);  // channels
  EXPECT_THROW(conv_output_shape({1, 3, 2, 2}, {4, 3, 3, 3}, {}), std::invalid_argument);  // kernel too big
  EXPECT_THROW(conv_output_shape({1, 3, 5, 5}, {4, 3, 3, 3}, {0, 0}), std::invalid_argument);
  EXPECT_EQ(conv_output_shape({2, 3, 7, 7}, {4, 3, 3, 3}, {2, 1}), (Shape{2, 4, 4, 4}));
  // 66,312 products of 255 * 127 exceed int32: an error, never a wrap.
  Tensor<uint8_t> x({1, 66312, 1, 1}, -7);
  Tensor<int8_t> w({1, 66312, 1, 1}, -7);
  std::fill(x.data.begin(), x.data.end(), 255);
  std::fill(w.data.begin(), w.data.end(), 127);
  EXPECT_THROW(conv2d_forward(x, w, {}), std::overflow_error);
  x.data[0] = 0;  // 66,311 terms fit
  EXPECT_EQ(conv2d_forward(x, w, {}).data[0], 66311 * 255 * 127);
}

TEST(Linear, ForwardWithBiasAndAdjoints) {
  const unsigned seed = 99;
  std::printf("seed=%u\n", seed);
  std::mt19937_64 gen(seed);
  for (int trial = 0; trial < 50; ++trial) {
    const int64_t N = uniform(gen, 1, 8), F = uniform(gen, 1, 40), O = uniform(gen, 1, 12);
    const auto x = random_tensor<uint8_t>(gen, {N, F}, 0, 255, -7);
    const auto w = random_tensor<int8_t>(gen, {O, F}, -127, 127, -7);
    const auto b = random_tensor<int32_t>(gen, {O}, -100000, 100000, -14);
    const auto y = linear_forward(x, w, b);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t o = 0; o < O; ++o) {
        double acc = b.as_double(o);
        for (int64_t f = 0; f < F; ++f) acc += x.as_double(n * F + f) * w.as_double(o * F + f);
        ASSERT_EQ(y.as_double(n * O + o), acc);
      }
    Tensor<int32_t> zero_bias({O}, -14);
    const auto y0 = linear_forward(x, w, zero_bias);
    const auto e = random_tensor<int32_t>(gen, {N, O}, -16256, 16256, -30);
    const int128 lhs = dot(y0, e);
    ASSERT_TRUE(lhs == dot(x, linear_backward_data(e, w)));
    ASSERT_TRUE(lhs == dot(w, linear_weight_grad(x, e)));
  }
  Tensor<int32_t> wrong_grid({2}, -13);
  EXPECT_THROW(linear_forward(Tensor<uint8_t>({1, 3}, -7), Tensor<int8_t>({2, 3}, -7), wrong_grid), std::invalid_argument);
}
