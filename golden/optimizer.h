// The quantized momentum update and the parameter working copies (docs/numerics.md §8),
// weight decay (§7.5) and integer initialisation (§9).
#pragma once

#include <cstdint>
#include <string>

#include "golden/tensor.h"
#include "octet_params.h"

namespace octet::golden {

// One parameter tensor's optimizer state.
struct ParamState {
  Tensor<int32_t> master;    // M on 2^-23 (24 bits), int32 saturating
  Tensor<int32_t> momentum;  // V on 2^-12 (13 bits), int32 saturating
};

ParamState make_param_state(Tensor<int32_t> master);

// acc = V + G; M = sat32(M - lr_q * acc); V = sat32(rshift(acc, 2)). G on 2^-14, lr = lr_q * 2^-9.
void momentum_update(ParamState& s, const Tensor<int32_t>& grad, int lr_q);

// Working copies derived after each update.
Tensor<int8_t> derive_weight8(const Tensor<int32_t>& master);     // clip ±127 on 2^-7
Tensor<int16_t> derive_bn_affine(const Tensor<int32_t>& master);  // int16 on 2^-7
Tensor<int32_t> derive_bias(const Tensor<int32_t>& master);       // int32 on 2^-14

// G_raw += W8 * 2^(-7 - lambda), re-expressed on G_raw's grid (exact when it is finer).
void add_weight_decay(Tensor<int64_t>& g_raw, const Tensor<int8_t>& w8, int lambda);

// Masters of a weight tensor: Irwin-Hall(4) noise scaled to sigma = 1/sqrt(fan_in), on 2^-23.
Tensor<int32_t> init_weight_master(const Shape& shape, int64_t fan_in, uint64_t seed, uint64_t tensor_id);
// A constant master (gamma = 1 -> 2^23, beta / bias = 0).
Tensor<int32_t> constant_master(const Shape& shape, int32_t value);

// The largest integer learning rate lr_q (lr = lr_q * 2^-9 < 1): 511, from params.def.
inline constexpr int kLrQMax = (1 << params::kLrFracBits) - 1;

// Learning rate on 2^-9, rounded half to even and clipped to [0, kLrQMax]; throws on a negative or non-finite rate.
int quantize_learning_rate(double lr);

}  // namespace octet::golden
