// Fast conv / linear kernels: im2col + int16 GEMM (AVX2 vpmaddwd when the CPU has it, a
// portable loop otherwise), threaded over the batch. Bit-identical to the reference
// kernels of conv.h (testbench/golden/test_fast_conv.cpp checks >= 1000 random shapes).
#pragma once

#include "golden/conv.h"

namespace octet::golden {

Tensor<int32_t> conv2d_forward_fast(const Tensor<uint8_t>& x, const Tensor<int8_t>& w, ConvParams p, int threads);
Tensor<int64_t> conv2d_backward_data_fast(const Tensor<int32_t>& e, const Tensor<int8_t>& w, ConvParams p,
                                          const Shape& input_shape, int threads);
Tensor<int64_t> conv2d_weight_grad_fast(const Tensor<uint8_t>& x, const Tensor<int32_t>& e, ConvParams p,
                                        const Shape& weight_shape, int threads);

// True when the AVX2 path is in use (reported by benchmarks).
bool fast_kernels_use_avx2();

}  // namespace octet::golden
