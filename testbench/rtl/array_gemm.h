// One GEMM as the systolic array sees it: Out{M,N} = X{M,K} * Y{K,N}, operands as
// {9-bit signed value, coarse flag}, and the documented cycle count of running it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace octet::tb {

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
// output row (inclusive) for a feeder that keeps in_valid high, tiles of K beats each:
//   K + (T - 1) * max(K, R, C) + R + C + 1,   T = ceil(M/R) * ceil(N/C).
inline uint64_t array_gemm_cycles(int64_t M, int64_t K, int64_t N, int64_t rows, int64_t cols) {
  const int64_t tiles = ((M + rows - 1) / rows) * ((N + cols - 1) / cols);
  const int64_t period = std::max({K, rows, cols});
  return static_cast<uint64_t>(K + (tiles - 1) * period + rows + cols + 1);
}

}  // namespace octet::tb
