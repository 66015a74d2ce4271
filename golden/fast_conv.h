// Fast conv kernels: with AVX2, shifted-tap implicit GEMMs on padded int16 planes
// (golden/tap_conv.*, vpmaddwd); otherwise im2col + the portable int16 GEMM. Threaded over
// the batch. Bit-identical to the reference kernels of conv.h, with the same fallbacks to
// them outside the int16 / int32 bounds (testbench/golden/test_fast_conv.cpp: >= 1000
// random shapes, the small-ResNet layers, tile edges, flush intervals).
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
// Tests: false runs the portable im2col path on an AVX2 host too (true restores the AVX2 path
// when the CPU has it). Not for use while kernels run on other threads.
void fast_kernels_set_avx2(bool enabled);

}  // namespace octet::golden
