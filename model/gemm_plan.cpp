#include "model/gemm_plan.h"

#include <algorithm>
#include <stdexcept>

#include "model/unit_timing.h"

namespace octet::model {

GemmPlan plan_gemm(const GemmShape& s, const AccelConfig& c) {
  if (s.m < 1 || s.d < 1 || s.n < 1) throw std::invalid_argument("plan_gemm: empty GEMM");
  const int64_t R = c.array_rows, C = c.array_cols;
  const double half_x = static_cast<double>(c.ifmap_sram_kib) * 1024 / 2;
  const double half_y = static_cast<double>(c.filter_sram_kib) * 1024 / 2;
  const double half_acc = static_cast<double>(c.accum_sram_kib) * 1024 / 2;
  GemmPlan p;
  p.m_tiles = timing::ceil_div(s.m, R);
  p.n_tiles = timing::ceil_div(s.n, C);
  // Longest reduction chunk whose single-tile slabs fit half of each scratchpad.
  const auto fit = [](double room, double per) { return static_cast<int64_t>(room / per); };
  p.dc = std::clamp<int64_t>(std::min(fit(half_x, R * s.x_bytes), fit(half_y, C * s.y_bytes)), 1, s.d);
  p.d_chunks = timing::ceil_div(s.d, p.dc);
  p.dc = timing::ceil_div(s.d, p.d_chunks);  // balance the chunks
  p.mb = std::clamp<int64_t>(fit(half_x, R * p.dc * s.x_bytes), 1, p.m_tiles);
  p.nb = std::clamp<int64_t>(fit(half_y, C * p.dc * s.y_bytes), 1, p.n_tiles);
  // The block's partial sums must fit half of the accumulator SRAM: shrink the longer side.
  while (p.mb * p.nb * R * C * kAccumBytes > half_acc && p.mb * p.nb > 1) {
    if (p.mb >= p.nb) --p.mb; else --p.nb;
  }
  p.m_blocks = timing::ceil_div(p.m_tiles, p.mb);
  p.n_blocks = timing::ceil_div(p.n_tiles, p.nb);
  p.x_resident = p.m_blocks == 1 && p.d_chunks == 1;
  p.y_resident = p.d_chunks == 1;
  return p;
}

}  // namespace octet::model
