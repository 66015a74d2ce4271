#include "model/lowering.h"

#include <limits>
#include <stdexcept>
#include <string>

namespace octet::model {

using golden::Shape;
using golden::Tensor;

Tensor<uint8_t> im2col(const Tensor<uint8_t>& x, int64_t k, golden::ConvParams p, const Shape& os) {
  const int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3], Ho = os[2], Wo = os[3];
  const int64_t D = C * k * k;
  Tensor<uint8_t> a({N * Ho * Wo, D}, x.exp);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t oy = 0; oy < Ho; ++oy)
      for (int64_t ox = 0; ox < Wo; ++ox) {
        uint8_t* row = &a.data[static_cast<size_t>(((n * Ho + oy) * Wo + ox) * D)];
        for (int64_t ci = 0; ci < C; ++ci)
          for (int64_t ky = 0; ky < k; ++ky)
            for (int64_t kx = 0; kx < k; ++kx) {
              const int64_t iy = oy * p.stride + ky - p.pad, ix = ox * p.stride + kx - p.pad;
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
              row[(ci * k + ky) * k + kx] = x.data[static_cast<size_t>(((n * C + ci) * H + iy) * W + ix)];
            }
      }
  return a;
}

Tensor<int64_t> col2im(const Tensor<int64_t>& cols, const Shape& is, int64_t k, golden::ConvParams p, const Shape& os) {
  const int64_t N = is[0], C = is[1], H = is[2], W = is[3], Ho = os[2], Wo = os[3];
  const int64_t D = C * k * k;
  Tensor<int64_t> x(is, cols.exp);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t oy = 0; oy < Ho; ++oy)
      for (int64_t ox = 0; ox < Wo; ++ox) {
        const int64_t* row = &cols.data[static_cast<size_t>(((n * Ho + oy) * Wo + ox) * D)];
        for (int64_t ci = 0; ci < C; ++ci)
          for (int64_t ky = 0; ky < k; ++ky)
            for (int64_t kx = 0; kx < k; ++kx) {
              const int64_t iy = oy * p.stride + ky - p.pad, ix = ox * p.stride + kx - p.pad;
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
              x.data[static_cast<size_t>(((n * C + ci) * H + iy) * W + ix)] += row[(ci * k + ky) * k + kx];
            }
      }
  return x;
}

Tensor<int8_t> weight_matrix(const Tensor<int8_t>& w) {
  const int64_t co = w.shape[0], f = w.size() / co;
  Tensor<int8_t> m({f, co}, w.exp);
  for (int64_t o = 0; o < co; ++o)
    for (int64_t i = 0; i < f; ++i) m.data[static_cast<size_t>(i * co + o)] = w.data[static_cast<size_t>(o * f + i)];
  return m;
}

Tensor<golden::FlagCode> error_matrix(const Tensor<int32_t>& e2) {
  constexpr int kBits = 8;
  const int64_t N = e2.shape[0], C = e2.shape[1], P = e2.size() / (N * C);
  Tensor<golden::FlagCode> m({N * P, C}, e2.exp);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t q = 0; q < P; ++q)
        m.data[static_cast<size_t>((n * P + q) * C + c)] =
            golden::flag_encode(e2.data[static_cast<size_t>((n * C + c) * P + q)], kBits);
  return m;
}

Tensor<int64_t> rows_to_nchw(const Tensor<int64_t>& y, const Shape& shape) {
  const int64_t N = shape[0], C = shape[1], P = golden::shape_elements(shape) / (N * C);
  Tensor<int64_t> t(shape, y.exp);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t q = 0; q < P; ++q)
        t.data[static_cast<size_t>((n * C + c) * P + q)] = y.data[static_cast<size_t>((n * P + q) * C + c)];
  return t;
}

Tensor<int64_t> gradient_to_param(const Tensor<int64_t>& g, const Shape& param_shape) {
  const int64_t f = g.shape[0], co = g.shape[1];
  Tensor<int64_t> t(param_shape, g.exp);
  for (int64_t o = 0; o < co; ++o)
    for (int64_t i = 0; i < f; ++i) t.data[static_cast<size_t>(o * f + i)] = g.data[static_cast<size_t>(i * co + o)];
  return t;
}

Tensor<int32_t> narrow_checked(const Tensor<int64_t>& t, const char* what) {
  Tensor<int32_t> o(t.shape, t.exp);
  for (size_t i = 0; i < t.data.size(); ++i) {
    const int64_t v = t.data[i];
    if (v > std::numeric_limits<int32_t>::max() || v < std::numeric_limits<int32_t>::min())
      throw std::overflow_error(std::string(what) + ": an output sum " + std::to_string(v) + " exceeds int32");
    o.data[i] = static_cast<int32_t>(v);
  }
  return o;
}

}  // namespace octet::model
