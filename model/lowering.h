// Convolutions and linear layers as the array's GEMMs (functional mode): the feeder's view
// of each operand as a matrix, and the scatter of GEMM results back to tensors.
// Conv: M = N·Ho·Wo rows (n, oy, ox), D = Ci·k·k (ci, ky, kx), N = Co.
#pragma once

#include <cstdint>

#include "golden/conv.h"
#include "golden/quantizers.h"
#include "golden/tensor.h"

namespace octet::model {

// A{M, Ci·k·k}: the input patches (zero where the window reads padding).
golden::Tensor<uint8_t> im2col(const golden::Tensor<uint8_t>& x, int64_t k, golden::ConvParams p,
                               const golden::Shape& out_shape);
// Col2im: sums E1raw{M, Ci·k·k} into an input-shaped tensor (the transposed convolution).
golden::Tensor<int64_t> col2im(const golden::Tensor<int64_t>& cols, const golden::Shape& input_shape, int64_t k,
                               golden::ConvParams p, const golden::Shape& out_shape);
// W{Co, F...} -> W{F, Co} (F = product of the other dimensions).
golden::Tensor<int8_t> weight_matrix(const golden::Tensor<int8_t>& w);
// E2 payloads {N, Co, Ho, Wo} (or {N, Co}) -> codes {N·Ho·Wo, Co}.
golden::Tensor<golden::FlagCode> error_matrix(const golden::Tensor<int32_t>& e2);
// Out{N·Ho·Wo, Co} -> {N, Co, Ho, Wo} (shape given), as int64.
golden::Tensor<int64_t> rows_to_nchw(const golden::Tensor<int64_t>& y, const golden::Shape& shape);
// G{F, Co} -> {Co, F...} with the parameter's shape.
golden::Tensor<int64_t> gradient_to_param(const golden::Tensor<int64_t>& g, const golden::Shape& param_shape);
// int64 -> int32, an error if a value leaves int32 (the forward's int32 output, numerics §5.2).
golden::Tensor<int32_t> narrow_checked(const golden::Tensor<int64_t>& t, const char* what);

}  // namespace octet::model
