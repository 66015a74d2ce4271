#include "golden/conv.h"

#include <limits>
#include <stdexcept>
#include <string>

namespace octet::golden {

namespace {
int32_t to_int32_checked(int64_t acc, const char* op) {
  if (acc > std::numeric_limits<int32_t>::max() || acc < std::numeric_limits<int32_t>::min())
    throw std::overflow_error(std::string(op) + ": an output sum " + std::to_string(acc) +
                              " exceeds the int32 accumulator (docs/numerics.md §5.2)");
  return static_cast<int32_t>(acc);
}

void check_rank(const Shape& s, size_t rank, const char* what) {
  if (s.size() != rank) throw std::invalid_argument(std::string(what) + " must have rank " + std::to_string(rank));
}
}  // namespace

Shape conv_output_shape(const Shape& input, const Shape& weight, ConvParams p) {
  check_rank(input, 4, "conv input");
  check_rank(weight, 4, "conv weight");
  if (input[1] != weight[1])
    throw std::invalid_argument("conv: input has " + std::to_string(input[1]) + " channels, weight expects " +
                                std::to_string(weight[1]));
  if (weight[2] != weight[3]) throw std::invalid_argument("conv: only square kernels are supported");
  if (p.stride < 1 || p.pad < 0) throw std::invalid_argument("conv: stride must be >= 1 and padding >= 0");
  const int64_t k = weight[2];
  const int64_t ho = (input[2] + 2 * p.pad - k) / p.stride + 1;
  const int64_t wo = (input[3] + 2 * p.pad - k) / p.stride + 1;
  if (input[2] + 2 * p.pad < k || input[3] + 2 * p.pad < k || ho < 1 || wo < 1)
    throw std::invalid_argument("conv: kernel larger than the padded input");
  return {input[0], weight[0], ho, wo};
}

Tensor<int32_t> conv2d_forward(const Tensor<uint8_t>& x, const Tensor<int8_t>& w, ConvParams p) {
  const Shape os = conv_output_shape(x.shape, w.shape, p);
  const int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  const int64_t Co = w.shape[0], K = w.shape[2], Ho = os[2], Wo = os[3];
  Tensor<int32_t> out(os, x.exp + w.exp);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t co = 0; co < Co; ++co)
      for (int64_t oy = 0; oy < Ho; ++oy)
        for (int64_t ox = 0; ox < Wo; ++ox) {
          int64_t acc = 0;
          for (int64_t ci = 0; ci < C; ++ci)
            for (int64_t ky = 0; ky < K; ++ky)
              for (int64_t kx = 0; kx < K; ++kx) {
                const int64_t iy = oy * p.stride + ky - p.pad;
                const int64_t ix = ox * p.stride + kx - p.pad;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                acc += int64_t{x.data[((n * C + ci) * H + iy) * W + ix]} * w.data[((co * C + ci) * K + ky) * K + kx];
              }
          out.data[((n * Co + co) * Ho + oy) * Wo + ox] = to_int32_checked(acc, "conv2d_forward");
        }
  return out;
}

Tensor<int64_t> conv2d_backward_data(const Tensor<int32_t>& e, const Tensor<int8_t>& w, ConvParams p,
                                     const Shape& input_shape) {
  const Shape os = conv_output_shape(input_shape, w.shape, p);
  if (e.shape != os) throw std::invalid_argument("conv2d_backward_data: error shape does not match the conv output");
  const int64_t N = input_shape[0], C = input_shape[1], H = input_shape[2], W = input_shape[3];
  const int64_t Co = w.shape[0], K = w.shape[2], Ho = os[2], Wo = os[3];
  Tensor<int64_t> out(input_shape, e.exp + w.exp);
  // Scatter form of the transposed convolution: every output error adds to the inputs it read.
  for (int64_t n = 0; n < N; ++n)
    for (int64_t co = 0; co < Co; ++co)
      for (int64_t oy = 0; oy < Ho; ++oy)
        for (int64_t ox = 0; ox < Wo; ++ox) {
          const int64_t err = e.data[((n * Co + co) * Ho + oy) * Wo + ox];
          if (err == 0) continue;
          for (int64_t ci = 0; ci < C; ++ci)
            for (int64_t ky = 0; ky < K; ++ky)
              for (int64_t kx = 0; kx < K; ++kx) {
                const int64_t iy = oy * p.stride + ky - p.pad;
                const int64_t ix = ox * p.stride + kx - p.pad;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                out.data[((n * C + ci) * H + iy) * W + ix] += err * w.data[((co * C + ci) * K + ky) * K + kx];
              }
        }
  return out;
}

Tensor<int64_t> conv2d_weight_grad(const Tensor<uint8_t>& x, const Tensor<int32_t>& e, ConvParams p,
                                   const Shape& weight_shape) {
  const Shape os = conv_output_shape(x.shape, weight_shape, p);
  if (e.shape != os) throw std::invalid_argument("conv2d_weight_grad: error shape does not match the conv output");
  const int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  const int64_t Co = weight_shape[0], K = weight_shape[2], Ho = os[2], Wo = os[3];
  Tensor<int64_t> g(weight_shape, x.exp + e.exp);
  for (int64_t co = 0; co < Co; ++co)
    for (int64_t ci = 0; ci < C; ++ci)
      for (int64_t ky = 0; ky < K; ++ky)
        for (int64_t kx = 0; kx < K; ++kx) {
          int64_t acc = 0;
          for (int64_t n = 0; n < N; ++n)
            for (int64_t oy = 0; oy < Ho; ++oy)
              for (int64_t ox = 0; ox < Wo; ++ox) {
                const int64_t iy = oy * p.stride + ky - p.pad;
                const int64_t ix = ox * p.stride + kx - p.pad;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                acc += int64_t{x.data[((n * C + ci) * H + iy) * W + ix]} * e.data[((n * Co + co) * Ho + oy) * Wo + ox];
              }
          g.data[((co * C + ci) * K + ky) * K + kx] = acc;
        }
  return g;
}

Tensor<int32_t> linear_forward(const Tensor<uint8_t>& x, const Tensor<int8_t>& w, const Tensor<int32_t>& bias) {
  check_rank(x.shape, 2, "linear input");
  check_rank(w.shape, 2, "linear weight");
  const int64_t N = x.shape[0], F = x.shape[1], O = w.shape[0];
  if (w.shape[1] != F) throw std::invalid_argument("linear: weight expects " + std::to_string(w.shape[1]) + " features");
  if (bias.shape != Shape{O}) throw std::invalid_argument("linear: bias shape must be {out}");
  if (bias.exp != x.exp + w.exp) throw std::invalid_argument("linear: bias must be on the output grid");
  Tensor<int32_t> out({N, O}, x.exp + w.exp);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o) {
      int64_t acc = bias.data[o];
      for (int64_t f = 0; f < F; ++f) acc += int64_t{x.data[n * F + f]} * w.data[o * F + f];
      out.data[n * O + o] = to_int32_checked(acc, "linear_forward");
    }
  return out;
}

Tensor<int64_t> linear_backward_data(const Tensor<int32_t>& e, const Tensor<int8_t>& w) {
  check_rank(e.shape, 2, "linear error");
  const int64_t N = e.shape[0], O = e.shape[1], F = w.shape[1];
  if (w.shape[0] != O) throw std::invalid_argument("linear_backward_data: error and weight disagree");
  Tensor<int64_t> out({N, F}, e.exp + w.exp);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t f = 0; f < F; ++f) {
      int64_t acc = 0;
      for (int64_t o = 0; o < O; ++o) acc += int64_t{e.data[n * O + o]} * w.data[o * F + f];
      out.data[n * F + f] = acc;
    }
  return out;
}

Tensor<int64_t> linear_weight_grad(const Tensor<uint8_t>& x, const Tensor<int32_t>& e) {
  check_rank(x.shape, 2, "linear input");
  check_rank(e.shape, 2, "linear error");
  const int64_t N = x.shape[0], F = x.shape[1], O = e.shape[1];
  if (e.shape[0] != N) throw std::invalid_argument("linear_weight_grad: batch sizes disagree");
  Tensor<int64_t> g({O, F}, x.exp + e.exp);
  for (int64_t o = 0; o < O; ++o)
    for (int64_t f = 0; f < F; ++f) {
      int64_t acc = 0;
      for (int64_t n = 0; n < N; ++n) acc += int64_t{x.data[n * F + f]} * e.data[n * O + o];
      g.data[o * F + f] = acc;
    }
  return g;
}

}  // namespace octet::golden
