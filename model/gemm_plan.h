// How the controller tiles one GEMM for the array and its buffers (docs/architecture.md,
// "Accelerator model"). In array terms: Out{M, N} = X{M, D} * Y{D, N}, X through the west
// edge (ifmap scratchpad), Y through the north edge (filter scratchpad), D the reduction.
#pragma once

#include <cstdint>

#include "model/accel_config.h"
#include "model/storage_widths.h"

namespace octet::model {

inline constexpr int64_t kAccumBytes = storage::kAccum;  // AccW-bit partial sums in the accumulator SRAM

struct GemmShape {
  int64_t m = 0, d = 0, n = 0;
  int64_t groups = 1;  // independent GEMMs of this shape (depthwise convolutions)
  double x_bytes = 1, y_bytes = 1;  // bytes per operand element (in buffers and DRAM)
  // Convolutions: X is the lowered (im2col) input and, for the backward-data GEMM, the result
  // is lowered too (col2im). The feeder lowers from the raw input in the scratchpad and the
  // col2im sums happen on chip, so DRAM moves each raw element about once: the lowered bytes
  // divided by the window overlap k^2 / s^2 (>= 1). Scratchpad reads stay lowered.
  double x_reuse = 1, out_reuse = 1;
};

// The window overlap of a k x k convolution with stride s: k^2 / s^2, at least 1.
inline double window_reuse(int64_t kh, int64_t kw, int64_t sh, int64_t sw) {
  const double r = static_cast<double>(kh * kw) / static_cast<double>(sh * sw);
  return r < 1 ? 1 : r;
}

// Blocks: mb x nb output tiles computed over one reduction chunk of dc beats; each half of
// a double-buffered scratchpad holds one block's X slab (mb*R x dc) and Y slab (dc x nb*C),
// and half of the accumulator SRAM holds one block's partial sums.
struct GemmPlan {
  int64_t m_tiles = 0, n_tiles = 0;
  int64_t dc = 0, d_chunks = 0;   // reduction chunk and number of chunks
  int64_t mb = 0, nb = 0;         // tiles per block along M and N
  int64_t m_blocks = 0, n_blocks = 0;
  bool x_resident = false;  // all of X fits one buffer half: loaded once per GEMM
  bool y_resident = false;  // a Y slab stays while the m-blocks sweep under it (one chunk)
  // Times all of X / Y is loaded: once when resident, else once per n-block / m-block.
  int64_t x_loads() const { return x_resident ? 1 : n_blocks; }
  int64_t y_loads() const { return y_resident ? 1 : m_blocks; }
};

// `accum_bytes`: bytes of one partial sum in the accumulator SRAM (the FP32 baseline's plan
// uses 4-byte operands and sums).
GemmPlan plan_gemm(const GemmShape& shape, const AccelConfig& config, double accum_bytes = kAccumBytes);

// DRAM bytes of a plan's operand loads (SystolicArray::issue_gemm), one group: X once per
// n-block unless all of X stays in its buffer half, Y once per m-block unless its slab stays
// under the m-blocks (one chunk).
double gemm_operand_bytes(const GemmShape& shape, const GemmPlan& plan);

}  // namespace octet::model
