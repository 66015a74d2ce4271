// Integer batch norm (docs/numerics.md §5.4, §6): statistics from exact integer moments,
// a per-channel 24-bit reciprocal, normalisation to x̂ on 2^-7, affine on 2^-14, running
// statistics with a power-of-two decay, and the full integer backward pass.
#pragma once

#include <cstdint>
#include <vector>

#include "golden/int_math.h"
#include "golden/tensor.h"

namespace octet::golden {

// Per-channel statistics on the 2^-15 grid plus the reciprocal that normalisation uses.
struct BnStats {
  std::vector<int64_t> mean;       // μ on 2^-15
  std::vector<int64_t> sigma;      // σ' = round(std) + 1 on 2^-15 (>= 1)
  std::vector<int64_t> recip;      // ρ = rdiv(2^(L+24), σ')
  std::vector<int> recip_shift;    // L = floor(log2 σ')
  int64_t count = 0;               // N = batch * H * W
  int input_shift = 0;             // a = e_x + 15
};

struct BnRunning {
  std::vector<int64_t> mean_acc;   // on 2^-23
  std::vector<int64_t> sigma_acc;  // on 2^-23
  explicit BnRunning(int64_t channels = 0);
};

inline constexpr int kBnDecayShift = 3;  // running-statistics momentum 1 - 2^-3 (docs/numerics.md §6.2)

// x: {N, C, H, W} (or {N, C}) int32 with -15 <= exp <= 0.
BnStats bn_batch_statistics(const Tensor<int32_t>& x, int threads = 1);
// σ on 2^-15, exactly rounded half to even, from D = N*S2 - S1^2 (§5.4); floor_sqrt is any
// exact floor square root (isqrt, the digit-by-digit reference, or a faster exact one).
int64_t bn_exact_std(uint128 D, int64_t N, int a, uint64_t (*floor_sqrt)(uint128));
// Statistics for inference from the running accumulators (§6.1).
BnStats bn_running_statistics(const BnRunning& running, int input_exp, int64_t count);
// Fills ρ and L from σ' (shared by both modes).
void bn_fill_reciprocals(BnStats& s);
void bn_update_running(BnRunning& running, const BnStats& batch, int decay_shift = kBnDecayShift);

struct BnForward {
  Tensor<int16_t> xhat;  // on 2^-7
  Tensor<int32_t> y;     // γ·x̂ + β on 2^-14
};
// gamma, beta: {C} int16 on 2^-7.
// `threads` splits the channels among workers; every channel is computed the same way.
BnForward bn_forward(const Tensor<int32_t>& x, const BnStats& s, const Tensor<int16_t>& gamma,
                     const Tensor<int16_t>& beta, int threads = 1);

struct BnBackward {
  Tensor<int64_t> dx;       // on 2^(e1-16)
  Tensor<int32_t> g_gamma;  // on 2^-14
  Tensor<int32_t> g_beta;   // on 2^-14
};
// dy: the masked E1 at the BN output (int32 payloads of an int8 path, exponent e1).
BnBackward bn_backward(const Tensor<int32_t>& dy, const Tensor<int16_t>& xhat, const Tensor<int16_t>& gamma,
                       const BnStats& s, int threads = 1);

}  // namespace octet::golden
