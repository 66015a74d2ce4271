// octet-sim --trace (model/trace_writer.h) and the compulsory DRAM traffic
// (model/compulsory_traffic.h): the trace of a simulated step is well-formed Chrome
// trace-event JSON whose tracks never overlap and add up to the report's cycles; the
// compulsory minimum of a small network equals a hand count.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "golden/network_desc.h"
#include "model/compulsory_traffic.h"
#include "model/simulate.h"
#include "model/trace_writer.h"
#include "model_test_util.h"
#include "temp_dir.h"

namespace octet::model {
namespace {

golden::NetworkDesc small_resnet() { return golden::parse_network_file(std::string(OCTET_SOURCE_DIR) + "/networks/small_resnet.net"); }

// The default configuration (slow DRAM, so that every unit stalls somewhere), batch 2.
SimOptions trace_options(bool record, Schedule s = Schedule::kSerial) {
  SimOptions o = test::options(AccelConfig{});
  o.batch = 2;
  o.record_timeline = record;
  o.schedule = s;
  return o;
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return nlohmann::json::parse(s.str());  // throws on malformed JSON
}

class TraceOfSchedule : public ::testing::TestWithParam<Schedule> {};
INSTANTIATE_TEST_SUITE_P(Schedules, TraceOfSchedule, ::testing::Values(Schedule::kSerial, Schedule::kConcurrent),
                         [](const ::testing::TestParamInfo<Schedule>& i) { return std::string(schedule_name(i.param)); });

TEST_P(TraceOfSchedule, SmallResNetStepIsWellFormedAndAddsUpToTheReport) {
  const StepReport r = simulate_network_step(small_resnet(), trace_options(true, GetParam()));
  ASSERT_TRUE(r.timeline.recorded);
  testing::TempDir dir("trace");
  write_trace_json(r, dir.file("step.trace.json"));
  const nlohmann::json t = read_json(dir.file("step.trace.json"));

  ASSERT_TRUE(t.contains("traceEvents") && t["traceEvents"].is_array());
  EXPECT_EQ(t["otherData"]["time_unit"], "cycle");
  std::map<std::pair<int, int>, std::string> track_name;
  std::map<std::pair<int, int>, std::vector<std::pair<int64_t, int64_t>>> spans;  // per track: (ts, dur)
  std::map<std::string, int64_t> busy, stall;  // by track name: operation and stall cycles
  for (const nlohmann::json& e : t["traceEvents"]) {
    for (const char* k : {"name", "ph", "ts", "pid", "tid"}) ASSERT_TRUE(e.contains(k)) << k << " missing in " << e.dump();
    const std::pair<int, int> track{e["pid"].get<int>(), e["tid"].get<int>()};
    if (e["ph"] == "M") {
      if (e["name"] == "thread_name") track_name[track] = e["args"]["name"].get<std::string>();
      continue;
    }
    ASSERT_EQ(e["ph"], "X") << e.dump();
    const int64_t ts = e["ts"].get<int64_t>(), dur = e["dur"].get<int64_t>();
    ASSERT_GE(ts, 0) << e.dump();
    ASSERT_GE(dur, 0) << e.dump();
    spans[track].emplace_back(ts, dur);
    const bool is_stall = e["name"] == "stall";
    if (is_stall) {
      EXPECT_TRUE(e["args"].contains("stall_reason")) << e.dump();
    }
    if (track.second != kTraceControllerTid) {
      EXPECT_TRUE(e["args"].contains("layer") && e["args"].contains("pass")) << e.dump();
      (is_stall ? stall : busy)[track_name.at(track)] += dur;
    }
  }
  // One track per unit, named as the unit, and one per unit's DMA engine on the DRAM channel;
  // every one has operations.
  for (const char* u : {"systolic_array", "shift_quantizer", "bn_unit", "optimizer_unit", "vector_unit", "dram (systolic_array)",
                        "dram (shift_quantizer)", "dram (bn_unit)", "dram (optimizer_unit)", "dram (vector_unit)"})
    EXPECT_GT(busy[u], 0) << u;
  // Every unit and every DMA engine serves one operation at a time, and the controller's
  // stages (serial: the operations waited for; concurrent: the cycles attributed to each
  // record) follow each other: no track overlaps.
  for (auto& [track, v] : spans) {
    std::sort(v.begin(), v.end());
    for (size_t i = 1; i < v.size(); ++i)
      ASSERT_LE(v[i - 1].first + v[i - 1].second, v[i].first) << track_name[track] << " event " << i;
  }
  int64_t array_cycles = 0, stall_cycles = 0, dram_bytes = 0;
  for (const PassRecord& p : r.records) {
    array_cycles += p.array_cycles;
    stall_cycles += p.stall_cycles;
  }
  EXPECT_EQ(busy["systolic_array"], array_cycles);
  int64_t unit_stalls = 0;
  for (const auto& [name, c] : stall) unit_stalls += c;
  EXPECT_EQ(unit_stalls, stall_cycles);
  EXPECT_GT(stall["systolic_array"], 0);
  // The controller's stages tile the step: their sum is the step's cycles, and no unit runs past it.
  int64_t stages = 0, end = 0;
  for (const auto& [ts, dur] : spans[{kTraceUnitsPid, kTraceControllerTid}]) stages += dur;
  EXPECT_EQ(stages, r.total_cycles());
  for (const auto& [track, v] : spans)
    if (track.first == kTraceUnitsPid) end = std::max(end, v.back().first + v.back().second);
  EXPECT_EQ(end, r.total_cycles());
  for (const nlohmann::json& e : t["traceEvents"])
    if (e["pid"] == kTraceMemoryPid && e["ph"] == "X" && e["name"] != "stall")
      dram_bytes += e["args"].value("dram_read_bytes", int64_t{0}) + e["args"].value("dram_write_bytes", int64_t{0});
  EXPECT_EQ(dram_bytes, r.total_dram_bytes());
}

TEST_P(TraceOfSchedule, RecordingDoesNotChangeTheStep) {
  const StepReport with = simulate_network_step(small_resnet(), trace_options(true, GetParam()));
  const StepReport without = simulate_network_step(small_resnet(), trace_options(false, GetParam()));
  EXPECT_FALSE(without.timeline.recorded);
  EXPECT_TRUE(without.timeline.ops.empty());
  ASSERT_EQ(with.records.size(), without.records.size());
  for (size_t i = 0; i < with.records.size(); ++i) {
    EXPECT_EQ(with.records[i].cycles, without.records[i].cycles) << i;
    EXPECT_EQ(with.records[i].stall_cycles, without.records[i].stall_cycles) << i;
    EXPECT_EQ(with.records[i].dram_read_bytes, without.records[i].dram_read_bytes) << i;
  }
}

// input 3x4x4 -> conv 3x3 (2) -> bnrelu -> maxpool 2/2 -> conv 1x1 (4) -> bnrelu -> global
// avgpool -> linear (3), batch 2. Hand count (storage widths: model/storage_widths.h):
//  parameters (working copy + master 4 B + momentum, each read and written: 2 x; momentum 2 B
//  for weights, 4 B for γ, β and bias, whose gradients are int32):
//   c1.weight 54 x 2 x (1 + 4 + 2) = 756; b1 γ, β 4 x 2 x (2 + 4 + 4) = 80; c2.weight 8 x 14 = 112;
//   b2 γ, β 8 x 20 = 160; fc.weight 12 x 14 = 168; fc.bias 3 x 2 x (4 + 4 + 4) = 72: 1348.
//   FP32: (54 + 4 + 8 + 8 + 12 + 3) x 2 x 8 = 1424.
//  batch: 2 x 48 pixels + 2 labels x 2 B = 100; FP32 2 x 48 x 4 + 4 = 388.
//  saved (written + read: 2 x): b1 x̂ 64 x 2 B + mask 8 B -> 272; m1 index 16 -> 32; c2's input
//   (m1) 16 -> 32; b2 x̂ 32 x 2 + mask 4 -> 136; fc's input (g) 8 -> 16: 488 (c1's input is the batch).
//   FP32: 2 x (256 + 8) + 32 + 2 x 64 + 2 x (128 + 4) + 2 x 32 = 1016.
TEST(CompulsoryTraffic, HandCountedNetwork) {
  const golden::NetworkDesc d = golden::parse_network_text(
      "network hand\ninput x 3x4x4\nconv c1 x out=2 k=3 s=1 p=1\nbnrelu b1 c1\nmaxpool m1 b1 k=2 s=2\n"
      "conv c2 m1 out=4 k=1 s=1\nbnrelu b2 c2\navgpool g b2 global\nlinear fc g out=3\n",
      "hand");
  const CompulsoryTraffic c = compulsory_traffic(d, 2);
  EXPECT_TRUE(c.known);
  EXPECT_EQ(c.params, 1348);
  EXPECT_EQ(c.batch, 100);
  EXPECT_EQ(c.saved, 488);
  EXPECT_EQ(c.total(), 1936);
  EXPECT_EQ(c.fp32_params, 1424);
  EXPECT_EQ(c.fp32_batch, 388);
  EXPECT_EQ(c.fp32_saved, 1016);
  // The step report carries the same numbers, and the step moves at least that much.
  const StepReport r = simulate_network_step(d, [] {
    SimOptions o = test::options(AccelConfig{});
    o.batch = 2;
    return o;
  }());
  EXPECT_EQ(r.compulsory.total(), 1936);
  EXPECT_EQ(r.compulsory.fp32_total(), 2828);
  EXPECT_GE(r.total_dram_bytes(), r.compulsory.total());
  EXPECT_GE(r.total_fp32_dram_bytes(), r.compulsory.fp32_total());
}

// The update pass of the hand network above (batch 2), per node, at the storage widths: the
// optimizer reads M, V, G and writes M, V and the working copy; a bnrelu also reads and writes
// its 2 running accumulators per channel (8 B each). FP32: w, v, g read; w, v written.
//  c1.weight 54: read 54 x (4 + 2 + 2) = 432, write 54 x (4 + 2 + 1) = 378; FP32 54 x 12 + 54 x 8.
//  b1 (2 channels): statistics 4 x 8 read and written; γ and β, 2 each: read 2 x (4 + 4 + 4) = 24,
//   write 2 x (4 + 4 + 2) = 20; read 32 + 48 = 80, write 32 + 40 = 72. FP32: 16 + 48, 16 + 32.
//  fc: weight 12 x 8 read, 12 x 7 write; bias 3 x 12 read and 3 x 12 written: 132, 120.
// Before the storage table, γ, β and bias momenta and gradients counted 2 B (b1: 64 / 64).
//
// And the backward of b2 (2 x 4 x 2 x 2 = 32 values, its error on chip): E1, x̂ and the mask
// read twice, 2 x 32 x (1 + 2 + 1/8) = 200; E1 (32) and G of γ, β (8 x 4 = 32) written; its dx
// (to c2, resident) stays on chip. FP32: x̂ and the mask read twice, 2 x 32 x (4 + 1/8) = 264;
// G of γ, β (32) and dx (32 x 4 = 128: a conv reads it as a GEMM operand, through DRAM) written.
// m1's backward reads its window indices: 16 B in both datapaths.
TEST(StorageWidths, HandNetworkPassesMoveEachTensorAtItsWidth) {
  const golden::NetworkDesc d = golden::parse_network_text(
      "network hand\ninput x 3x4x4\nconv c1 x out=2 k=3 s=1 p=1\nbnrelu b1 c1\nmaxpool m1 b1 k=2 s=2\n"
      "conv c2 m1 out=4 k=1 s=1\nbnrelu b2 c2\navgpool g b2 global\nlinear fc g out=3\n",
      "hand");
  SimOptions o = test::options(AccelConfig{});
  o.batch = 2;
  const StepReport r = simulate_network_step(d, o);
  const auto rec = [&](const std::string& layer, Pass pass) -> const PassRecord& {
    for (const PassRecord& p : r.records)
      if (p.layer == layer && p.pass == pass) return p;
    throw std::runtime_error("no record " + layer);
  };
  const PassRecord& c1 = rec("c1", Pass::kUpdate);
  EXPECT_EQ(c1.dram_read_bytes, 432);
  EXPECT_EQ(c1.dram_write_bytes, 378);
  EXPECT_EQ(c1.fp32_dram_read_bytes, 648);
  EXPECT_EQ(c1.fp32_dram_write_bytes, 432);
  const PassRecord& b1 = rec("b1", Pass::kUpdate);
  EXPECT_EQ(b1.dram_read_bytes, 80);
  EXPECT_EQ(b1.dram_write_bytes, 72);
  EXPECT_EQ(b1.fp32_dram_read_bytes, 64);
  EXPECT_EQ(b1.fp32_dram_write_bytes, 48);
  const PassRecord& fc = rec("fc", Pass::kUpdate);
  EXPECT_EQ(fc.dram_read_bytes, 132);
  EXPECT_EQ(fc.dram_write_bytes, 120);
  const PassRecord& b2 = rec("b2", Pass::kBackwardData);
  EXPECT_EQ(b2.dram_read_bytes, 200);
  EXPECT_EQ(b2.dram_write_bytes, 64);
  EXPECT_EQ(b2.fp32_dram_read_bytes, 264);
  EXPECT_EQ(b2.fp32_dram_write_bytes, 160);
  const PassRecord& m1 = rec("m1", Pass::kBackwardData);
  EXPECT_EQ(m1.dram_read_bytes, 16);
  EXPECT_EQ(m1.fp32_dram_read_bytes, 16);
}

// Two SCALE-Sim conv rows, batch 2: a 4x4x3 input, 3x3 filters, 2 of them; then 2x2x2, 1x1, 4.
//  weights 54 and 8: 2 x (1 + 4 + 2) = 14 B each (868), FP32 16 B each (992); the batch is the
//  first row's input, 2 x 48 = 96 (FP32 384); the second row's input 2 x 8 is saved: 2 x 16 =
//  32 (FP32 128).
TEST(CompulsoryTraffic, HandCountedTopology) {
  const Topology t = parse_scalesim_topology_text(
      "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
      "a, 4, 4, 3, 3, 3, 2, 1,\nb, 2, 2, 1, 1, 2, 4, 1,\n",
      "hand.csv");
  const CompulsoryTraffic c = compulsory_traffic(t, 2);
  EXPECT_EQ(c.params, 868);
  EXPECT_EQ(c.batch, 96);
  EXPECT_EQ(c.saved, 32);
  EXPECT_EQ(c.fp32_params, 992);
  EXPECT_EQ(c.fp32_batch, 384);
  EXPECT_EQ(c.fp32_saved, 128);
}

}  // namespace
}  // namespace octet::model
