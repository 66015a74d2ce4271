// Fast, bit-identical twins of residual_add / error_add (residual.h, docs/numerics.md §5.3,
// §7.4): one vectorised pass adds the aligned operands and records their ranges; only when
// those ranges could overflow (or the exponents differ by more than the fast loop's shift)
// does the reference run instead, so results and exceptions are the reference's.
#pragma once

#include <cstdint>

#include "golden/quantizers_fast.h"
#include "golden/tensor.h"

namespace octet::golden {

Tensor<int32_t> residual_add_fast(const Tensor<int32_t>& a, const Tensor<int32_t>& b, int threads = 1);
Tensor<int64_t> error_add_fast(const Tensor<int64_t>& a, const Tensor<int64_t>& b, int threads = 1);

// into = into.empty() ? e : error_add(into, e), summing in place in `into`'s storage (no new
// tensor, no zero fill). If error_add throws, the same exception leaves `into` unchanged.
void accumulate_error_fast(Tensor<int64_t>& into, Tensor<int64_t> e, int threads = 1);
// The same, leaving `e` to the caller (copied, in parallel, only where the result is e itself).
struct KeepOperand {};
void accumulate_error_fast(Tensor<int64_t>& into, const Tensor<int64_t>& e, int threads, KeepOperand);
// Both, keeping track of max |into| (the error quantizer's scale): *into_max describes `into`
// before the call and after it; e_max describes e. After an in-place sum it is the sum's max,
// measured while summing; when the reference's error_add decides instead, it is unknown.
void accumulate_error_fast(Tensor<int64_t>& into, Tensor<int64_t> e, int threads, KnownMax* into_max, KnownMax e_max);
void accumulate_error_fast(Tensor<int64_t>& into, const Tensor<int64_t>& e, int threads, KeepOperand,
                           KnownMax* into_max, KnownMax e_max);

}  // namespace octet::golden
