// Reference convolution and linear kernels of the integer path (docs/numerics.md §5.2,
// §7.2, §7.5): one plain loop nest per op, exact integer sums. Layout NCHW; weights
// {Co, Ci, K, K}. These are the truth that fast kernels are tested against.
#pragma once

#include <cstdint>

#include "golden/tensor.h"

namespace octet::golden {

struct ConvParams {
  int stride = 1;
  int pad = 0;
};

// {N, Co, Ho, Wo} with Ho = (H + 2p - K) / s + 1; throws if the shapes do not fit.
Shape conv_output_shape(const Shape& input, const Shape& weight, ConvParams p);

// Forward: activations (uint8) x weights (int8) -> int32 at x.exp + w.exp (error if a sum leaves int32).
Tensor<int32_t> conv2d_forward(const Tensor<uint8_t>& x, const Tensor<int8_t>& w, ConvParams p);

// Error back-propagation: E2 (payloads in fine units) through the transposed weights,
// int64 at e.exp + w.exp, shaped like the layer input `input_shape`.
Tensor<int64_t> conv2d_backward_data(const Tensor<int32_t>& e, const Tensor<int8_t>& w, ConvParams p,
                                     const Shape& input_shape);

// Weight gradient: activations x E2, reduced over batch and output pixels; int64 at x.exp + e.exp.
Tensor<int64_t> conv2d_weight_grad(const Tensor<uint8_t>& x, const Tensor<int32_t>& e, ConvParams p,
                                   const Shape& weight_shape);

// Linear layer on flattened activations x {N, F}, weights {O, F}, bias {O} already on
// the output grid x.exp + w.exp (error if the exponents disagree or a sum leaves int32).
Tensor<int32_t> linear_forward(const Tensor<uint8_t>& x, const Tensor<int8_t>& w, const Tensor<int32_t>& bias);
Tensor<int64_t> linear_backward_data(const Tensor<int32_t>& e, const Tensor<int8_t>& w);
Tensor<int64_t> linear_weight_grad(const Tensor<uint8_t>& x, const Tensor<int32_t>& e);

}  // namespace octet::golden
