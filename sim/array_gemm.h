// One GEMM as the systolic array sees it: Out{M,N} = X{M,K} * Y{K,N}, operands as
// {9-bit signed value, coarse flag}, and the documented cycle count of running it.
#pragma once

#include <cstdint>
#include <vector>

#include "model/unit_timing.h"

namespace octet::sim {

// An operand as the array's ports take it: a 9-bit signed value and the E2 coarse flag.
struct Operand {
  int32_t value = 0;
  bool coarse = false;  // E2 coarse code: value counts 2^7 fine units
};

struct ArrayGemm {
  int64_t M = 0, K = 0, N = 0;
  std::vector<Operand> x;  // {M, K} row-major: enters the west edge, row m -> array row
  std::vector<Operand> y;  // {K, N} row-major: enters the north edge, column n -> array column
};

// docs/architecture.md, "Cycle formula": cycles from the first accepted beat to the last
// output row (inclusive) for a feeder that keeps in_valid high; one implementation, the model's.
using model::timing::array_gemm_cycles;

}  // namespace octet::sim
