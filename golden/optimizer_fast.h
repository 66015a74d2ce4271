// Fast, bit-identical twins of the optimizer's element loops (optimizer.h, docs/numerics.md §8):
// the same integers, branch-free so that they vectorise (an AVX2 and an AVX-512 clone chosen at
// run time). After every step the update touches each parameter once; the reference loops
// (rounding and saturation through int_math's checked helpers) took ~14 ns a parameter, a
// serial ~2.4 ms of a small-ResNet step. testbench/golden/test_optimizer_fast.cpp checks them
// against the reference on random and edge values.
#pragma once

#include "golden/optimizer.h"

namespace octet::golden {

// Same state (and exceptions) as momentum_update.
void momentum_update_fast(ParamState& s, const Tensor<int32_t>& grad, int lr_q);
// Same tensor as derive_weight8.
Tensor<int8_t> derive_weight8_fast(const Tensor<int32_t>& master);

}  // namespace octet::golden
