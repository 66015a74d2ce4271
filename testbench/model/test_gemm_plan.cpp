// The GEMM plan (model/gemm_plan.h): hand-computed plans and their DRAM bytes, a brute-force
// check that the chosen block shape moves the fewest operand bytes, and the FP32 baseline's
// own plan at 4-byte widths.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "model/gemm_plan.h"
#include "model/simulate.h"
#include "model/unit_timing.h"
#include "model_test_util.h"

namespace octet::model {
namespace {

using test::fast_memory_config;
using test::options;

// 4x4 array, 1 KiB scratchpads and accumulator SRAM (halves of 512 B: a block holds at most
// 512 / (16 * 6) = 5 tiles of partial sums), GEMM 16 x 1008 x 16 of 1-byte operands: 4 x 4
// tiles. The longest chunk one tile allows is 512 / 4 = 128 beats (8 chunks of 126), with
// one-tile blocks: X (16,128 B) loads once per n-block, Y once per m-block, 4 x 16,128 each,
// 129,024 B. Blocks of 2 x 2 tiles (4 of the 5 tiles the accumulator half holds) take chunks of
// 512 / 8 = 64 beats (16 chunks of 63, still >= max(R, C)): 2 x 16,128 each, 64,512 B.
// (1 x 4 or 4 x 1: 80,640 B; 1 x 2, 2 x 1, 1 x 3, 3 x 1: 96,768 B.) The array's cycles do not
// change: 256 tiles of 63 beats back to back = 128 tiles of 126.
TEST(GemmPlan, WiderBlocksHalveTheReloadsOfASplitReduction) {
  AccelConfig c = fast_memory_config(4, 4);
  c.ifmap_sram_kib = c.filter_sram_kib = c.accum_sram_kib = 1;
  const GemmShape s{16, 1008, 16, 1, 1, 1};
  const GemmPlan p = plan_gemm(s, c);
  EXPECT_EQ(p.mb, 2);
  EXPECT_EQ(p.nb, 2);
  EXPECT_EQ(p.dc, 63);
  EXPECT_EQ(p.d_chunks, 16);
  EXPECT_EQ(p.m_blocks, 2);
  EXPECT_EQ(p.n_blocks, 2);
  EXPECT_FALSE(p.x_resident);
  EXPECT_FALSE(p.y_resident);
  EXPECT_DOUBLE_EQ(gemm_operand_bytes(s, p), 64512);
  const GemmRun run = simulate_gemm(16, 1008, 16, options(c));
  EXPECT_EQ(run.record.dram_read_bytes, 64512);
  EXPECT_EQ(run.array_span, 63 + 255 * 63 + 4 + 4 + 1);
  EXPECT_EQ(run.array_span, 126 + 127 * 126 + 4 + 4 + 1);
}

// A reduction that fits one chunk keeps the plan that loads each operand once: no reload to
// save, and a single chunk keeps Y's slab under the m-blocks.
TEST(GemmPlan, UnsplitReductionKeepsTheLongestChunk) {
  AccelConfig c = fast_memory_config(4, 4);
  c.ifmap_sram_kib = c.filter_sram_kib = c.accum_sram_kib = 1;
  const GemmPlan p = plan_gemm(GemmShape{8, 128, 4, 1, 1, 1}, c);
  EXPECT_EQ(p.d_chunks, 1);
  EXPECT_EQ(p.m_blocks, 2);
  EXPECT_TRUE(p.y_resident);
  EXPECT_DOUBLE_EQ(gemm_operand_bytes(GemmShape{8, 128, 4, 1, 1, 1}, p), 8 * 128 + 128 * 4);
}

// Random shapes, arrays, operand widths and buffers: every block shape whose partial sums fit
// the accumulator half and whose chunk is at least max(R, C) beats (or the whole reduction)
// is tried by brute force here; none moves fewer operand bytes than the plan, the plan's
// slabs fit their halves, its array beats are those of the longest chunk, and the simulated
// GEMM's DRAM reads are the plan's bytes.
// Seed printed; OCTET_SEED=<n> replays.
TEST(GemmPlan, NoBlockShapeMovesFewerBytesAndTheLoadsAreThePlans) {
  std::mt19937_64 rng(test::printed_seed("NoBlockShapeMovesFewerBytes", 20261203));
  const auto pick = [&rng](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  int improved = 0;
  for (int it = 0; it < 200; ++it) {
    const int r = static_cast<int>(pick(2, 16)), cc = static_cast<int>(pick(2, 16));
    AccelConfig c = fast_memory_config(r, cc);
    c.ifmap_sram_kib = pick(1, 8);
    c.filter_sram_kib = pick(1, 8);
    c.accum_sram_kib = pick(1, 8);
    GemmShape s{pick(1, 200), pick(1, 3000), pick(1, 200), 1, 1, 1};
    s.x_bytes = pick(0, 1) ? 1 : 9.0 / 8;
    const GemmPlan p = plan_gemm(s, c);
    SCOPED_TRACE(testing::Message() << "iteration " << it << ": " << r << "x" << cc << ", GEMM " << s.m << "x" << s.d
                                    << "x" << s.n << ", buffers " << c.ifmap_sram_kib << "/" << c.filter_sram_kib
                                    << "/" << c.accum_sram_kib << " KiB");
    const double half_x = c.ifmap_sram_kib * 512.0, half_y = c.filter_sram_kib * 512.0;
    const double half_acc = c.accum_sram_kib * 512.0;
    if (p.mb * p.nb > 1) {
      ASSERT_LE(p.mb * r * p.dc * s.x_bytes, half_x);
      ASSERT_LE(p.dc * p.nb * cc * s.y_bytes, half_y);
      ASSERT_LE(static_cast<double>(p.mb * p.nb * r * cc * kAccumBytes), half_acc);
    }
    const int64_t mt = timing::ceil_div(s.m, r), nt = timing::ceil_div(s.n, cc);
    // The array's streaming beats stay those of the longest chunk one tile allows (up to
    // the chunks' rounding, a beat per chunk and tile): no chunk shorter than max(R, C).
    const int64_t dc1 = std::clamp<int64_t>(
        std::min(static_cast<int64_t>(half_x / (r * s.x_bytes)), static_cast<int64_t>(half_y / cc)), 1, s.d);
    const int64_t chunks1 = timing::ceil_div(s.d, dc1);
    const int64_t beats1 = mt * nt * chunks1 * timing::array_tile_period(timing::ceil_div(s.d, chunks1), r, cc);
    ASSERT_LE(mt * nt * p.d_chunks * timing::array_tile_period(p.dc, r, cc), beats1 + mt * nt * p.d_chunks);
    const double chosen = gemm_operand_bytes(s, p);
    for (int64_t mb = 1; mb <= mt; ++mb)
      for (int64_t nb = 1; nb <= nt; ++nb) {
        if (static_cast<double>(mb * nb * r * cc * kAccumBytes) > half_acc) continue;
        int64_t dc = std::min(static_cast<int64_t>(half_x / (mb * r * s.x_bytes)), static_cast<int64_t>(half_y / (nb * cc)));
        dc = std::min(dc, s.d);
        if (dc < std::min<int64_t>(s.d, std::max(r, cc))) continue;
        const int64_t chunks = timing::ceil_div(s.d, dc);
        const int64_t mblocks = timing::ceil_div(mt, mb), nblocks = timing::ceil_div(nt, nb);
        const double x = static_cast<double>(s.m * s.d) * s.x_bytes * (mblocks == 1 && chunks == 1 ? 1 : nblocks);
        const double y = static_cast<double>(s.d * s.n) * (chunks == 1 ? 1 : mblocks);
        ASSERT_GE(x + y, chosen) << "blocks of " << mb << " x " << nb << " tiles move fewer bytes";
      }
    if (s.x_bytes == 1) {
      const GemmRun run = simulate_gemm(s.m, s.d, s.n, options(c));
      ASSERT_EQ(static_cast<double>(run.record.dram_read_bytes), chosen);
    }
    improved += p.d_chunks > 1 && p.mb * p.nb > 1;
  }
  EXPECT_GT(improved, 10) << "too few split reductions with wide blocks to mean anything";
}

// The FP32 baseline plans the same GEMM at 4-byte operands and partial sums. 4x4 array, 1 KiB
// buffers (halves of 512 B), GEMM 8 x 200 x 16: 2 x 4 tiles, X 1,600 B, Y 3,200 B.
// Integer (6-byte sums: at most 5 tiles a block): 2 x 2 blocks, chunks of 512 / 8 = 64 beats
// (4 of 50): X twice, Y once, 6,400 B; 3 merges of the 128 sums.
// FP32 (4-byte sums: 8 tiles a block): X 6,400 B, Y 12,800 B; 2 x 4 blocks, chunks of
// min(512 / 32, 512 / 64) = 8 beats (25 of 8): each operand once, 19,200 B; 24 merges of the
// 128 sums (3,072 FP32 adds). At 6-byte sums FP32 would have 2 x 2 blocks: 25,600 B.
TEST(GemmPlan, TheFp32BaselineHasItsOwnPlanAtFourBytes) {
  AccelConfig c = fast_memory_config(4, 4);
  c.ifmap_sram_kib = c.filter_sram_kib = c.accum_sram_kib = 1;
  const GemmPlan p = plan_gemm(GemmShape{8, 200, 16, 1, 1, 1}, c);
  EXPECT_EQ(p.mb * 10 + p.nb, 22);
  EXPECT_EQ(p.d_chunks, 4);
  const GemmPlan f = plan_gemm(GemmShape{8, 200, 16, 1, 4, 4}, c, 4);
  EXPECT_EQ(f.mb * 10 + f.nb, 24);
  EXPECT_EQ(f.d_chunks, 25);
  EnergyTable t = test::flat_energy_table(0);
  t.pj[static_cast<size_t>(Action::kAddInt64)] = 1;
  t.pj[static_cast<size_t>(Action::kAddFp32)] = 1;
  const GemmRun run = simulate_gemm(8, 200, 16, options(c, t));
  EXPECT_EQ(run.record.dram_read_bytes, 6400);
  EXPECT_EQ(run.record.dram_write_bytes, 128 * 4);
  EXPECT_EQ(run.record.fp32_dram_read_bytes, 19200);
  EXPECT_EQ(run.record.fp32_dram_write_bytes, 128 * 4);
  EXPECT_DOUBLE_EQ(run.record.energy_pj[static_cast<size_t>(Unit::kSystolicArray)], 3 * 128);
  EXPECT_DOUBLE_EQ(run.record.fp32_energy_pj[static_cast<size_t>(Unit::kSystolicArray)], 24 * 128);
}

}  // namespace
}  // namespace octet::model
