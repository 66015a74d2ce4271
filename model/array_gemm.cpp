// SystolicArray::issue_gemm: a whole GEMM as blocks on the array with their DRAM transfers
// (docs/architecture.md, "GEMM tiling and timing").
#include <algorithm>
#include <array>
#include <vector>

#include "model/units.h"

namespace octet::model {

namespace {

// The FP32 baseline runs the same GEMM on an FP32 accelerator with the same buffers, planned
// at its own widths (4-byte operands and partial sums: a buffer half holds a quarter of the
// elements, so chunks are shorter and operands reload more often). It is charged for the
// whole GEMM at once: operand loads (DRAM and scratchpad fills) and the accumulator SRAM's
// partial sums (written by the first chunk, read + added + written by each later one). The
// per-tile scratchpad reads, the MACs and the write-back do not depend on the plan and are
// charged with the integer blocks.
void charge_fp32_plan(Ledger& L, int rec, const GemmShape& s, const AccelConfig& cfg) {
  using storage::kFp32;
  GemmShape f = s;
  f.x_bytes = f.y_bytes = kFp32;
  const GemmPlan p = plan_gemm(f, cfg, kFp32);
  const int64_t x = bytes_of(s.m * s.d, kFp32 / s.x_reuse) * p.x_loads() * s.groups;
  const int64_t y = bytes_of(s.d * s.n, kFp32) * p.y_loads() * s.groups;
  const int64_t out = s.m * s.n * s.groups, merges = (p.d_chunks - 1) * out;
  L.dram(rec, 0, 0, x + y, 0);
  L.sram(rec, Buffer::kIfmap, 0, 0, 0, x);
  L.sram(rec, Buffer::kFilter, 0, 0, 0, y);
  L.sram(rec, Buffer::kAccum, 0, 0, bytes_of(merges, kFp32), bytes_of(out + merges, kFp32));
  L.act_fp32(rec, Unit::kSystolicArray, Action::kAddFp32, merges);
}

}  // namespace

std::vector<Op*> SystolicArray::issue_gemm(Dram& dram, const AccelConfig& cfg, int rec, const GemmShape& s,
                                           double out_bytes, GemmData* data, Handoff keep, std::vector<Op*>* computes) {
  Ledger& L = *ledger_;
  const auto b = [](int64_t n, double bytes) { return bytes_of(n, bytes); };
  using storage::kFp32;
  const GemmPlan p = plan_gemm(s, cfg);
  const int64_t R = cfg.array_rows, C = cfg.array_cols;
  struct Block {
    ArrayBlock ab;
    bool load_x, load_y, last_chunk;
    int out_block;
  };
  std::vector<Block> blocks;
  int out_blocks = 0;
  for (int64_t g = 0; g < s.groups; ++g)
    for (int64_t nb = 0; nb < p.n_blocks; ++nb)
      for (int64_t mb = 0; mb < p.m_blocks; ++mb, ++out_blocks)
        for (int64_t dc = 0; dc < p.d_chunks; ++dc) {
          Block k;
          k.ab.record = rec;
          k.ab.m0 = mb * p.mb * R;
          k.ab.m_len = std::min(p.mb * R, s.m - k.ab.m0);
          k.ab.n0 = nb * p.nb * C;
          k.ab.n_len = std::min(p.nb * C, s.n - k.ab.n0);
          k.ab.d0 = dc * p.dc;
          k.ab.d_len = std::min(p.dc, s.d - k.ab.d0);
          k.ab.first_chunk = dc == 0;
          k.ab.x_bytes = s.x_bytes;
          k.ab.y_bytes = s.y_bytes;
          k.ab.data = data;
          k.load_x = !p.x_resident || nb == 0;
          k.load_y = !p.y_resident || mb == 0;
          k.last_chunk = dc == p.d_chunks - 1;
          k.out_block = out_blocks;
          blocks.push_back(k);
        }
  std::vector<Op*> xload(blocks.size(), nullptr), yload(blocks.size(), nullptr), compute(blocks.size(), nullptr);
  std::vector<Op*> writeback(static_cast<size_t>(out_blocks), nullptr);
  Op* x_cur = nullptr;
  Op* y_cur = nullptr;
  const auto issue_loads = [&](size_t i) {
    const Block& k = blocks[i];
    // The buffer half this block fills is free once the block two earlier in the array's
    // sequence streamed in: block i - 2, or the previous GEMM's last blocks (prefetch across
    // operations under the concurrent schedule; long done under the serial one).
    std::vector<Op*> free_half;
    Op* two_back = i >= 2 ? compute[i - 2] : prev_compute_[i];
    if (two_back) free_half.push_back(two_back);
    if (k.load_x) {
      const int64_t el = k.ab.m_len * k.ab.d_len;
      const int64_t bytes = b(el, s.x_bytes / s.x_reuse);
      xload[i] = dram.transfer(rec, bytes, 0, {}, free_half);
      L.dram(rec, bytes, 0, 0, 0);
      L.sram(rec, Buffer::kIfmap, 0, bytes, 0, 0);
    }
    if (k.load_y) {
      const int64_t el = k.ab.d_len * k.ab.n_len;
      yload[i] = dram.transfer(rec, b(el, s.y_bytes), 0, {}, free_half);
      L.dram(rec, b(el, s.y_bytes), 0, 0, 0);
      L.sram(rec, Buffer::kFilter, 0, b(el, s.y_bytes), 0, 0);
    }
  };
  charge_fp32_plan(L, rec, s, cfg);
  if (!blocks.empty()) issue_loads(0);
  for (size_t i = 0; i < blocks.size(); ++i) {
    const Block& k = blocks[i];
    if (i + 1 < blocks.size()) issue_loads(i + 1);  // prefetch ahead of this block's write-back
    if (xload[i]) x_cur = xload[i];
    if (yload[i]) y_cur = yload[i];
    std::vector<Op*> deps{x_cur, y_cur};
    std::vector<Op*> release;  // the accumulator half is free once block j-2's write-back read it
    if (k.ab.first_chunk && !keep.ints) {
      Op* wb = k.out_block >= 2 ? writeback[static_cast<size_t>(k.out_block - 2)] : prev_writeback_[static_cast<size_t>(k.out_block)];
      if (wb) release.push_back(wb);
    }
    compute[i] = block(k.ab, deps, release);
    if (k.last_chunk) {
      const int64_t el = k.ab.m_len * k.ab.n_len;
      const int64_t bytes = b(el, out_bytes / s.out_reuse), fp = b(el, kFp32 / s.out_reuse);
      // A resident output is not written back: the block stays where it was accumulated
      // (and its accumulator space is not reused by later blocks).
      const bool wb = !keep.ints || keep.through, wb_fp = !keep.fp || keep.through;
      if (wb) writeback[static_cast<size_t>(k.out_block)] = dram.transfer(rec, 0, bytes, {compute[i]});
      L.sram(rec, Buffer::kAccum, wb ? kAccumBytes * el : 0, 0, wb_fp ? b(el, kFp32) : 0, 0);
      L.dram(rec, 0, wb ? bytes : 0, 0, wb_fp ? fp : 0);
      if (s.out_reuse > 1) {  // col2im: the lowered results are summed on chip
        L.act(rec, Unit::kSystolicArray, Action::kAddInt64, el);
        L.act_fp32(rec, Unit::kSystolicArray, Action::kAddFp32, el);
      }
    }
  }
  // The array's sequence continues into the next GEMM: its last two blocks and write-backs.
  const auto last_two = [](std::array<Op*, 2>& prev, const std::vector<Op*>& v) {
    if (v.size() >= 2)
      prev = {v[v.size() - 2], v.back()};
    else if (v.size() == 1)
      prev = {prev[1], v.back()};
  };
  last_two(prev_compute_, compute);
  last_two(prev_writeback_, writeback);
  if (computes) *computes = compute;
  std::vector<Op*> all = compute;
  for (Op* w : writeback)
    if (w) all.push_back(w);
  return all;
}

}  // namespace octet::model
