// Reference GEMMs: hand-worked products, the transposed indexing of the backward
// products, the E2 scales, and the accumulator-width errors.
#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

#include "golden/gemm.h"

namespace og = octet::golden;

namespace {

og::FlagCode fine(int32_t v) { return {v, true}; }
og::FlagCode coarse(int32_t v) { return {v, false}; }

}  // namespace

TEST(GoldenGemm, ForwardByHand) {
  // A{2,3} * W{3,2}
  og::Tensor<uint8_t> a({2, 3}, {1, 2, 3, 255, 0, 10}, -7);
  og::Tensor<int8_t> w({3, 2}, {1, -1, 2, -128, 127, 0}, -7);
  const auto y = og::gemm_forward(a, w);
  EXPECT_EQ(y.shape, (og::Shape{2, 2}));
  EXPECT_EQ(y.exp, -14);
  EXPECT_EQ(y.data, (std::vector<int64_t>{1 + 4 + 381, -1 - 256, 255 + 1270, -255}));
}

TEST(GoldenGemm, BackwardDataUsesTransposedWeightsAndDecodesE2) {
  // E2{1,2} * W{3,2}^T: out[0][k] = e0 * W[k][0] + e1 * W[k][1]
  og::Tensor<og::FlagCode> e({1, 2}, {coarse(-127), fine(5)}, -20);
  og::Tensor<int8_t> w({3, 2}, {1, 2, -3, 4, 127, -128}, -7);
  const auto out = og::gemm_backward_data(e, w);
  EXPECT_EQ(out.shape, (og::Shape{1, 3}));
  EXPECT_EQ(out.exp, -27);
  const int64_t e0 = -127 * 128;
  EXPECT_EQ(out.data, (std::vector<int64_t>{e0 * 1 + 5 * 2, e0 * -3 + 5 * 4, e0 * 127 + 5 * -128}));
}

TEST(GoldenGemm, WeightGradReducesOverRows) {
  // A{3,2}^T * E2{3,1}: g[k][0] = sum_m A[m][k] * e[m]
  og::Tensor<uint8_t> a({3, 2}, {1, 2, 3, 4, 255, 0}, -7);
  og::Tensor<og::FlagCode> e({3, 1}, {fine(1), coarse(1), fine(-127)}, -20);
  const auto g = og::gemm_weight_grad(a, e);
  EXPECT_EQ(g.shape, (og::Shape{2, 1}));
  EXPECT_EQ(g.exp, -27);
  EXPECT_EQ(g.data, (std::vector<int64_t>{1 + 3 * 128 - 255 * 127, 2 + 4 * 128}));
}

TEST(GoldenGemm, PartialSumOverflowIsAnErrorEvenIfTheResultFits) {
  og::Tensor<uint8_t> a({1, 2}, {255, 255}, 0);
  og::Tensor<int8_t> w({2, 1}, {127, -127}, 0);
  EXPECT_EQ(og::gemm_forward(a, w, 16).data[0], 0);        // 255 * 127 = 32385 fits int16
  EXPECT_THROW(og::gemm_forward(a, w, 15), std::overflow_error);  // but not int15
}

TEST(GoldenGemm, ResNet50Conv1WeightGradBound) {
  // docs/architecture.md: 64 * 112 * 112 terms of 255 * 127 * 128 stay below 2^42.
  const int64_t terms = 64 * 112 * 112;
  og::Tensor<uint8_t> a({terms, 1}, 0);
  og::Tensor<og::FlagCode> e({terms, 1}, 0);
  for (auto& v : a.data) v = 255;
  for (auto& c : e.data) c = coarse(-127);
  const int64_t expected = -terms * 255 * 127 * 128;
  EXPECT_EQ(og::gemm_weight_grad(a, e, og::kAccBits).data[0], expected);
  EXPECT_EQ(og::gemm_weight_grad(a, e, 43).data[0], expected);
  EXPECT_THROW(og::gemm_weight_grad(a, e, 42), std::overflow_error);
}

TEST(GoldenGemm, RejectsBadArguments) {
  og::Tensor<uint8_t> a({2, 3}, 0);
  og::Tensor<int8_t> w({2, 3}, 0);
  EXPECT_THROW(og::gemm_forward(a, w), std::invalid_argument);  // K mismatch
  EXPECT_THROW(og::gemm_forward(a, og::Tensor<int8_t>({3, 1}, 0), 64), std::invalid_argument);
  og::Tensor<og::FlagCode> e({2, 3}, {fine(1), fine(2), coarse(-128), fine(0), fine(0), fine(0)}, 0);
  EXPECT_THROW(og::gemm_backward_data(e, w), std::invalid_argument);  // -128 is no E2 code
  EXPECT_THROW(og::gemm_weight_grad(a, og::Tensor<og::FlagCode>({3, 3}, 0)), std::invalid_argument);
  EXPECT_THROW(og::gemm_forward(og::Tensor<uint8_t>({1, 2, 3}, 0), w), std::invalid_argument);
}
