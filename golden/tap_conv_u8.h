// 8-bit multiply-add kernels beside the int16 ones of golden/tap_conv.*: the same
// shifted-tap forward pass with four channels per 32-bit lane. Which instruction sets are exact for which operands is derived in
// docs/numerics.md ("Fast kernels: 8-bit multiply-add bounds"); in short:
//   - AVX-512 VNNI / AVX-VNNI vpdpbusd sums four uint8 x int8 products into int32 without an
//     intermediate saturation: exact for any activation and weight byte;
//   - AVX2 vpmaddubsw sums two products into a saturating int16: exact only while
//     x_max * |w|_max <= 16383 (the caller checks; e.g. any activation with |w| <= 64).
#pragma once

#include <cstdint>

#include "golden/conv.h"

namespace octet::golden::tap_conv_u8 {

enum class Isa { avx2_maddubs, avx_vnni, avx512_vnni };

bool cpu_supports(Isa isa);
const char* name(Isa isa);

// out must be {N, Co, Ho, Wo}; every partial sum of C*K*K products fits int32, and for
// avx2_maddubs max(x) * max|w| <= 16383.
void forward(Isa isa, const Tensor<uint8_t>& x, const Tensor<int8_t>& w, ConvParams p, int threads,
             Tensor<int32_t>& out);

}  // namespace octet::golden::tap_conv_u8
