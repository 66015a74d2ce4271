// Timing and energy of the accelerator model against the documented RTL formulas
// (docs/architecture.md) and hand-computed DRAM-bound schedules.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <utility>

#include "model/gemm_plan.h"
#include "model/simulate.h"
#include "model/unit_timing.h"
#include "model_test_util.h"

namespace octet::model {
namespace {

using test::fast_memory_config;
using test::options;

TEST(ModelTiming, SingleTileTakesTheTileFormula) {
  const GemmRun r = simulate_gemm(4, 10, 4, options(fast_memory_config(4, 4)));
  EXPECT_EQ(r.array_span, 10 + 4 + 4 + 1);
  EXPECT_EQ(r.record.macs, 4 * 10 * 4);
  EXPECT_EQ(r.record.ideal_cycles, 10);
}

// Tiled GEMMs of every kind of edge (K below and above max(R, C), ragged M and N) on square
// and non-square arrays: the array's span equals K + (T-1)·max(K,R,C) + R + C + 1.
TEST(ModelTiming, TiledGemmSpanEqualsTheFormula) {
  const struct { int r, c; int64_t m, d, n; } cases[] = {
      {4, 4, 16, 16, 16}, {4, 4, 17, 3, 5}, {4, 4, 9, 4, 9}, {4, 8, 33, 70, 20},
      {8, 4, 5, 2, 40},   {16, 16, 200, 147, 64}, {3, 5, 7, 11, 13},
  };
  for (const auto& k : cases) {
    const GemmRun run = simulate_gemm(k.m, k.d, k.n, options(fast_memory_config(k.r, k.c)));
    EXPECT_EQ(run.array_span, timing::array_gemm_cycles(k.m, k.d, k.n, k.r, k.c))
        << k.r << "x" << k.c << " array, GEMM " << k.m << "x" << k.d << "x" << k.n;
    EXPECT_EQ(run.record.macs, k.m * k.d * k.n);
    EXPECT_EQ(run.record.stall_cycles, 2) << "only the first block waits (two one-cycle loads)";
  }
}

// Random shapes, arrays and buffer sizes (fast DRAM): the array's span is the formula of
// the tiles it ran — one GEMM of depth D, or, when the reduction is split into chunks of
// equal depth dc, T * chunks tiles of depth dc. Seed printed; OCTET_SEED=<n> replays.
TEST(ModelTiming, RandomGemmsFollowTheFormula) {
  std::mt19937_64 rng(test::printed_seed("RandomGemmsFollowTheFormula", 20261127));
  const auto pick = [&rng](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  int chunked = 0, blocked = 0;
  for (int it = 0; it < 300; ++it) {
    const int r = static_cast<int>(pick(2, 16)), c = static_cast<int>(pick(2, 16));
    const int64_t m = pick(1, 300), d = pick(1, 2000), n = pick(1, 300);
    AccelConfig cfg = fast_memory_config(r, c);
    cfg.ifmap_sram_kib = pick(1, 8);
    cfg.filter_sram_kib = pick(1, 8);
    cfg.accum_sram_kib = pick(1, 8);
    const GemmPlan p = plan_gemm(GemmShape{m, d, n, 1, 1, 1}, cfg);
    if (d % p.dc != 0) continue;  // unequal chunks: no closed form here
    // A block must outlast a drain + write-back, else the double-buffered accumulator halves
    // stall the array (AccumulatorHalvesStallShortBlocks).
    if (p.mb * p.nb * timing::array_tile_period(p.dc, r, c) < r + c + 4) continue;
    chunked += p.d_chunks > 1;
    blocked += p.m_blocks * p.n_blocks > 1;
    const int64_t tiles = timing::ceil_div(m, r) * timing::ceil_div(n, c) * p.d_chunks;
    const int64_t expected = p.dc + (tiles - 1) * timing::array_tile_period(p.dc, r, c) + r + c + 1;
    const GemmRun run = simulate_gemm(m, d, n, options(cfg));
    ASSERT_EQ(run.array_span, expected) << "iteration " << it << ": " << r << "x" << c << " array, GEMM " << m << "x"
                                        << d << "x" << n << ", buffers " << cfg.ifmap_sram_kib << "/"
                                        << cfg.filter_sram_kib << "/" << cfg.accum_sram_kib << " KiB";
    ASSERT_EQ(run.record.macs, m * d * n);
  }
  EXPECT_GT(chunked, 10);
  EXPECT_GT(blocked, 10);
}

// When half of the accumulator SRAM holds one tile and a tile streams in faster than the
// previous-but-one tile drains and is written back, the array waits for accumulator space.
// 8x8 array, 1 KiB accumulator SRAM (half: one 8x8x6 B tile), GEMM 8x2x24: three one-tile
// blocks, X resident, one-cycle transfers. Tile 0 starts at 2 (X, Y loads), last beat 3,
// result at 21, write-back [21, 22). Tile 1: last beat 11 (TileGap 8), array free at 12.
// Tile 2 needs tile 0's half: starts at 22 (stall 10), last beat 23, result at 41;
// its write-back [41, 42). Span 41 - 2 = 39 instead of the formula's 35.
TEST(ModelTiming, AccumulatorHalvesStallShortBlocks) {
  AccelConfig c = fast_memory_config(8, 8);
  c.accum_sram_kib = 1;
  const GemmPlan p = plan_gemm(GemmShape{8, 2, 24, 1, 1, 1}, c);
  ASSERT_EQ(p.mb * p.nb, 1);
  ASSERT_EQ(p.n_blocks, 3);
  ASSERT_TRUE(p.x_resident);
  const GemmRun run = simulate_gemm(8, 2, 24, options(c));
  EXPECT_EQ(timing::array_gemm_cycles(8, 2, 24, 8, 8), 35);
  EXPECT_EQ(run.array_span, 39);
  EXPECT_EQ(run.record.stall_cycles, 2 + 10);
  EXPECT_EQ(run.record.cycles, 42);
}

// Small scratchpads split the GEMM into many double-buffered blocks; with a fast DRAM the
// next block's operands are in before the array needs them, so the span is still the formula.
TEST(ModelTiming, DoubleBufferedBlocksKeepTheArrayBusy) {
  AccelConfig c = fast_memory_config(4, 4);
  c.ifmap_sram_kib = c.filter_sram_kib = c.accum_sram_kib = 1;
  const int64_t m = 40, d = 200, n = 24;
  const GemmPlan p = plan_gemm(GemmShape{m, d, n, 1, 1, 1}, c);
  ASSERT_GT(p.m_blocks * p.n_blocks, 2);
  const GemmRun run = simulate_gemm(m, d, n, options(c));
  EXPECT_EQ(run.array_span, timing::array_gemm_cycles(m, d, n, 4, 4));
  EXPECT_EQ(run.record.stall_cycles, 2);
}

// Reductions longer than a buffer half are split into chunks merged in the accumulator
// SRAM: the array then sees one tile pass per chunk.
TEST(ModelTiming, SplitReductionCostsOneTilePassPerChunk) {
  AccelConfig c = fast_memory_config(4, 4);
  c.ifmap_sram_kib = c.filter_sram_kib = 1;  // half = 512 B: 128 beats of 4 rows
  const GemmPlan p = plan_gemm(GemmShape{4, 1000, 4, 1, 1, 1}, c);
  EXPECT_EQ(p.d_chunks, 8);
  EXPECT_EQ(p.dc, 125);
  const GemmRun run = simulate_gemm(4, 1000, 4, options(c));
  // Eight back-to-back tiles of 125 beats, each chunk's tile as a tile of the formula.
  EXPECT_EQ(run.array_span, 125 + 7 * 125 + 4 + 4 + 1);
}

// One block, DRAM at 1 byte/cycle with 100 cycles latency, everything hand-computed:
// X (8x32 = 256 B) on the channel [0, 256), usable at 356; Y (256 B) [256, 512), usable at
// 612; the array starts at 612 (612 stall cycles), 4 tiles of 32 beats: last beat at
// 612 + 31 + 3*32 = 739, last row at 739 + 4 + 4 + 1 = 748 (span 137); results (64 x 4 B)
// [749, 1005), written at 1105.
TEST(ModelTiming, DramBoundSingleBlockStallsAsHandComputed) {
  AccelConfig c = fast_memory_config(4, 4);
  c.dram_bytes_per_cycle = 1;
  c.dram_latency_cycles = 100;
  const GemmRun r = simulate_gemm(8, 32, 8, options(c));
  EXPECT_EQ(r.record.stall_cycles, 612);
  EXPECT_EQ(r.array_span, 137);
  EXPECT_EQ(r.record.array_cycles, 128);
  EXPECT_EQ(r.record.cycles, 1105);
  EXPECT_EQ(r.record.dram_read_bytes, 512);
  EXPECT_EQ(r.record.dram_write_bytes, 256);
}

// Two m-blocks (half of a 1 KiB ifmap scratchpad holds 4 rows x 128 beats), Y resident:
// X0 [0,512) ->612, Y [512,1024) ->1124, X1 [1024,1536) ->1636. Block 0 computes from 1124
// (stall 1124): last beat 1251, done 1261. Its write-back (64 B) waits for the channel:
// [1536,1600). Block 1 starts at 1636 (array free since 1252: stall 384), last beat 1763,
// done 1773; write-back [1773,1837) -> 1937.
TEST(ModelTiming, DramBoundTwoBlocksStallsAsHandComputed) {
  AccelConfig c = fast_memory_config(4, 4);
  c.ifmap_sram_kib = c.filter_sram_kib = c.accum_sram_kib = 1;
  c.dram_bytes_per_cycle = 1;
  c.dram_latency_cycles = 100;
  const GemmPlan p = plan_gemm(GemmShape{8, 128, 4, 1, 1, 1}, c);
  ASSERT_EQ(p.m_blocks, 2);
  ASSERT_EQ(p.n_blocks, 1);
  ASSERT_TRUE(p.y_resident);
  const GemmRun r = simulate_gemm(8, 128, 4, options(c));
  EXPECT_EQ(r.record.stall_cycles, 1124 + 384);
  EXPECT_EQ(r.array_span, 1773 - 1124);
  EXPECT_EQ(r.record.cycles, 1937);
  EXPECT_EQ(r.record.dram_read_bytes, 3 * 512);
  EXPECT_EQ(r.record.dram_write_bytes, 2 * 64);
}

// Energy of the single-block GEMM above, by unit, with distinct prices per action:
//   array: 2048 MACs + 2 operand-register bytes per MAC; FP32: 2048 FP32 MACs + 8 bytes.
//   SRAM (64 KiB / 4 banks: small): loads 256 + 256 B, operand reads 8*32*2 + 32*8*2 B
//   (each slab row read once per tile using it), partial sums 64 * 6 B written and read;
//   FP32: 4-byte operands and sums: 1024 + 1024 + 2048 + 2048 + 256 + 256 B.
//   DRAM: 256 + 256 + 64 * 4 B; FP32 1024 + 1024 + 256 B.
TEST(ModelTiming, EnergyOfATinyGemmIsHandComputed) {
  AccelConfig c = fast_memory_config(4, 4);
  c.ifmap_sram_kib = c.filter_sram_kib = c.accum_sram_kib = 64;
  EnergyTable t = test::flat_energy_table(0);
  t.pj[static_cast<size_t>(Action::kMacInt8)] = 1;
  t.pj[static_cast<size_t>(Action::kMacFp32)] = 3;
  t.pj[static_cast<size_t>(Action::kRfAccess)] = 10;
  t.pj[static_cast<size_t>(Action::kSramSmallByte)] = 100;
  t.pj[static_cast<size_t>(Action::kSramLargeByte)] = 1e6;  // must not be charged
  t.pj[static_cast<size_t>(Action::kDramByte)] = 1000;
  const GemmRun r = simulate_gemm(8, 32, 8, options(c, t));
  const auto& e = r.record.energy_pj;
  const auto& f = r.record.fp32_energy_pj;
  EXPECT_DOUBLE_EQ(e[static_cast<size_t>(Unit::kSystolicArray)], 2048 + 10 * 4096);
  EXPECT_DOUBLE_EQ(e[static_cast<size_t>(Unit::kSram)], 100.0 * (256 + 256 + 512 + 512 + 384 + 384));
  EXPECT_DOUBLE_EQ(e[static_cast<size_t>(Unit::kDram)], 1000.0 * 768);
  EXPECT_DOUBLE_EQ(f[static_cast<size_t>(Unit::kSystolicArray)], 3 * 2048 + 10 * 16384);
  EXPECT_DOUBLE_EQ(f[static_cast<size_t>(Unit::kSram)], 100.0 * (1024 + 1024 + 2048 + 2048 + 256 + 256));
  EXPECT_DOUBLE_EQ(f[static_cast<size_t>(Unit::kDram)], 1000.0 * (1024 + 1024 + 256));
  EXPECT_DOUBLE_EQ(r.record.energy_total(), 2048 + 40960 + 230400 + 768000);
}

// The update pass of a 6 x 7 weight GEMM row: each of the 42 weights costs 2 adds, 1
// multiply, 2 shifts and 2 compares in the optimizer (FP32: 2 adds, 2 multiplies), and moves
// M, V, G in (4 + 2 + 2 B) and M, V, W8 out (4 + 2 + 1 B); FP32 12 B in, 8 B out.
TEST(ModelTiming, EnergyOfAnUpdatePassIsHandComputed) {
  EnergyTable t = test::flat_energy_table(0);
  const auto set = [&t](Action a, double v) { t.pj[static_cast<size_t>(a)] = v; };
  set(Action::kAddInt32, 1);
  set(Action::kMulInt32, 10);
  set(Action::kShift, 100);
  set(Action::kCompare, 1000);
  set(Action::kAddFp32, 1e4);
  set(Action::kMulFp32, 1e5);
  set(Action::kDramByte, 1e6);
  Topology topo;
  topo.origin = "hand";
  topo.gemm.push_back(GemmLayerSpec{"g", 5, 7, 6, 2});  // M = 5, N = 7, K = 6
  const StepReport r = simulate_topology_step(topo, options(fast_memory_config(4, 4), t));
  const PassRecord& up = r.records.back();
  ASSERT_EQ(up.pass, Pass::kUpdate);
  const double n = 42;
  EXPECT_DOUBLE_EQ(up.energy_pj[static_cast<size_t>(Unit::kOptimizerUnit)], n * (2 + 10 + 200 + 2000));
  EXPECT_DOUBLE_EQ(up.fp32_energy_pj[static_cast<size_t>(Unit::kOptimizerUnit)], n * (2e4 + 2e5));
  EXPECT_DOUBLE_EQ(up.energy_pj[static_cast<size_t>(Unit::kDram)], 1e6 * n * (8 + 7));
  EXPECT_DOUBLE_EQ(up.fp32_energy_pj[static_cast<size_t>(Unit::kDram)], 1e6 * n * (12 + 8));
  EXPECT_EQ(up.dram_read_bytes, 42 * 8);
  EXPECT_EQ(up.dram_write_bytes, 42 * 7);
  EXPECT_EQ(up.cycles, timing::optimizer_cycles(42, 4));
}

// A SCALE-Sim conv topology: every row gets forward, backward (not the first row: its
// input is the data) and weight-gradient GEMMs of M = OH*OW*batch, K = C*FH*FW, N = filters,
// a quantization pass on each, and an update pass over its weights.
TEST(ModelTiming, TopologyRowsBecomeThreeGemmsAndAnUpdate) {
  Topology topo;
  topo.origin = "hand";
  topo.conv.push_back(ConvLayerSpec{"c1", 10, 10, 3, 3, 3, 8, 1, 1, false, 2});
  topo.conv.push_back(ConvLayerSpec{"c2", 8, 8, 3, 3, 8, 16, 2, 2, false, 3});
  SimOptions o = options(fast_memory_config(4, 4));
  o.batch = 2;
  const StepReport rep = simulate_topology_step(topo, o);
  ASSERT_EQ(rep.records.size(), 8u);
  const int64_t macs1 = 2 * 8 * 8 * 27 * 8, macs2 = 2 * 4 * 4 * 72 * 16;  // c2: OH = ceil((8-3+2)/2) = 4
  std::map<std::pair<std::string, Pass>, const PassRecord*> by;
  for (const PassRecord& r : rep.records) by[{r.layer, r.pass}] = &r;
  EXPECT_EQ(by.at({"c1", Pass::kForward})->macs, macs1);
  EXPECT_EQ(by.at({"c1", Pass::kBackwardData})->macs, 0);
  EXPECT_EQ(by.at({"c1", Pass::kWeightGrad})->macs, macs1);
  EXPECT_EQ(by.at({"c2", Pass::kForward})->macs, macs2);
  EXPECT_EQ(by.at({"c2", Pass::kBackwardData})->macs, macs2);
  EXPECT_EQ(by.at({"c2", Pass::kWeightGrad})->macs, macs2);
  // The update streams each weight through the optimizer: ceil(n / lanes) + 3 cycles (DRAM is fast).
  EXPECT_EQ(by.at({"c2", Pass::kUpdate})->cycles, timing::optimizer_cycles(72 * 16, 4) + 0);
  for (const PassRecord& r : rep.records) {
    EXPECT_LE(r.utilisation, 1.0);
    EXPECT_GE(r.cycles, r.ideal_cycles);
  }
  EXPECT_EQ(rep.total_macs(), 2 * macs1 + 3 * macs2);
}

// A depthwise row (name contains DP) is C independent GEMMs of N = 1; a GEMM row is M x K x N.
TEST(ModelTiming, DepthwiseAndGemmRowsCountTheirMacs) {
  Topology conv;
  conv.origin = "hand";
  conv.conv.push_back(ConvLayerSpec{"c0", 6, 6, 3, 3, 2, 4, 1, 1, false, 2});
  conv.conv.push_back(ConvLayerSpec{"DP1", 6, 6, 3, 3, 5, 5, 1, 1, true, 3});
  const StepReport rc = simulate_topology_step(conv, options(fast_memory_config(4, 4)));
  const int64_t dp = 4 * 4 * 9 * 5;  // OH*OW*FH*FW*C
  const PassRecord& dp_fwd = rc.records.at(1);  // order: forwards, backwards in reverse, updates
  EXPECT_EQ(dp_fwd.layer, "DP1");
  EXPECT_EQ(dp_fwd.pass, Pass::kForward);
  EXPECT_EQ(dp_fwd.macs, dp);
  EXPECT_EQ(rc.total_macs(), 2 * (4 * 4 * 18 * 4) + 3 * dp);
  // One output column per channel: the array's 16 PEs do at most 4 MACs per cycle.
  EXPECT_LE(dp_fwd.utilisation, 0.25);

  Topology gemm;
  gemm.origin = "hand";
  gemm.gemm.push_back(GemmLayerSpec{"g0", 10, 6, 7, 2});
  gemm.gemm.push_back(GemmLayerSpec{"g1", 10, 3, 6, 3});
  const StepReport rg = simulate_topology_step(gemm, options(fast_memory_config(4, 4)));
  EXPECT_EQ(rg.total_macs(), 2 * 10 * 6 * 7 + 3 * 10 * 3 * 6);
}

// The forward pass's Q and the backward's E2 are shift-quantizer passes of the formulas.
TEST(ModelTiming, QuantizerPassesTakeTheirFormulas) {
  Topology topo;
  topo.origin = "hand";
  topo.gemm.push_back(GemmLayerSpec{"g", 8, 8, 8, 2});
  const StepReport rep = simulate_topology_step(topo, options(fast_memory_config(4, 4)));
  const PassRecord& fwd = rep.records.at(0);
  const GemmRun alone = simulate_gemm(8, 8, 8, options(fast_memory_config(4, 4)));
  // The row's output stays in the accumulator SRAM for Q (docs/architecture.md, "Tensor
  // residency"): no write-back, which costs the GEMM alone one cycle on this DRAM.
  EXPECT_EQ(fwd.cycles, alone.record.cycles - 1 + timing::sq_direct_cycles(64, 4));
  const PassRecord& bwd = rep.records.at(1);  // first row: E2 pass only
  EXPECT_EQ(bwd.pass, Pass::kBackwardData);
  EXPECT_EQ(bwd.cycles, timing::sq_two_pass_cycles(64, 4));
}

// Counts the schedule forms from a row (here the input elements 2^93, or a GEMM's 2^93 MACs while
// M x K = 2^62 fits) that leave int64 are refused before anything runs, not wrapped.
TEST(ModelTiming, ConvRowBeyondInt64IsRefused) {
  Topology topo;
  topo.origin = "hand";
  const int64_t big = int64_t{1} << 31;
  topo.conv.push_back(ConvLayerSpec{"huge", big, big, 1, 1, big, 1, 1, 1, false, 2});
  EXPECT_THROW(simulate_topology_step(topo, options(fast_memory_config(4, 4))), std::overflow_error);
}
TEST(ModelTiming, GemmRowBeyondInt64IsRefused) {
  Topology topo;
  topo.origin = "hand";
  const int64_t big = int64_t{1} << 31;
  topo.gemm.push_back(GemmLayerSpec{"huge", big, big, big, 2});
  EXPECT_THROW(simulate_topology_step(topo, options(fast_memory_config(4, 4))), std::overflow_error);
}

// A DRAM transfer longer than the model's clock can time (2^53 cycles) is an error; a bandwidth of
// 1e-300 bytes/cycle used to come out as negative stall cycles.
TEST(ModelTiming, DramTransferBeyondTheClockIsRefused) {
  EXPECT_EQ(timing::dram_channel_cycles(1000, 16.0), 63);
  EXPECT_EQ(timing::dram_channel_cycles((int64_t{1} << 53) - 1, 1.0), (int64_t{1} << 53) - 1);
  EXPECT_THROW(timing::dram_channel_cycles(int64_t{1} << 53, 1.0), std::overflow_error);
  EXPECT_THROW(timing::dram_channel_cycles(1000, 1e-300), std::overflow_error);
  AccelConfig c = fast_memory_config(4, 4);
  c.dram_bytes_per_cycle = 1e-300;
  EXPECT_THROW(simulate_gemm(8, 8, 8, options(c)), std::overflow_error);
}

}  // namespace
}  // namespace octet::model
