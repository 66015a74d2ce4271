// An error tensor of the fast training step (docs/numerics.md §7): the int64 payloads of the
// contract, or the same values stored in int32 when the kernel that wrote them proved they fit
// (the errors of a training step stay far below 2^31, and int32 halves the memory traffic of
// the backward pass). The value, exponent and shape are the contract's either way; the
// reference kernels only ever see (and make) the int64 form.
#pragma once

#include <cstdint>

#include "golden/residual_fast.h"
#include "golden/tensor.h"

namespace octet::golden {

struct ErrorTensor {
  Tensor<int64_t> wide;    // the int64 form (used when narrow is empty)
  Tensor<int32_t> narrow;  // the int32 form, when a bound proved every value fits

  ErrorTensor() = default;
  ErrorTensor(Tensor<int64_t> w) : wide(std::move(w)) {}  // NOLINT: an int64 error is an error tensor
  static ErrorTensor of_narrow(Tensor<int32_t> n) {
    ErrorTensor e;
    e.narrow = std::move(n);
    return e;
  }
  bool is_narrow() const { return !narrow.empty(); }
  bool empty() const { return wide.empty() && narrow.empty(); }
  int exp() const { return is_narrow() ? narrow.exp : wide.exp; }
  const Shape& shape() const { return is_narrow() ? narrow.shape : wide.shape; }
  int64_t size() const { return is_narrow() ? narrow.size() : wide.size(); }
};

// The int64 form: `e.wide` itself, or the narrow values widened (in parallel chunks).
Tensor<int64_t> widened(const ErrorTensor& e, int threads = 1);
Tensor<int64_t> widened(ErrorTensor&& e, int threads = 1);

// into = into.empty() ? e : error_add(into, e) (the reference's result, exponent and
// exceptions), keeping *into_max as accumulate_error_fast does. In int32, in place, when both
// are narrow, their exponents differ by at most 31 and their maxima (known or measured) prove
// |into|·2^sa + |e|·2^sb <= INT32_MAX, so that no shift or sum leaves int32; otherwise both are
// widened and accumulate_error_fast sums them in int64.
void accumulate_error_fast(ErrorTensor& into, ErrorTensor e, int threads, KnownMax* into_max, KnownMax e_max);
void accumulate_error_fast(ErrorTensor& into, const ErrorTensor& e, int threads, KeepOperand, KnownMax* into_max,
                           KnownMax e_max);

}  // namespace octet::golden
