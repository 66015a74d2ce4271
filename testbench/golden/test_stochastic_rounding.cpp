// Stochastic rounding of the constant-factor quantizer: unbiased, reproducible, and
// independent of the order in which elements are evaluated.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <thread>

#include "golden/quantizers.h"

using namespace octet::golden;

namespace {
// 10^6 copies of `x` plus one element 2^20 that fixes r = 20; with s = 7, 13 bits are dropped.
Tensor<int64_t> repeated(int64_t x, int64_t n) {
  std::vector<int64_t> v(static_cast<size_t>(n), x);
  v.push_back(int64_t{1} << 20);
  return Tensor<int64_t>({n + 1}, std::move(v), 0);
}
}  // namespace

TEST(StochasticRounding, UnbiasedOverAMillionDraws) {
  const int64_t n = 1000000;
  const uint64_t seed = 977;
  std::printf("seed=%llu\n", static_cast<unsigned long long>(seed));
  // Dropped fractions f / 8192 from tiny to nearly one, both signs.
  for (int64_t f : {1, 2560, 4096, 5000, 8191}) {
    for (int sign : {1, -1}) {
      const int64_t x = sign * (37 * 8192 + f);
      CqParams p;
      p.log2_scale = 7;
      p.key = make_stream_key(seed, static_cast<uint64_t>(f), sign > 0 ? 1 : 2);
      const auto q = constant_factor_quantize(repeated(x, n), p);
      double sum = 0;
      for (int64_t i = 0; i < n; ++i) {
        ASSERT_TRUE(std::abs(q.data[i]) == 37 || std::abs(q.data[i]) == 38);
        sum += q.data[i];
      }
      const double exact = sign * (37 + f / 8192.0);
      const double prob = f / 8192.0;
      // Bound: 6 standard deviations of the mean of n Bernoulli(prob) draws (and >= 1e-5).
      const double bound = std::max(6 * std::sqrt(prob * (1 - prob) / n), 1e-5);
      EXPECT_LT(std::abs(sum / n - exact), bound) << "f=" << f << " sign=" << sign;
    }
  }
}

TEST(StochasticRounding, ReproducibleAndKeyed) {
  const auto x = repeated(37 * 8192 + 4096, 10000);
  CqParams p;
  p.key = make_stream_key(5, 6, 7);
  const auto a = constant_factor_quantize(x, p);
  const auto b = constant_factor_quantize(x, p);
  EXPECT_EQ(a.data, b.data);
  for (auto key : {make_stream_key(6, 6, 7), make_stream_key(5, 7, 7), make_stream_key(5, 6, 8)}) {
    p.key = key;
    const auto c = constant_factor_quantize(x, p);
    int64_t differ = 0;
    for (int64_t i = 0; i < x.size(); ++i) differ += a.data[i] != c.data[i];
    EXPECT_GT(differ, 4000);  // about half of 10000 fair coin flips
  }
}

TEST(StochasticRounding, IndependentOfEvaluationOrderTilingAndThreads) {
  const unsigned seed = 4242;
  std::mt19937_64 gen(seed);
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::vector<int64_t> v(50000);
  for (auto& e : v) e = static_cast<int64_t>(gen() % 2000001) - 1000000;
  const Tensor<int64_t> x({200, 250}, v, -20);
  CqParams p;
  p.key = make_stream_key(seed, 3, 17);
  const auto reference = constant_factor_quantize(x, p);
  const int r = tensor_scale_log2(x.data.data(), x.size());

  // Shuffled element order.
  std::vector<int64_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), gen);
  std::vector<int32_t> shuffled(v.size());
  for (int64_t i : order) shuffled[i] = static_cast<int32_t>(constant_factor_quantize_element(v[i], r, p, i));
  EXPECT_EQ(shuffled, reference.data);

  // Column tiles of width 7, processed by two threads from opposite ends.
  std::vector<int32_t> tiled(v.size());
  auto work = [&](int begin, int end, int step) {
    for (int c0 = begin; c0 != end; c0 += step)
      for (int row = 0; row < 200; ++row)
        for (int c = c0; c < std::min(c0 + 7, 250); ++c) {
          const int64_t i = row * 250 + c;
          tiled[i] = static_cast<int32_t>(constant_factor_quantize_element(v[i], r, p, i));
        }
  };
  // The tensor-level quantizers split across threads give the same bits.
  EXPECT_EQ(constant_factor_quantize(x, p, 3).data, reference.data);
  EXPECT_EQ(shift_quantize(x, 8, 3).data, shift_quantize(x, 8, 1).data);
  EXPECT_EQ(flag_quantize(x, 8, 2).data, flag_quantize(x, 8, 1).data);

  std::thread t1(work, 0, 126, 7);
  std::thread t2(work, 245, 119, -7);
  t1.join();
  t2.join();
  EXPECT_EQ(tiled, reference.data);
}
