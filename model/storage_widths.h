// Bytes per element of every tensor class the accelerator model stores, in its buffers and in
// DRAM: the one table the schedule's DRAM transfers (model/network_step*.cpp,
// model/array_gemm.cpp, model/topology_step.cpp), the scratchpad and accumulator-SRAM
// occupancy (tiling plan, residency) and the compulsory traffic (model/compulsory_traffic.cpp)
// read (docs/architecture.md, "Data in memory"). Integer widths
// are the storage widths of docs/numerics.md §1, packed (a 9-bit E2 code in 9/8 bytes, a mask
// bit in 1/8); where §1 names a 32- or 64-bit type for a value with a proven narrower range,
// the comment gives the bound. The FP32 baseline keeps values in 4-byte words and the same
// 1-bit masks and 1-byte pool indices, so the comparison differs only in the values' width.
#pragma once

#include <cstdint>

#include "golden/network_desc.h"
#include "octet_params.h"

namespace octet::model::storage {

// ---- integer datapath ----------------------------------------------------------------------
inline constexpr double kAct = 1;    // activations A (uint8), input pixels X (uint8)
inline constexpr double kE1 = 1;     // SQ-quantized errors at activations (int8)
inline constexpr double kE2 = params::kOpW / 8.0;  // E2: int8 code + flag bit, a 9-bit array operand
inline constexpr double kWeight8 = 1;             // W8 working copy (int8)
inline constexpr double kStream = 4;              // conv / add / linear outputs, logits (int32)
// Raw errors and gradients, the accumulator SRAM's words: AccW-bit partial sums (the int64
// wide errors of §1 stay within AccW bits or the model stops with an overflow error).
inline constexpr int64_t kAccum = params::kAccW / 8;
static_assert(params::kAccW % 8 == 0, "the accumulator SRAM holds whole bytes per partial sum");
inline constexpr double kWide = static_cast<double>(kAccum);
inline constexpr double kXhat = 2;         // BN x̂ (int16)
inline constexpr double kMask = 1.0 / 8;   // ReLU mask, one bit
inline constexpr double kPoolIndex = 1;    // max-pool window position in one byte
inline constexpr double kLabel = 2;        // golden::Label (uint16)
inline constexpr double kRunningStat = 8;  // BN running accumulators (int64, 2 per channel)
// G of conv / linear weights: int(s+1) on 2^-14 with s ≤ 15 in schedules (§10, [D20]): 16 bits.
inline constexpr double kWeightGrad = 2;
// G of γ, β and the bias: int32 saturating (§1; §6.3, §7.5).
inline constexpr double kParamGrad = 4;
// Masters M: int32 saturating at ±256 in value on 2^-23 (§1 [D4]); "24 bits" is the grid, not
// the width: γ starts at 1 = 2^23, already 25 signed bits. So 4 bytes for every parameter.
inline constexpr double kMaster = 4;
// Momenta V of conv / linear weights: V' = rshift(V + G, 2) with |G| ≤ 2^15 - 1 keeps
// |V| ≤ (2^15 - 1) / 3 < 2^14 from V = 0 (§8.1), so 16 bits hold them. γ, β and the bias take
// int32 gradients, so their momenta need the int32 of §1.
inline constexpr double kWeightMomentum = 2;
inline constexpr double kParamMomentum = 4;

// ---- FP32 baseline -------------------------------------------------------------------------
inline constexpr double kFp32 = 4;  // every value (its weight is its master)
inline constexpr double kFp32Mask = kMask;
inline constexpr double kFp32PoolIndex = kPoolIndex;

// Per parameter kind (golden::ParamDesc): working copy, master, momentum, gradient G.
struct ParamWidths {
  double working, master, momentum, grad;
};
constexpr ParamWidths param_widths(golden::ParamDesc::Kind k) {
  switch (k) {
    case golden::ParamDesc::kWeight: return {kWeight8, kMaster, kWeightMomentum, kWeightGrad};
    case golden::ParamDesc::kGamma:
    case golden::ParamDesc::kBeta: return {2, kMaster, kParamMomentum, kParamGrad};  // int16 working copy
    case golden::ParamDesc::kBias: return {4, kMaster, kParamMomentum, kParamGrad};  // int32 working copy
  }
  return {4, kMaster, kParamMomentum, kParamGrad};
}

}  // namespace octet::model::storage
