// The fast kernels (im2col + int16 GEMM, threaded) are bit-identical to the reference
// loop nests on >= 1000 random shapes per pass, including extreme operand values; the
// edge-case tests below run on every instruction path the CPU has (test_fast_conv_paths.cpp
// runs the random shapes on each).
#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <string>

#include "golden/fast_conv.h"
#include "golden/gemm_s16.h"
#include "random_tensors.h"

using namespace octet::golden;
using namespace octet::testing;

TEST(FastKernels, GemmS16MatchesNaive) {
  const unsigned seed = 77;
  std::printf("seed=%u avx2=%d\n", seed, gemm_s16_uses_avx2());
  std::mt19937_64 gen(seed);
  for (int trial = 0; trial < 300; ++trial) {
    const int64_t M = uniform(gen, 1, 21), N = uniform(gen, 1, 40), K = uniform(gen, 1, 37);
    std::vector<int16_t> A(M * K), B(K * N);
    for (auto& a : A) a = static_cast<int16_t>(uniform(gen, -16256, 16256));
    for (auto& b : B) b = static_cast<int16_t>(uniform(gen, -128, 255));
    std::vector<int32_t> C(M * N, -1);
    gemm_s16(M, N, K, A.data(), B.data(), C.data());
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        int64_t s = 0;
        for (int64_t k = 0; k < K; ++k) s += int64_t{A[m * K + k]} * B[k * N + n];
        ASSERT_EQ(C[m * N + n], s) << "trial " << trial << " M" << M << " N" << N << " K" << K;
      }
  }
}

namespace {
// conv2d_backward_data_fast_narrow against the reference where it answers (returns whether it
// did): the same values and exponent in int32, and the max it reports exact. It must answer
// on a SIMD path whenever Co·K·K·max|e|·max|w| <= INT32_MAX (every sum fits int32 then).
bool narrow_backward_data_matches(const Tensor<int32_t>& e, const Tensor<int8_t>& w, ConvParams p, const Shape& xs,
                                  int threads, const Tensor<int64_t>& ref) {
  Tensor<int32_t> out;
  KnownMax m;
  const bool taken = conv2d_backward_data_fast_narrow(e, w, p, xs, threads, out, &m);
  int64_t emax = 0, wmax = 0;
  for (int32_t v : e.data) emax = std::max<int64_t>(emax, v < 0 ? -int64_t{v} : v);
  for (int8_t v : w.data) wmax = std::max<int64_t>(wmax, v < 0 ? -int64_t{v} : v);
  const bool must = fast_conv_path() != ConvPath::portable && emax <= 32767 &&
                    w.shape[0] * w.shape[2] * w.shape[3] * emax * wmax <= INT32_MAX;
  EXPECT_TRUE(taken || !must) << "the int32 backward data was not taken";
  if (!taken) return false;
  EXPECT_EQ(out.exp, ref.exp);
  EXPECT_EQ(out.shape, ref.shape);
  uint64_t ref_max = 0;
  bool same = out.data.size() == ref.data.size();
  for (size_t i = 0; same && i < ref.data.size(); ++i) {
    same = out.data[i] == ref.data[i];
    ref_max = std::max<uint64_t>(ref_max, ref.data[i] < 0 ? 0 - static_cast<uint64_t>(ref.data[i]) : ref.data[i]);
  }
  EXPECT_TRUE(same) << "int32 backward data differs from the reference";
  if (same) {
    EXPECT_TRUE(m.known && m.value == ref_max) << "max " << m.value << " vs " << ref_max;
  }
  return true;
}

// `trials` random shapes (strides 1-3, padding up to K+1, so strides above the kernel size and
// padding beyond it too), three passes each, fast against reference; every tenth case at the
// operand limits; 1-3 threads.
void check_random_shapes(unsigned seed, int trials) {
  std::printf("seed=%u avx2=%d\n", seed, fast_kernels_use_avx2());
  std::mt19937_64 gen(seed);
  int64_t shapes = 0;
  for (int trial = 0; trial < trials; ++trial) {
    const int64_t N = uniform(gen, 1, 3), C = uniform(gen, 1, 6), Co = uniform(gen, 1, 9), K = uniform(gen, 1, 4);
    const int stride = static_cast<int>(uniform(gen, 1, 3)), pad = static_cast<int>(uniform(gen, 0, K + 1));
    const int64_t H = uniform(gen, std::max<int64_t>(1, K - 2 * pad), 10), W = uniform(gen, std::max<int64_t>(1, K - 2 * pad), 10);
    const ConvParams p{stride, pad};
    const bool extreme = trial % 10 == 0;
    const auto x = random_tensor<uint8_t>(gen, {N, C, H, W}, extreme ? 255 : 0, 255, -7);
    const auto w = random_tensor<int8_t>(gen, {Co, C, K, K}, -128, extreme ? -128 : 127, -7);
    const Shape os = conv_output_shape(x.shape, w.shape, p);
    const auto e = random_tensor<int32_t>(gen, os, extreme ? 16256 : -16256, 16256, -20);
    const int threads = 1 + trial % 3;
    const std::string where = "trial " + std::to_string(trial) + " K" + std::to_string(K) + " s" +
                              std::to_string(stride) + " p" + std::to_string(pad);
    ASSERT_EQ(conv2d_forward_fast(x, w, p, threads).data, conv2d_forward(x, w, p).data) << where;
    const auto bd = conv2d_backward_data_fast(e, w, p, x.shape, threads);
    const auto bd_ref = conv2d_backward_data(e, w, p, x.shape);
    ASSERT_EQ(bd.data, bd_ref.data) << where;
    ASSERT_EQ(bd.exp, bd_ref.exp);
    {
      SCOPED_TRACE(where);
      narrow_backward_data_matches(e, w, p, x.shape, threads, bd_ref);
      if (::testing::Test::HasFailure()) return;
    }
    ASSERT_EQ(conv2d_weight_grad_fast(x, e, p, w.shape, threads).data, conv2d_weight_grad(x, e, p, w.shape).data)
        << where;
    ++shapes;
  }
  std::printf("%lld random shapes, three passes each, bit-identical\n", static_cast<long long>(shapes));
}
}  // namespace

TEST(FastKernels, ConvPassesEqualReferenceOnRandomShapes) { check_random_shapes(20261127, 1000); }

// The portable im2col path (what a CPU without AVX2 runs), forced on this host.
TEST(FastKernels, PortablePathEqualsReferenceOnRandomShapes) {
  fast_kernels_set_avx2(false);
  check_random_shapes(20261128, 400);
  fast_kernels_set_avx2(true);
}

namespace {
// Runs `body` once on every instruction path this CPU has (fast_conv.h), restoring the default.
template <typename F>
void on_every_path(F body) {
  const ConvPath saved = fast_conv_path();
  for (ConvPath path : conv_paths_supported()) {
    SCOPED_TRACE(conv_path_name(path));
    fast_conv_set_path(path);
    body();
  }
  fast_conv_set_path(saved);
}
}  // namespace

TEST(FastKernels, LargeReductionsUseChunkedOrExactFallbacks) { on_every_path([] {
  // 64 images of 28x28 at the operand limits: weight-gradient partial sums must be chunked.
  Tensor<uint8_t> x({64, 2, 28, 28}, -7);
  std::fill(x.data.begin(), x.data.end(), 255);
  Tensor<int8_t> w({3, 2, 3, 3}, -7);
  std::fill(w.data.begin(), w.data.end(), -128);
  Tensor<int32_t> e({64, 3, 28, 28}, -20);
  std::fill(e.data.begin(), e.data.end(), 16256);
  const ConvParams p{1, 1};
  EXPECT_EQ(conv2d_weight_grad_fast(x, e, p, w.shape, 2).data, conv2d_weight_grad(x, e, p, w.shape).data);
  EXPECT_EQ(conv2d_backward_data_fast(e, w, p, x.shape, 2).data, conv2d_backward_data(e, w, p, x.shape).data);
  // An error payload outside int16 falls back to the reference.
  e.data[5] = 1 << 20;
  EXPECT_EQ(conv2d_weight_grad_fast(x, e, p, w.shape, 2).data, conv2d_weight_grad(x, e, p, w.shape).data);
}); }

namespace {

// All three passes of one shape against the reference, and equal for 1, 2 and 3 threads.
void expect_passes_match_reference(std::mt19937_64& gen, const Shape& xs, const Shape& ws, ConvParams p,
                                   int64_t emax = 16256) {
  const auto x = random_tensor<uint8_t>(gen, xs, 0, 255, -7);
  const auto w = random_tensor<int8_t>(gen, ws, -128, 127, -7);
  const auto e = random_tensor<int32_t>(gen, conv_output_shape(xs, ws, p), -emax, emax, -20);
  const auto fwd = conv2d_forward(x, w, p);
  const auto bwd = conv2d_backward_data(e, w, p, xs);
  const auto wg = conv2d_weight_grad(x, e, p, ws);
  for (int threads = 1; threads <= 3; ++threads) {
    SCOPED_TRACE(::testing::Message() << "threads " << threads);
    EXPECT_EQ(conv2d_forward_fast(x, w, p, threads).data, fwd.data);
    EXPECT_EQ(conv2d_backward_data_fast(e, w, p, xs, threads).data, bwd.data);
    EXPECT_EQ(conv2d_weight_grad_fast(x, e, p, ws, threads).data, wg.data);
    narrow_backward_data_matches(e, w, p, xs, threads, bwd);
  }
}

}  // namespace

TEST(FastKernels, SmallResnetLayerShapesMatchReference) { on_every_path([] {
  const unsigned seed = 4242;
  std::printf("seed=%u\n", seed);
  std::mt19937_64 gen(seed);
  struct L {
    int64_t C, Co, H, K;
    int stride, pad;
  };
  // conv1, the 3x3 stride-1 stages, the stride-2 stage entries and the 1x1 stride-2 projections.
  const L layers[] = {{1, 16, 28, 3, 1, 1},  {16, 16, 28, 3, 1, 1}, {16, 32, 28, 3, 2, 1}, {32, 32, 14, 3, 1, 1},
                      {16, 32, 28, 1, 2, 0}, {32, 64, 14, 3, 2, 1}, {64, 64, 7, 3, 1, 1},  {32, 64, 14, 1, 2, 0}};
  for (int64_t n = 2; n <= 3; ++n)
    for (const L& l : layers) {
      SCOPED_TRACE(::testing::Message() << "N" << n << " C" << l.C << " Co" << l.Co << " H" << l.H << " K" << l.K
                                        << " s" << l.stride);
      expect_passes_match_reference(gen, {n, l.C, l.H, l.H}, {l.Co, l.C, l.K, l.K}, {l.stride, l.pad});
    }
}); }

TEST(FastKernels, TileEdgesOddChannelsAndNonSquareImagesMatchReference) { on_every_path([] {
  const unsigned seed = 99;
  std::printf("seed=%u\n", seed);
  std::mt19937_64 gen(seed);
  // Odd channel counts (a zero pair partner), Co not a multiple of the 4-row tiles, pixel
  // grids that are not multiples of the 24-pixel tiles, wide/narrow images, K up to 5.
  expect_passes_match_reference(gen, {2, 7, 11, 13}, {13, 7, 3, 3}, {1, 1});
  expect_passes_match_reference(gen, {2, 33, 9, 6}, {35, 33, 3, 3}, {2, 1});
  expect_passes_match_reference(gen, {3, 5, 17, 5}, {6, 5, 5, 5}, {1, 2});
  expect_passes_match_reference(gen, {2, 3, 12, 19}, {5, 3, 4, 4}, {2, 3});
  expect_passes_match_reference(gen, {1, 9, 1, 30}, {3, 9, 1, 1}, {1, 0});
  expect_passes_match_reference(gen, {2, 2, 6, 6}, {3, 2, 3, 3}, {3, 0});  // stride 3
  // Wide stride-2 rows: the vectorised even-byte packing and its scalar tails.
  expect_passes_match_reference(gen, {2, 3, 5, 71}, {4, 3, 3, 3}, {2, 1});
  expect_passes_match_reference(gen, {1, 2, 4, 64}, {3, 2, 2, 2}, {2, 0});
}); }

TEST(FastKernels, ShortInt32FlushIntervalsMatchReference) { on_every_path([] {
  // |e| = 32767 (the int16 limit) with x = 255: an int32 partial sum holds only 257
  // weight-gradient products, so several flushes happen over 4 images of 28x28 (all terms
  // of one sign, so a missed flush overflows). Backward data with Co = 72 and |w| = 128
  // holds 512 / 72 = 7 taps of 9 per partial sum.
  const unsigned seed = 5;
  std::printf("seed=%u\n", seed);
  std::mt19937_64 gen(seed);
  Tensor<uint8_t> x({4, 3, 28, 28}, -7);
  std::fill(x.data.begin(), x.data.end(), 255);
  Tensor<int8_t> w({72, 3, 3, 3}, -7);
  std::fill(w.data.begin(), w.data.end(), -128);
  const ConvParams p{1, 1};
  Tensor<int32_t> e(conv_output_shape(x.shape, w.shape, p), -20);
  std::fill(e.data.begin(), e.data.end(), 32767);
  for (int threads = 1; threads <= 2; ++threads) {
    EXPECT_EQ(conv2d_weight_grad_fast(x, e, p, w.shape, threads).data, conv2d_weight_grad(x, e, p, w.shape).data);
    EXPECT_EQ(conv2d_backward_data_fast(e, w, p, x.shape, threads).data,
              conv2d_backward_data(e, w, p, x.shape).data);
    // Its sums (-72·9·32767·128) leave int32: the int32 form must refuse.
    Tensor<int32_t> narrow;
    EXPECT_FALSE(conv2d_backward_data_fast_narrow(e, w, p, x.shape, threads, narrow));
  }
  // Few, small rows pack many images into one run longer than the 2056-pixel flush
  // interval: 64 images of 7x7 (compact rows, 64 * 49 pixels) and 16 of 12x12 (the padded
  // grid, 16 * 196 pixels).
  for (const int64_t hw : {7, 12}) {
    const int64_t n = hw == 7 ? 64 : 16;
    Tensor<uint8_t> xs({n, 1, hw, hw}, -7);
    std::fill(xs.data.begin(), xs.data.end(), 255);
    Tensor<int32_t> es({n, 1, hw, hw}, -20);
    std::fill(es.data.begin(), es.data.end(), -32767);
    EXPECT_EQ(conv2d_weight_grad_fast(xs, es, p, {1, 1, 3, 3}, 1).data, conv2d_weight_grad(xs, es, p, {1, 1, 3, 3}).data)
        << hw << "x" << hw;
  }
  // Co = 600: Co products of an int16 error could leave int32 (the error is scanned first),
  // those of |e| <= 16256 do not, one tap per int32 partial sum.
  expect_passes_match_reference(gen, {1, 2, 5, 5}, {600, 2, 3, 3}, {1, 1});
  // Random signs at the same limits, stride 2 (several phases, each with its own tap groups).
  expect_passes_match_reference(gen, {3, 4, 28, 28}, {72, 4, 3, 3}, {2, 1}, 32767);
}); }

TEST(FastKernels, ErrorsOutsideInt16FallBackWhereverTheyAre) { on_every_path([] {
  // The AVX2 path checks |e| <= 32767 while packing (vector body, scalar tail, odd last
  // channel); one value just outside int16 anywhere must still give the reference result.
  const unsigned seed = 31;
  std::printf("seed=%u\n", seed);
  std::mt19937_64 gen(seed);
  const ConvParams p{1, 1};
  const auto x = random_tensor<uint8_t>(gen, {2, 3, 28, 28}, 0, 255, -7);
  const auto w = random_tensor<int8_t>(gen, {5, 3, 3, 3}, -128, 127, -7);
  const auto e0 = random_tensor<int32_t>(gen, {2, 5, 28, 28}, -16256, 16256, -20);
  const int64_t places[][4] = {{0, 0, 0, 0}, {0, 1, 0, 5}, {1, 2, 27, 20}, {1, 4, 3, 27}, {1, 4, 27, 27}};
  for (const auto& at : places)
    for (const int32_t value : {32768, -32768, -40000}) {
      SCOPED_TRACE(::testing::Message() << "e[" << at[0] << "," << at[1] << "," << at[2] << "," << at[3]
                                        << "] = " << value);
      auto e = e0;
      e.data[((at[0] * 5 + at[1]) * 28 + at[2]) * 28 + at[3]] = value;
      EXPECT_EQ(conv2d_backward_data_fast(e, w, p, x.shape, 2).data, conv2d_backward_data(e, w, p, x.shape).data);
      EXPECT_EQ(conv2d_weight_grad_fast(x, e, p, w.shape, 2).data, conv2d_weight_grad(x, e, p, w.shape).data);
      Tensor<int32_t> narrow;
      EXPECT_FALSE(conv2d_backward_data_fast_narrow(e, w, p, x.shape, 2, narrow));
    }
}); }
