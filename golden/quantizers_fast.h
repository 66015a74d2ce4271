// Fast, bit-identical twins of the tensor quantizers in quantizers.h (docs/numerics.md §4).
// Once the tensor scale r is known every quantizer is a fixed shift with round half to even
// and a clamp, so the element loops are branch-free and vectorised (AVX2 when the CPU has
// it, chosen at run time). Tensors whose max |x| fits int32 run on 32-bit lanes; any other
// int64 tensor runs the same formulas on 64-bit lanes. The reference functions stay the
// contract; testbench/golden/test_quantizers_fast.cpp checks these against them bit for bit.
#pragma once

#include <cstdint>

#include "golden/quantizers.h"
#include "golden/tensor.h"

namespace octet::golden {

// max_i |x[i]| (2^63 for INT64_MIN), 0 for n = 0; `threads` only splits the scan.
uint64_t max_magnitude_fast(const int64_t* x, int64_t n, int threads = 1);
uint64_t max_magnitude_fast(const int32_t* x, int64_t n, int threads = 1);

// What is known of a tensor's max |x| (the quantizers' scale, docs/numerics.md §4): a kernel
// that sees every element as it writes it can report it (value == max_magnitude_fast of the
// tensor), so that a *_with_max quantizer need not scan the tensor again.
struct KnownMax {
  bool known = false;
  uint64_t value = 0;
};

// Same value as tensor_scale_log2(x, n).
int tensor_scale_log2_fast(const int64_t* x, int64_t n, int threads = 1);

// Same results (payloads, exponent, exceptions) as shift_quantize / constant_factor_quantize /
// flag_quantize for any thread count.
Tensor<int32_t> shift_quantize_fast(const Tensor<int64_t>& x, int k, int threads = 1);
Tensor<int32_t> constant_factor_quantize_fast(const Tensor<int64_t>& x, const CqParams& p, int threads = 1);
Tensor<int32_t> flag_quantize_fast(const Tensor<int64_t>& x, int k, int threads = 1);
// Same results as shift_quantize_with_max / flag_quantize_with_max (one shard of a tensor
// whose max |x| over all shards is batch_max).
Tensor<int32_t> shift_quantize_with_max_fast(const Tensor<int64_t>& x, int k, uint64_t batch_max, int threads = 1);
Tensor<int32_t> flag_quantize_with_max_fast(const Tensor<int64_t>& x, int k, uint64_t batch_max, int threads = 1);
// The same for an error stored in int32 (golden/error_tensor.h): the results of the int64
// overloads on the widened tensor.
Tensor<int32_t> shift_quantize_with_max_fast(const Tensor<int32_t>& x, int k, uint64_t batch_max, int threads = 1);
Tensor<int32_t> flag_quantize_with_max_fast(const Tensor<int32_t>& x, int k, uint64_t batch_max, int threads = 1);

}  // namespace octet::golden
