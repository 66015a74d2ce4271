// The fast optimizer loops (optimizer_fast.h) against the reference (optimizer.h), bit for bit:
// random states over the whole int32 range (printed seed), values on and around every
// rounding point and saturation edge, every lr_q class, and the reference's exceptions.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include "golden/optimizer.h"
#include "golden/optimizer_fast.h"
#include "random_tensors.h"

using namespace octet::golden;
using octet::testing::uniform;

namespace {

constexpr int64_t kMin32 = std::numeric_limits<int32_t>::min(), kMax32 = std::numeric_limits<int32_t>::max();

// Values that meet each rounding and clamping point of the loops: around multiples of 2^s
// (ties included) for s = 2 and 16, around ±127.5 * 2^16, and the int32 extremes.
std::vector<int32_t> edge_values() {
  std::vector<int32_t> v;
  for (int64_t d = -6; d <= 6; ++d) {
    for (int64_t base : {int64_t{0}, int64_t{1} << 16, -(int64_t{1} << 16), int64_t{3} << 16, int64_t{127} << 16,
                         -(int64_t{127} << 16), int64_t{255} << 15, -(int64_t{255} << 15), int64_t{4}, int64_t{6},
                         int64_t{-6}, int64_t{1} << 15, -(int64_t{1} << 15)})
      v.push_back(static_cast<int32_t>(base + d));
    v.push_back(static_cast<int32_t>(kMin32 + 6 + d));
    v.push_back(static_cast<int32_t>(kMax32 - 6 + d));
  }
  return v;
}

void expect_same_update(const ParamState& start, const Tensor<int32_t>& grad, int lr_q) {
  ParamState ref = start, fast = start;
  momentum_update(ref, grad, lr_q);
  momentum_update_fast(fast, grad, lr_q);
  ASSERT_EQ(fast.master.data, ref.master.data) << "lr_q " << lr_q;
  ASSERT_EQ(fast.momentum.data, ref.momentum.data) << "lr_q " << lr_q;
  ASSERT_EQ(fast.master.exp, ref.master.exp);
  ASSERT_EQ(fast.momentum.exp, ref.momentum.exp);
}

}  // namespace

TEST(OptimizerFast, MomentumUpdateMatchesTheReference) {
  const unsigned seed = 2001;
  std::printf("seed=%u\n", seed);
  std::mt19937_64 gen(seed);
  const std::vector<int32_t> edges = edge_values();
  for (int trial = 0; trial < 300; ++trial) {
    const int64_t n = trial % 10 == 0 ? uniform(gen, 1000, 5000) : uniform(gen, 1, 100);
    // Ranges from training-like (|G|, |V| < 2^16) to the whole int32 range (saturating).
    const int64_t range = trial % 3 == 0 ? kMax32 : (trial % 3 == 1 ? int64_t{1} << 24 : int64_t{1} << 16);
    const int64_t lo = std::max(kMin32, -range);
    ParamState s = make_param_state(octet::testing::random_tensor<int32_t>(gen, {n}, kMin32, kMax32, -23));
    s.momentum = octet::testing::random_tensor<int32_t>(gen, {n}, lo, range, -12);
    Tensor<int32_t> grad = octet::testing::random_tensor<int32_t>(gen, {n}, lo, range, -14);
    for (int64_t i = 0; i < n; ++i) {  // a share of edge values in every operand
      if (uniform(gen, 0, 3) == 0) s.master.data[i] = edges[uniform(gen, 0, edges.size() - 1)];
      if (uniform(gen, 0, 3) == 0) s.momentum.data[i] = edges[uniform(gen, 0, edges.size() - 1)];
      if (uniform(gen, 0, 3) == 0) grad.data[i] = edges[uniform(gen, 0, edges.size() - 1)];
    }
    const int lr_q = trial % 4 == 0 ? static_cast<int>(uniform(gen, 0, kLrQMax)) : std::vector<int>{0, 1, kLrQMax}[trial % 3];
    expect_same_update(s, grad, lr_q);
  }
}

TEST(OptimizerFast, WeightCopyMatchesTheReference) {
  const unsigned seed = 2002;
  std::printf("seed=%u\n", seed);
  std::mt19937_64 gen(seed);
  std::vector<int32_t> values = edge_values();
  // Every tie and its neighbours across the clipped range: k * 2^16 + 2^15 + {-1, 0, 1}.
  for (int64_t k = -130; k <= 130; ++k)
    for (int64_t d = -1; d <= 1; ++d) values.push_back(static_cast<int32_t>(k * 65536 + 32768 + d));
  for (int i = 0; i < 20000; ++i) values.push_back(static_cast<int32_t>(uniform(gen, kMin32, kMax32)));
  for (size_t off = 0; off < 17; ++off) {  // lengths that end inside and outside a vector
    const std::vector<int32_t> v(values.begin() + static_cast<long>(off), values.end());
    const Tensor<int32_t> m({static_cast<int64_t>(v.size())}, v, -23);
    const Tensor<int8_t> ref = derive_weight8(m), fast = derive_weight8_fast(m);
    ASSERT_EQ(fast.data, ref.data) << "offset " << off;
    ASSERT_EQ(fast.exp, ref.exp);
    ASSERT_EQ(fast.shape, ref.shape);
  }
}

TEST(OptimizerFast, BadInputsAreRejectedLikeTheReference) {
  ParamState s = make_param_state(Tensor<int32_t>({3}, -23));
  EXPECT_THROW(momentum_update_fast(s, Tensor<int32_t>({3}, -13), 1), std::invalid_argument);
  EXPECT_THROW(momentum_update_fast(s, Tensor<int32_t>({4}, -14), 1), std::invalid_argument);
  EXPECT_THROW(momentum_update_fast(s, Tensor<int32_t>({3}, -14), -1), std::invalid_argument);
  EXPECT_THROW(momentum_update_fast(s, Tensor<int32_t>({3}, -14), kLrQMax + 1), std::invalid_argument);
  EXPECT_EQ(s.master.data, (std::vector<int32_t>{0, 0, 0}));  // a rejected update changes nothing
}
