// Every instruction path of the fast conv kernels that this CPU can run (fast_conv.h's
// ConvPath: portable, avx2, avx2_u8, avx_vnni, avx512_vnni) is bit-identical to the reference
// loop nests on >= 1000 random shapes per path and pass, at the operand limits of the byte
// kernels (x = 255, w = -128 / -127 / 127, |w| <= 64 and x * |w| = 16383 for vpmaddubsw),
// E2 fine and coarse codes and |e| up to 16400, odd channel counts and pixel tails.
#include <gtest/gtest.h>

#include <string>

#include "golden/fast_conv.h"
#include "golden/input_error.h"
#include "golden/quantizers.h"
#include "random_tensors.h"

using namespace octet::golden;
using namespace octet::testing;

namespace {

// Restores the default path when a test ends (also on a failed assertion).
struct PathGuard {
  ConvPath saved = fast_conv_path();
  ~PathGuard() { fast_conv_set_path(saved); }
};

// An E2 tensor in fine units (docs/numerics.md §4.4): fine payloads 0..127 or coarse codes
// v * 128 (|v| <= 127), random sign; `wide` instead draws |e| up to 16400 (past 2^14).
Tensor<int32_t> random_errors(std::mt19937_64& gen, const Shape& shape, int kind) {
  Tensor<int32_t> e(shape, -20);
  for (auto& v : e.data) {
    const int64_t r = uniform(gen, 0, 9);
    int64_t m = 0;
    if (kind == 0) m = r < 4 ? uniform(gen, 0, 127) : 128 * uniform(gen, 1, 127);  // E2 codes
    if (kind == 1) m = r < 5 ? 16256 : 128 * uniform(gen, 120, 127);               // coarse extremes
    if (kind == 2) m = uniform(gen, 16370, 16400);                                  // around 2^14
    if (kind == 3) m = uniform(gen, 0, 16383);
    v = static_cast<int32_t>(uniform(gen, 0, 1) ? -m : m);
  }
  if (kind == 1 && !e.data.empty()) e.data[0] = -16384;  // hi = -128, lo = 0
  return e;
}

void check_path_on_random_shapes(ConvPath path, unsigned seed, int trials) {
  fast_conv_set_path(path);
  std::printf("path %s seed=%u\n", conv_path_name(path), seed);
  std::mt19937_64 gen(seed);
  for (int trial = 0; trial < trials; ++trial) {
    // C up to 9 and Co up to 19: quad and pair tails, 4- and 8-row tile tails; widths up to 40
    // so the 16-pixel vector packing and its scalar tail both run.
    const int64_t N = uniform(gen, 1, 3), C = uniform(gen, 1, 9), Co = uniform(gen, 1, 19), K = uniform(gen, 1, 4);
    const int stride = static_cast<int>(uniform(gen, 1, 3)), pad = static_cast<int>(uniform(gen, 0, K));
    const int64_t lo = std::max<int64_t>(1, K - 2 * pad);
    const int64_t H = uniform(gen, lo, 12), W = uniform(gen, lo, trial % 4 == 0 ? 40 : 12);
    const ConvParams p{stride, pad};
    // Operand ranges: full bytes; x = 255 with w at -128 / 127; |w| <= 64 (vpmaddubsw's
    // range at any x); x <= 129 with |w| <= 127 (its bound x * |w| <= 16383 at the edge).
    const int mode = trial % 5;
    const int64_t x_lo = mode == 1 ? 255 : 0, x_hi = mode == 4 ? 129 : 255;
    const int64_t w_lo = mode == 1 ? -128 : mode == 3 ? -64 : mode == 4 ? -127 : -128;
    const int64_t w_hi = mode == 1 ? (trial % 2 ? -128 : 127) : mode == 3 ? 64 : 127;
    const auto x = random_tensor<uint8_t>(gen, {N, C, H, W}, x_lo, x_hi, -7);
    const auto w = random_tensor<int8_t>(gen, {Co, C, K, K}, w_lo, w_hi, -7);
    const Shape os = conv_output_shape(x.shape, w.shape, p);
    const auto e = random_errors(gen, os, static_cast<int>(uniform(gen, 0, 3)));
    const int threads = 1 + trial % 3;
    const std::string where = std::string(conv_path_name(path)) + " trial " + std::to_string(trial) + " N" +
                              std::to_string(N) + " C" + std::to_string(C) + " Co" + std::to_string(Co) + " " +
                              std::to_string(H) + "x" + std::to_string(W) + " K" + std::to_string(K) + " s" +
                              std::to_string(stride) + " p" + std::to_string(pad);
    ASSERT_EQ(conv2d_forward_fast(x, w, p, threads).data, conv2d_forward(x, w, p).data) << where;
    const Tensor<int64_t> bd_ref = conv2d_backward_data(e, w, p, x.shape);
    ASSERT_EQ(conv2d_backward_data_fast(e, w, p, x.shape, threads).data, bd_ref.data) << where;
    // The max |dx| the SIMD paths measure while writing (the next quantizer's scale): exact.
    KnownMax bd_max;
    ASSERT_EQ(conv2d_backward_data_fast(e, w, p, x.shape, threads, &bd_max).data, bd_ref.data) << where;
    ASSERT_EQ(bd_max.known, path != ConvPath::portable) << where;
    if (bd_max.known) {
      ASSERT_EQ(bd_max.value, tensor_max_magnitude(bd_ref.data.data(), bd_ref.size())) << where;
    }
    ASSERT_EQ(conv2d_weight_grad_fast(x, e, p, w.shape, threads).data, conv2d_weight_grad(x, e, p, w.shape).data)
        << where;
  }
  std::printf("path %s: %d random shapes, three passes each, bit-identical\n", conv_path_name(path), trials);
}

}  // namespace

TEST(FastConvPaths, EveryPathThisCpuRunsEqualsReferenceOnRandomShapes) {
  PathGuard guard;
  std::string ran;
  unsigned seed = 20261202;
  for (ConvPath path : conv_paths_supported()) {
    check_path_on_random_shapes(path, seed++, 1000);
    ran += std::string(" ") + conv_path_name(path);
  }
  std::printf("paths run on this CPU:%s\n", ran.c_str());
}

TEST(FastConvPaths, ResnetLayerShapesOnEveryPath) {
  PathGuard guard;
  const unsigned seed = 808;
  std::printf("seed=%u\n", seed);
  struct L {
    int64_t N, C, Co, H, K;
    int stride, pad;
  };
  // Small-ResNet and (narrowed) ResNet-18 layers: 7x7/2 stem, 3x3 stages, 1x1/2 projections.
  const L layers[] = {{2, 3, 16, 32, 7, 2, 3},  {2, 16, 16, 28, 3, 1, 1}, {2, 32, 64, 14, 3, 2, 1},
                      {2, 64, 64, 7, 3, 1, 1},  {2, 32, 64, 14, 1, 2, 0}, {1, 13, 21, 56, 3, 1, 1},
                      {1, 128, 8, 5, 3, 1, 1}};
  for (ConvPath path : conv_paths_supported()) {
    fast_conv_set_path(path);
    std::mt19937_64 gen(seed);
    for (const L& l : layers) {
      SCOPED_TRACE(::testing::Message() << conv_path_name(path) << " C" << l.C << " Co" << l.Co << " H" << l.H
                                        << " K" << l.K << " s" << l.stride);
      const auto x = random_tensor<uint8_t>(gen, {l.N, l.C, l.H, l.H}, 0, 255, -7);
      const auto w = random_tensor<int8_t>(gen, {l.Co, l.C, l.K, l.K}, -64, 64, -7);
      const ConvParams p{l.stride, l.pad};
      const auto e = random_errors(gen, conv_output_shape(x.shape, w.shape, p), 0);
      EXPECT_EQ(conv2d_forward_fast(x, w, p, 2).data, conv2d_forward(x, w, p).data);
      EXPECT_EQ(conv2d_backward_data_fast(e, w, p, x.shape, 2).data, conv2d_backward_data(e, w, p, x.shape).data);
      EXPECT_EQ(conv2d_weight_grad_fast(x, e, p, w.shape, 2).data, conv2d_weight_grad(x, e, p, w.shape).data);
    }
  }
}

TEST(FastConvPaths, PathNamesParseAndUnsupportedPathsAreRefused) {
  for (ConvPath path : {ConvPath::portable, ConvPath::avx2, ConvPath::avx2_u8, ConvPath::avx_vnni,
                        ConvPath::avx512_vnni})
    EXPECT_EQ(parse_conv_path(conv_path_name(path), "test"), path);
  EXPECT_THROW(parse_conv_path("avx1024", "test"), octet::InputError);
  for (ConvPath path : {ConvPath::avx2, ConvPath::avx2_u8, ConvPath::avx_vnni, ConvPath::avx512_vnni})
    if (!conv_path_supported(path)) {
      EXPECT_THROW(fast_conv_set_path(path), std::invalid_argument);
    }
}
