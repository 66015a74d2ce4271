#include "model/gemm_plan.h"

#include <algorithm>
#include <stdexcept>

#include "model/unit_timing.h"

namespace octet::model {

namespace {

// How many of something of `per` bytes fit in `room` bytes.
int64_t fit(double room, double per) { return static_cast<int64_t>(room / per); }

// The plan of a block of mb x nb tiles: the longest reduction chunk whose block slabs fit a
// scratchpad half each (at least one beat), balanced over the chunks.
GemmPlan plan_blocks(const GemmShape& s, int64_t R, int64_t C, double half_x, double half_y, int64_t m_tiles,
                     int64_t n_tiles, int64_t mb, int64_t nb) {
  GemmPlan p;
  p.m_tiles = m_tiles;
  p.n_tiles = n_tiles;
  p.mb = mb;
  p.nb = nb;
  p.dc = std::clamp<int64_t>(std::min(fit(half_x, mb * R * s.x_bytes), fit(half_y, nb * C * s.y_bytes)), 1, s.d);
  p.d_chunks = timing::ceil_div(s.d, p.dc);
  p.dc = timing::ceil_div(s.d, p.d_chunks);
  p.m_blocks = timing::ceil_div(m_tiles, mb);
  p.n_blocks = timing::ceil_div(n_tiles, nb);
  p.x_resident = p.m_blocks == 1 && p.d_chunks == 1;
  p.y_resident = p.d_chunks == 1;
  return p;
}

}  // namespace

double gemm_operand_bytes(const GemmShape& s, const GemmPlan& p) {
  const double x = static_cast<double>(s.m) * static_cast<double>(s.d) * s.x_bytes / s.x_reuse;
  const double y = static_cast<double>(s.d) * static_cast<double>(s.n) * s.y_bytes;
  return x * static_cast<double>(p.x_loads()) + y * static_cast<double>(p.y_loads());
}

GemmPlan plan_gemm(const GemmShape& s, const AccelConfig& c, double accum_bytes) {
  if (s.m < 1 || s.d < 1 || s.n < 1) throw std::invalid_argument("plan_gemm: empty GEMM");
  const int64_t R = c.array_rows, C = c.array_cols;
  const double half_x = static_cast<double>(c.ifmap_sram_kib) * 1024 / 2;
  const double half_y = static_cast<double>(c.filter_sram_kib) * 1024 / 2;
  const double half_acc = static_cast<double>(c.accum_sram_kib) * 1024 / 2;
  const int64_t m_tiles = timing::ceil_div(s.m, R), n_tiles = timing::ceil_div(s.n, C);

  // The first plan: the longest chunk one tile's slabs allow, then as many tiles per block
  // as the scratchpad halves hold at that depth, shrinking the longer side until the
  // block's partial sums fit half of the accumulator SRAM.
  const int64_t dc0 = plan_blocks(s, R, C, half_x, half_y, m_tiles, n_tiles, 1, 1).dc;
  int64_t mb = std::clamp<int64_t>(fit(half_x, R * dc0 * s.x_bytes), 1, m_tiles);
  int64_t nb = std::clamp<int64_t>(fit(half_y, C * dc0 * s.y_bytes), 1, n_tiles);
  while (static_cast<double>(mb * nb * R * C) * accum_bytes > half_acc && mb * nb > 1) {
    if (mb >= nb) --mb; else --nb;
  }
  GemmPlan best = plan_blocks(s, R, C, half_x, half_y, m_tiles, n_tiles, mb, nb);
  double best_bytes = gemm_operand_bytes(s, best);

  // When the reduction is split, that plan reloads X for every n-block and Y for every
  // m-block, with one-tile blocks at the longest chunk (a weight gradient's reduction over
  // the batch's pixels reads its error slab once per 16 filter rows). Wider blocks at a
  // shorter chunk move fewer bytes: take the block shape that moves the fewest operand
  // bytes, among those whose partial sums fit the accumulator half and whose chunk keeps
  // the array's tile period at the chunk (dc >= max(R, C), or the whole reduction), so the
  // array's cycles do not grow. Ties keep the longer chunk.
  const int64_t tiles_fit = std::max<int64_t>(1, fit(half_acc, static_cast<double>(R * C) * accum_bytes));
  const int64_t min_dc = std::min<int64_t>(s.d, std::max(R, C));
  for (int64_t bm = 1; bm <= std::min(m_tiles, tiles_fit); ++bm)
    for (int64_t bn = 1; bn <= std::min(n_tiles, tiles_fit / bm); ++bn) {
      const GemmPlan p = plan_blocks(s, R, C, half_x, half_y, m_tiles, n_tiles, bm, bn);
      if (p.dc < min_dc) break;  // a wider block only shortens the chunk further
      const double bytes = gemm_operand_bytes(s, p);
      if (bytes < best_bytes || (bytes == best_bytes && p.d_chunks < best.d_chunks)) {
        best = p;
        best_bytes = bytes;
      }
    }
  return best;
}

}  // namespace octet::model
