// Fast ReLU quantization and mask (docs/numerics.md §5.5): the same bits as relu_quantize and
// relu_backward (activation.h, the reference), with AVX2 code chosen at run time.
#pragma once

#include <cstdint>
#include <vector>

#include "golden/activation.h"
#include "golden/tensor.h"

namespace octet::golden {

// Same result as relu_quantize(y); `threads` splits the elements into chunks.
ReluForward relu_quantize_fast(const Tensor<int32_t>& y, int threads = 1);

// Same result as relu_backward(e1, mask). Takes e1 by value: pass an rvalue to mask it in place.
Tensor<int32_t> relu_backward_fast(Tensor<int32_t> e1, const std::vector<uint8_t>& mask, int threads = 1);

// Whether the fast BN/ReLU kernels (this file and batch_norm_fast.h) run their AVX2 code.
bool bn_relu_fast_uses_avx2();
// For tests: force the portable code (false) or the AVX2 code where the CPU has it (true).
void bn_relu_fast_set_avx2(bool enabled);
// Whether batch_norm_fast.h's per-element loops run their AVX-512 code (a CPU with AVX-512 F,
// BW, DQ and VL, while the AVX2 code is on). For tests: false keeps them on AVX2.
bool bn_relu_fast_uses_avx512();
void bn_relu_fast_set_avx512(bool enabled);

}  // namespace octet::golden
