// Tensor residency (docs/architecture.md, "Tensor residency") and the BN unit's cycle
// formulas (docs/architecture.md, "Batch-norm unit"), against hand-computed bytes and cycles.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>

#include "golden/network_desc.h"
#include "model/simulate.h"
#include "model/unit_timing.h"
#include "model_test_util.h"

namespace octet::model {
namespace {

// conv (1x1) -> BN -> global average pool -> linear on a 1 x h x h input, batch 1: the conv
// output (out x h x h values) is read twice by BN forward, and the error at the BN's output
// (from the pooling's backward) twice by E1 (integer) / BN backward (FP32 dy).
golden::NetworkDesc chain(int h, int out) {
  const std::string text = "network chain\ninput x 1x" + std::to_string(h) + "x" + std::to_string(h) +
                           "\nconv c1 x out=" + std::to_string(out) +
                           " k=1 s=1\nbnrelu b1 c1\navgpool g b1 global\nlinear fc g out=2\n";
  return golden::parse_network_text(text, "chain");
}

// 4x4 array; 1 KiB accumulator SRAM (the residency capacity), 64 KiB scratchpads; 4 banks
// each (all small SRAM); fast DRAM. Energy table: 1 pJ per SRAM or DRAM byte, 0 otherwise,
// so a unit's energy is its bytes (the FP32 baseline's bytes are only visible this way).
struct ChainRun {
  std::map<std::pair<std::string, Pass>, PassRecord> by;
  const PassRecord& at(const std::string& layer, Pass p) const { return by.at({layer, p}); }
};
ChainRun run_chain(int h, int out) {
  AccelConfig c = test::fast_memory_config(4, 4);
  c.ifmap_sram_kib = c.filter_sram_kib = 64;
  c.accum_sram_kib = 1;
  EnergyTable t = test::flat_energy_table(0);
  t.pj[static_cast<size_t>(Action::kSramSmallByte)] = 1;
  t.pj[static_cast<size_t>(Action::kSramLargeByte)] = 1e6;  // must not be charged
  t.pj[static_cast<size_t>(Action::kDramByte)] = 1;
  const StepReport r = simulate_network_step(chain(h, out), test::options(c, t));
  ChainRun run;
  for (const PassRecord& p : r.records) run.by[{p.layer, p.pass}] = p;
  return run;
}
double dram(const PassRecord& r, bool fp) { return (fp ? r.fp32_energy_pj : r.energy_pj)[static_cast<size_t>(Unit::kDram)]; }
double sram(const PassRecord& r, bool fp) { return (fp ? r.fp32_energy_pj : r.energy_pj)[static_cast<size_t>(Unit::kSram)]; }

// 2 x 4 x 4 = 32 values: 192 B at 6 B (integer accumulators), 128 B at 4 B (FP32), both
// <= 1024 B: resident in both datapaths.
//  conv forward (GEMM 16 x 1 x 2, one block): DRAM loads X 16 B + Y 2 B, nothing written
//   back; SRAM: loads written 16 + 2, operand reads 16 (X, one tile column) + 8 (Y, four
//   tile rows), partial sums written 32 * 6 = 192, no write-back read. FP32: DRAM 64 + 8,
//   SRAM 64 + 8 + 64 + 32 + 32 * 4.
//  BN forward: reads 2 passes x 32 x 6 = 384 B (FP32 2 x 32 x 4 = 256 B) from the
//   accumulator SRAM; DRAM only its outputs: A + x̂ + mask ceil(32 * 3.125) = 100 B (FP32 y + x̂
//   + mask 32 * 8.125 = 260).
//  BN backward record: E1 reads the error 2 x 32 x 6 = 384 B from the accumulator SRAM and
//   writes E1 32 B to DRAM; BN backward reads E1, x̂, mask twice from DRAM (2 x 100 B), writes
//   G of γ and β (2 channels x 2 x 4 B = 16 B) to DRAM and dx (32 x 6 = 192 B) to the
//   accumulator SRAM, since c1 comes next and its E2 streams it. FP32: dy 2 x 32 x 4 = 256 B
//   from SRAM, x̂ + mask 2 x 32 x 4.125 = 264 B from DRAM, dx 32 x 4 = 128 B and G 16 B to DRAM
//   (c1's FP32 consumer is a GEMM operand load).
TEST(ModelResidency, TensorsThatFitStayInTheAccumulatorSram) {
  const ChainRun r = run_chain(4, 2);
  const PassRecord& conv = r.at("c1", Pass::kForward);
  EXPECT_EQ(conv.dram_read_bytes, 18);
  EXPECT_EQ(conv.dram_write_bytes, 0);
  EXPECT_EQ(conv.sram_write_bytes, 16 + 2 + 192);
  EXPECT_EQ(conv.sram_read_bytes, 16 + 8);
  EXPECT_DOUBLE_EQ(dram(conv, true), 72);
  EXPECT_DOUBLE_EQ(sram(conv, true), 64 + 8 + 64 + 32 + 128);

  const PassRecord& bn = r.at("b1", Pass::kForward);
  EXPECT_EQ(bn.dram_read_bytes, 0);
  EXPECT_EQ(bn.dram_write_bytes, 100);
  EXPECT_EQ(bn.sram_read_bytes, 384);
  EXPECT_EQ(bn.sram_write_bytes, 0);
  EXPECT_DOUBLE_EQ(dram(bn, true), 260);
  EXPECT_DOUBLE_EQ(sram(bn, true), 256);

  const PassRecord& bb = r.at("b1", Pass::kBackwardData);
  EXPECT_EQ(bb.dram_read_bytes, 200);
  EXPECT_EQ(bb.dram_write_bytes, 32 + 16);
  EXPECT_EQ(bb.sram_read_bytes, 384);
  EXPECT_EQ(bb.sram_write_bytes, 192);
  EXPECT_DOUBLE_EQ(dram(bb, true), 264 + 128 + 16);
  EXPECT_DOUBLE_EQ(sram(bb, true), 256);
}

// 4 x 8 x 8 = 256 values: 1536 B at 6 B > 1024 B, the integer datapath spills; 1024 B at
// 4 B fits exactly, the FP32 baseline keeps it (same rule, its own bytes).
//  conv forward (GEMM 64 x 1 x 4; the accumulator half of 512 B holds 5 tiles: four
//   m-blocks of 5, 5, 5, 1 tiles, each loading its X rows, Y once): DRAM loads 64 + 4 B,
//   write-back 256 x 4 = 1024 B; SRAM: loads 64 + 4, operand reads 64 (X) + 4 x 16 (Y, one
//   row per tile), partial sums 1536 written and read back. FP32: DRAM 256 + 16; SRAM
//   256 + 16 + 256 + 256 + 1024, no write-back read.
//  BN forward: integer reads 2 x 256 x 4 = 2048 B from DRAM, writes ceil(256 * 3.125) = 800;
//   FP32 reads 2 x 256 x 4 = 2048 B from SRAM, writes 2048 + 32 (mask) B to DRAM.
//  BN backward record: E1 reads 2 x 256 x 6 = 3072 B from DRAM, writes 256; BN backward
//   reads 2 x 800 B, writes dx 1536 B and G of γ, β (4 channels x 2 x 4 = 32 B) to DRAM.
//   FP32: dy 2048 B from SRAM, x̂ + mask 2 x 1056 B from DRAM, dx 1024 + G 32 B to DRAM.
TEST(ModelResidency, IntegerSpillsWhereFp32StillFits) {
  const ChainRun r = run_chain(8, 4);
  const PassRecord& conv = r.at("c1", Pass::kForward);
  EXPECT_EQ(conv.dram_read_bytes, 68);
  EXPECT_EQ(conv.dram_write_bytes, 1024);
  EXPECT_EQ(conv.sram_write_bytes, 64 + 4 + 1536);
  EXPECT_EQ(conv.sram_read_bytes, 64 + 64 + 1536);
  EXPECT_DOUBLE_EQ(dram(conv, true), 272);
  EXPECT_DOUBLE_EQ(sram(conv, true), 256 + 16 + 256 + 256 + 1024);

  const PassRecord& bn = r.at("b1", Pass::kForward);
  EXPECT_EQ(bn.dram_read_bytes, 2048);
  EXPECT_EQ(bn.dram_write_bytes, 800);
  EXPECT_EQ(bn.sram_read_bytes + bn.sram_write_bytes, 0);
  EXPECT_DOUBLE_EQ(dram(bn, true), 2048 + 32);
  EXPECT_DOUBLE_EQ(sram(bn, true), 2048);

  const PassRecord& bb = r.at("b1", Pass::kBackwardData);
  EXPECT_EQ(bb.dram_read_bytes, 3072 + 1600);
  EXPECT_EQ(bb.dram_write_bytes, 256 + 1536 + 32);
  EXPECT_EQ(bb.sram_read_bytes + bb.sram_write_bytes, 0);
  EXPECT_DOUBLE_EQ(dram(bb, true), 2 * 1056 + 1024 + 32);
  EXPECT_DOUBLE_EQ(sram(bb, true), 2048);
}

// 8 x 8 x 8 = 512 values: 3072 B and 2048 B, both over 1024 B: both datapaths spill, and
// the DRAM bytes are those of the schedule without residency.
//  conv forward: loads X 64 B + Y 8 B, write-back 512 x 4 = 2048 B (FP32 256 + 32 + 2048).
//  BN forward: reads 2 x 512 x 4 = 4096 B, writes ceil(512 * 3.125) = 1600 (FP32 4096 + 4096
//   + 64 of mask).
//  BN backward record: E1 2 x 512 x 6 = 6144 B in, 512 out; BN backward 2 x 1600 in, dx
//   512 x 6 = 3072 and G of γ, β 8 x 2 x 4 = 64 out (FP32: dy 4096 + x̂ and mask 2 x 2112 in,
//   dx 2048 + G 64 out). No accumulator-SRAM traffic outside the GEMM.
TEST(ModelResidency, TensorsThatDoNotFitSpillInBothDatapaths) {
  const ChainRun r = run_chain(8, 8);
  const PassRecord& conv = r.at("c1", Pass::kForward);
  EXPECT_EQ(conv.dram_read_bytes, 72);
  EXPECT_EQ(conv.dram_write_bytes, 2048);
  EXPECT_DOUBLE_EQ(dram(conv, true), 256 + 32 + 2048);

  const PassRecord& bn = r.at("b1", Pass::kForward);
  EXPECT_EQ(bn.dram_read_bytes, 4096);
  EXPECT_EQ(bn.dram_write_bytes, 1600);
  EXPECT_DOUBLE_EQ(dram(bn, true), 8192 + 64);
  EXPECT_DOUBLE_EQ(sram(bn, false) + sram(bn, true), 0);

  const PassRecord& bb = r.at("b1", Pass::kBackwardData);
  EXPECT_EQ(bb.dram_read_bytes, 6144 + 3200);
  EXPECT_EQ(bb.dram_write_bytes, 512 + 3072 + 64);
  EXPECT_DOUBLE_EQ(dram(bb, true), 4096 + 2 * 2112 + 2048 + 64);
  EXPECT_DOUBLE_EQ(sram(bb, false) + sram(bb, true), 0);
}

// A residual block: b0 feeds c1 and the add a1 (two readers, so its error is merged).
//   x -> c0 -> b0 -> c1 -> a1(b0, c1) -> b2 -> g (global avgpool) -> fc; 2 x 4 x 4 = 32 values.
// Backward order fc, g, b2, a1, c1, b0, c0:
//  b2: E1 reads its error on chip (2 x 32 x 6 B; from g), writes 32 B; BN backward reads E1,
//   x̂, mask from DRAM (2 x 100 B), writes G of γ, β (16 B) to DRAM and dx, a1's error:
//   integer on chip (192 B; c1's E2 streams it right after a1 hands it on) and also to DRAM
//   (192 B) for b0, which reads it later (write-through). FP32: dy on chip (256 B), x̂ and mask
//   from DRAM (264 B), G (16 B) and dx to DRAM only (128 B; c1 reads it as a GEMM operand).
//  a1: hands the error on, no traffic.
//  c1 (backward record): E2 reads it on chip, writes 36 B of codes; the backward-data GEMM
//   loads E2 codes (32 x 9/8 = 36 B) and weights (4 B) and keeps its output on chip because
//   a merge into b0's error follows at once; the merge reads it on chip and the earlier
//   contribution (a1's, 192 B) from DRAM, and leaves the sum on chip for b0 (its last
//   contribution, b0 next). DRAM: read 40 + 192, written 36. FP32: loads 128 + 16, merge
//   reads 128 from DRAM, nothing written.
//  b0: as b1 in TensorsThatFitStayInTheAccumulatorSram (E1 and dy on chip, dx on chip for c0).
TEST(ModelResidency, ResidualErrorsAreWrittenThroughAndMergedOnChip) {
  const std::string text =
      "network res\ninput x 1x4x4\nconv c0 x out=2 k=1 s=1\nbnrelu b0 c0\nconv c1 b0 out=2 k=1 s=1\n"
      "add a1 b0 c1\nbnrelu b2 a1\navgpool g b2 global\nlinear fc g out=2\n";
  AccelConfig c = test::fast_memory_config(4, 4);
  c.ifmap_sram_kib = c.filter_sram_kib = 64;
  c.accum_sram_kib = 1;
  EnergyTable t = test::flat_energy_table(0);
  t.pj[static_cast<size_t>(Action::kSramSmallByte)] = 1;
  t.pj[static_cast<size_t>(Action::kDramByte)] = 1;
  const StepReport rep = simulate_network_step(golden::parse_network_text(text, "res"), test::options(c, t));
  std::map<std::pair<std::string, Pass>, PassRecord> by;
  for (const PassRecord& p : rep.records) by[{p.layer, p.pass}] = p;

  const PassRecord& b2 = by.at({"b2", Pass::kBackwardData});
  EXPECT_EQ(b2.dram_read_bytes, 200);
  EXPECT_EQ(b2.dram_write_bytes, 32 + 16 + 192);
  EXPECT_EQ(b2.sram_read_bytes, 384);
  EXPECT_EQ(b2.sram_write_bytes, 192);
  EXPECT_DOUBLE_EQ(dram(b2, true), 264 + 16 + 128);
  EXPECT_DOUBLE_EQ(sram(b2, true), 256);

  const PassRecord& a1 = by.at({"a1", Pass::kBackwardData});
  EXPECT_EQ(a1.dram_read_bytes + a1.dram_write_bytes + a1.sram_read_bytes + a1.sram_write_bytes, 0);

  const PassRecord& c1 = by.at({"c1", Pass::kBackwardData});
  EXPECT_EQ(c1.dram_read_bytes, 40 + 192);
  EXPECT_EQ(c1.dram_write_bytes, 36);
  EXPECT_DOUBLE_EQ(dram(c1, true), 144 + 128);

  const PassRecord& b0 = by.at({"b0", Pass::kBackwardData});
  EXPECT_EQ(b0.dram_read_bytes, 200);
  EXPECT_EQ(b0.dram_write_bytes, 32 + 16);
  EXPECT_EQ(b0.sram_read_bytes, 384);
  EXPECT_EQ(b0.sram_write_bytes, 192);
  EXPECT_DOUBLE_EQ(dram(b0, true), 264 + 16 + 128);
  EXPECT_DOUBLE_EQ(sram(b0, true), 256);
}

// A SCALE-Sim GEMM row (timing only; the FP32 baseline has no quantizers, so only the
// integer side is resident): 8 x 8 x 8, 64 outputs = 384 B at 6 B, resident in a 1 KiB
// accumulator SRAM. The forward Q reads them on chip and writes 64 one-byte activations; the
// weight-gradient CQ reads its 64 raw gradients on chip and writes 64 x 2 B. DRAM at
// 1 B/cycle, no latency: Q's pass is then bound by its 64 written bytes, not by the 4-lane
// formula (21 cycles) nor by reading 256 B of int32 from DRAM.
TEST(ModelResidency, TopologyQuantizersStreamFromTheAccumulatorSram) {
  AccelConfig c = test::fast_memory_config(4, 4);
  c.accum_sram_kib = 1;
  c.ifmap_sram_kib = c.filter_sram_kib = 64;
  c.dram_bytes_per_cycle = 1;
  Topology topo;
  topo.origin = "hand";
  topo.gemm.push_back(GemmLayerSpec{"g", 8, 8, 8, 2});
  const StepReport rep = simulate_topology_step(topo, test::options(c));
  const PassRecord& fwd = rep.records.at(0);
  ASSERT_EQ(fwd.pass, Pass::kForward);
  EXPECT_EQ(fwd.dram_read_bytes, 64 + 64);  // X, Y
  EXPECT_EQ(fwd.dram_write_bytes, 64);      // Q's activations only
  EXPECT_EQ(fwd.sram_read_bytes, 2 * 64 + 2 * 64 + 384);  // X, Y to the array (2 tile rows / cols each); Q's input
  const PassRecord& wg = rep.records.at(2);
  ASSERT_EQ(wg.pass, Pass::kWeightGrad);
  EXPECT_EQ(wg.dram_write_bytes, 128);  // G only
  EXPECT_EQ(wg.sram_read_bytes, 2 * 64 + 2 * 72 + 2 * 384);  // X (8 x 8 A^T), Y (8 x 8 E2 codes, 9/8 B), CQ's two passes
  // Q pass: 64 B written at 1 B/cycle (the channel is free once the GEMM's loads are done).
  const GemmRun alone = simulate_gemm(8, 8, 8, test::options(c));
  EXPECT_EQ(fwd.cycles, alone.record.cycles - 256 + 64);
}

// The BN unit's period per channel, as docs/architecture.md "Pipeline, latency and
// throughput" states it: train 2⌈N/L⌉ + 229 (S = 223), infer ⌈N/L⌉ + 34 (S = 28), backward
// 2⌈N/L⌉ + 73 (S = 67); the doc's example N = 49, L = 4: 255 cycles for train.
TEST(ModelResidency, BnUnitPeriodsFollowTheDocumentedFormulas) {
  EXPECT_EQ(timing::bn_train_channel_cycles(49, 4), 255);
  EXPECT_EQ(timing::bn_train_channel_cycles(1, 1), 2 + 229);
  EXPECT_EQ(timing::bn_train_channel_cycles(1000, 4), 500 + 229);
  EXPECT_EQ(timing::bn_infer_channel_cycles(49, 4), 13 + 34);
  EXPECT_EQ(timing::bn_infer_channel_cycles(5, 4), 2 + 34);
  EXPECT_EQ(timing::bn_backward_channel_cycles(49, 4), 26 + 73);
  EXPECT_EQ(timing::bn_backward_channel_cycles(8, 1), 16 + 73);
  // A layer: channels one after the other.
  EXPECT_EQ(timing::bn_forward_cycles(3 * 49, 3, 4), 3 * 255);
  EXPECT_EQ(timing::bn_backward_cycles(3 * 49, 3, 4), 3 * 99);
}

// The model's BN passes take those periods: the chain's b1 (2 channels of 16 values, 4 lanes,
// fast DRAM): forward 2 x (2 x 4 + 229) = 474 cycles; backward record = E1 (2 x 8 + 6 = 22)
// + BN backward 2 x (2 x 4 + 73) = 162.
TEST(ModelResidency, BnRecordsTakeThePeriodsPerChannel) {
  const ChainRun r = run_chain(4, 2);
  EXPECT_EQ(r.at("b1", Pass::kForward).cycles, 474);
  EXPECT_EQ(r.at("b1", Pass::kBackwardData).cycles, 22 + 162);
}

}  // namespace
}  // namespace octet::model
