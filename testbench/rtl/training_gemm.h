// Random training GEMMs (forward, backward-data, weight-gradient) as typed golden
// tensors, their mapping onto the array's west/north operands, and the golden result.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "golden/quantizers.h"
#include "golden/tensor.h"
#include "sim/array_gemm.h"

namespace octet::tb {

using sim::ArrayGemm;
using sim::Operand;

enum class GemmKind { kForward, kBackwardData, kWeightGrad };
const char* kind_name(GemmKind kind);

// How operand values are drawn: uniformly over the legal range, only extreme values
// (0, 255; -128, -127, 127; E2 +-127 fine or coarse), a mix of both, or mostly zeros.
enum class ValueStyle { kUniform, kExtreme, kMixed, kSparse };

// Out{M,N} = X{M,K} * Y{K,N} on the array; the tensors are shaped per kind:
//   forward:       A{M,K}  W{K,N}            -> Y{M,N}
//   backward data: E2{M,K} W{N,K} (used ^T)  -> E1raw{M,N}
//   weight grad:   A{K,M}  (used ^T) E2{K,N} -> G{M,N}
struct TrainingGemm {
  GemmKind kind = GemmKind::kForward;
  int64_t M = 1, K = 1, N = 1;
  golden::Tensor<uint8_t> a;
  golden::Tensor<int8_t> w;
  golden::Tensor<golden::FlagCode> e;
};

TrainingGemm make_training_gemm(GemmKind kind, int64_t M, int64_t K, int64_t N, ValueStyle style,
                                std::mt19937_64& rng);
ArrayGemm to_array(const TrainingGemm& g);                 // the testbench's own transposition
std::vector<int64_t> golden_result(const TrainingGemm& g);  // golden::gemm_* (row-major {M,N})
std::string describe(const TrainingGemm& g);

}  // namespace octet::tb
