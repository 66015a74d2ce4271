// Reference GEMMs of the three training products run by the systolic array
// (docs/architecture.md, "Systolic array"): one plain loop nest each, exact int64 sums.
// Operands keep their natural forward-pass layouts; the backward products index the
// transposes directly. E2 enters as its hardware code (int8 value + flag) and is
// decoded to fine units with flag_decode, so products of both scales sum exactly.
#pragma once

#include <cstdint>

#include "golden/quantizers.h"
#include "golden/tensor.h"
#include "octet_params.h"

namespace octet::golden {

// The systolic array's accumulator width (params.def AccW) and the E2 code width.
inline constexpr int kAccBits = params::kAccW;
inline constexpr int kE2Bits = 8;

// Forward: Y{M,N} = A{M,K} * W{K,N}; exponent a.exp + w.exp.
Tensor<int64_t> gemm_forward(const Tensor<uint8_t>& a, const Tensor<int8_t>& w, int acc_bits = kAccBits);

// Error back-propagation: E1raw{M,K} = E2{M,N} * W{K,N}^T; exponent e.exp + w.exp.
Tensor<int64_t> gemm_backward_data(const Tensor<FlagCode>& e, const Tensor<int8_t>& w, int acc_bits = kAccBits);

// Weight gradient: G{K,N} = A{M,K}^T * E2{M,N}; exponent a.exp + e.exp.
Tensor<int64_t> gemm_weight_grad(const Tensor<uint8_t>& a, const Tensor<FlagCode>& e, int acc_bits = kAccBits);

// Every partial sum must fit a signed acc_bits-bit register (2 <= acc_bits <= 63), as the
// hardware accumulator holds it; otherwise these throw std::overflow_error (never wrap).
// E2 codes must be legal (|value| <= 127), shapes 2-D and matching: else std::invalid_argument.

}  // namespace octet::golden
