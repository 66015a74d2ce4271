// Fast batch norm (docs/numerics.md §5.4, §6.3): bit-identical to batch_norm.h (the reference),
// including the exceptions it throws. Per channel, a bound proves that int64 holds every
// intermediate (always so in training); otherwise that channel runs the reference arithmetic.
// The per-element loops have AVX2 code chosen at run time (activation_fast.h has the switch).
#pragma once

#include <cstdint>
#include <vector>

#include "golden/activation.h"
#include "golden/activation_fast.h"
#include "golden/batch_norm.h"
#include "golden/int_math.h"
#include "golden/tensor.h"

namespace octet::golden {

// Same results as bn_batch_statistics / bn_moments / bn_forward / bn_backward.
BnStats bn_batch_statistics_fast(const Tensor<int32_t>& x, int threads = 1);
BnMoments bn_moments_fast(const Tensor<int32_t>& x, int threads = 1);
BnForward bn_forward_fast(const Tensor<int32_t>& x, const BnStats& s, const Tensor<int16_t>& gamma,
                          const Tensor<int16_t>& beta, int threads = 1);
BnBackward bn_backward_fast(const Tensor<int32_t>& dy, const Tensor<int16_t>& xhat, const Tensor<int16_t>& gamma,
                            const BnStats& s, int threads = 1, const BnBackwardSums* batch_sums = nullptr);

// bn_forward followed by relu_quantize in one pass, without materialising y:
// xhat == bn_forward(...).xhat and relu == relu_quantize(bn_forward(...).y).
struct BnReluForward {
  Tensor<int16_t> xhat;  // on 2^-7
  ReluForward relu;      // A on 2^-7 and the backward mask
};
BnReluForward bn_relu_forward_fast(const Tensor<int32_t>& x, const BnStats& s, const Tensor<int16_t>& gamma,
                                   const Tensor<int16_t>& beta, int threads = 1);

// relu_backward followed by bn_backward in one pass, without materialising dy:
// == bn_backward(relu_backward(e1, mask), xhat, gamma, s). With dx_max_abs, also max |dx| (the
// next error quantizer's scale; measured while dx is written on AVX-512, else per channel
// while it is in cache).
// With dx_narrow: on AVX-512, when a bound per channel (max|U|·|cγ| >> s, plus 1 for the
// rounding) proves every dx fits int32, dx is stored there in int32 and the result's dx is
// empty; otherwise *dx_narrow is empty and the result's dx holds it in int64.
BnBackward bn_relu_backward_fast(const Tensor<int32_t>& e1, const std::vector<uint8_t>& mask,
                                 const Tensor<int16_t>& xhat, const Tensor<int16_t>& gamma, const BnStats& s,
                                 int threads = 1, const BnBackwardSums* batch_sums = nullptr,
                                 uint64_t* dx_max_abs = nullptr, Tensor<int32_t>* dx_narrow = nullptr);
// == bn_backward_sums(relu_backward(e1, mask), xhat): a data-parallel shard's part of the batch sums.
BnBackwardSums bn_relu_backward_sums_fast(const Tensor<int32_t>& e1, const std::vector<uint8_t>& mask,
                                          const Tensor<int16_t>& xhat, int threads = 1);

// isqrt(m) (int_math.h) from the double square root, corrected to the exact floor; the digit-by-digit
// isqrt for m >= 2^100.
uint64_t isqrt_via_double(uint128 m);

// shift_right_round_half_even(v, s) without branches, for 1 <= s <= 62 and v + 2^(s-1) <= INT64_MAX:
// v = q·2^s + r; adding 2^(s-1) - 1 + (q & 1) carries into q exactly when r > half, or r = half and
// q is odd. (testbench/golden/test_batch_norm_fast.cpp checks it exhaustively on small widths.)
inline int64_t shift_right_rhe_branch_free(int64_t v, int s) {
  return (v + ((int64_t{1} << (s - 1)) - 1) + ((v >> s) & 1)) >> s;
}

}  // namespace octet::golden
