// The concurrent schedule (model/scheduler.h) on graphs drawn by hand, with every cycle
// count computed by hand from the unit formulas (docs/architecture.md, "Unit latencies"),
// and on whole networks: bit-exact in functional mode, deterministic, and the serial
// schedule reproducing the cycle counts it had before the concurrent one existed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "golden/network_desc.h"
#include "model/accelerator.h"
#include "model/golden_backends.h"
#include "model/scheduler.h"
#include "model/simulate.h"
#include "model/topology.h"
#include "model/unit_timing.h"
#include "model_test_util.h"

namespace octet::model {
namespace {

// A hand-drawn operation: which unit, how many elements, and the DRAM bytes it reads.
struct HandOp {
  HandOp(Unit u, int64_t elements, int64_t read = 0, std::vector<int> after = {})
      : unit(u), n(elements), dram_read(read), deps(std::move(after)) {}
  Unit unit;
  int64_t n;
  int64_t dram_read;
  std::vector<int> deps;
};

// One record per operation; kinds picked only for their unit (model/step_graph.h).
StepGraph hand_graph(const std::vector<HandOp>& ops) {
  StepGraph g;
  for (size_t k = 0; k < ops.size(); ++k) {
    g.records.push_back(RecordDesc{"op" + std::to_string(k), "hand", Pass::kForward});
    StepOp op;
    switch (ops[k].unit) {
      case Unit::kSystolicArray: op.kind = StepOpKind::kForwardGemm; break;
      case Unit::kShiftQuantizer: op.kind = StepOpKind::kQuantizeE2; break;
      case Unit::kBnUnit: op.kind = StepOpKind::kRunningStatsWriteback; break;
      default: op.kind = StepOpKind::kOptimizerUpdate; break;
    }
    op.node = static_cast<int>(k);
    op.record = static_cast<int>(k);
    op.deps = ops[k].deps;
    g.ops.push_back(op);
  }
  g.groups.push_back(StepGroup{StepGroup::kForward, 0, 0, static_cast<int>(ops.size())});
  return g;
}

// What a hand run leaves: the report and every operation's unit operations.
struct HandRun {
  StepReport report;
  std::vector<std::vector<int64_t>> started, done;  // per hand op, per unit op: cycles
  int64_t makespan() const { return report.total_cycles(); }
};

// Runs the hand graph on the units: streaming operations with n elements and their DRAM
// reads, array operations as forward GEMMs of n x 8 x 4 (1-byte operands, int32 results).
HandRun run_hand(const std::vector<HandOp>& hand, Schedule schedule, const AccelConfig& cfg) {
  const StepGraph graph = hand_graph(hand);
  HandRun out;
  out.started.resize(hand.size());
  out.done.resize(hand.size());
  SimOptions o = test::options(cfg);
  o.schedule = schedule;
  std::vector<std::vector<const Op*>> issued(hand.size());
  out.report = simulate_units(
      [&](Units u, Ledger& L) {
        const int64_t t0 = time_to_cycles(sc_core::sc_time_stamp());  // SystemC time goes on across runs
        Scheduler sched(L, *u.arena);
        const auto issue = [&](const StepOp& op) {
          const HandOp& h = hand[static_cast<size_t>(op.node)];
          const StreamTraffic t{h.dram_read, 0, 0, 0};
          Issued is;
          switch (h.unit) {
            case Unit::kSystolicArray: {
              const GemmShape s{h.n, 8, 4, 1, 1, 1};
              is.ops = u.array->issue_gemm(*u.dram, cfg, op.record, s, 4, nullptr, {});
              is.frees_unit = u.array->second_to_last_block();
              break;
            }
            case Unit::kShiftQuantizer: is.ops = {u.sq->quantize(op.record, SqMode::kDirect, h.n, t, nullptr, nullptr)}; break;
            case Unit::kBnUnit: is.ops = {u.bn->stream(op.record, h.n, {1, 0, 0}, t, nullptr)}; break;
            default: is.ops = {u.opt->update(op.record, h.n, t, nullptr, nullptr)}; break;
          }
          if (h.unit != Unit::kSystolicArray) is.frees_unit = is.ops.front();
          issued[static_cast<size_t>(op.node)].assign(is.ops.begin(), is.ops.end());
          return is;
        };
        if (schedule == Schedule::kSerial)
          sched.run(graph, issue, nullptr);
        else
          sched.run_concurrent(graph, issue, [](const StepOp&) { return AccumUse{}; }, cfg.accum_sram_kib * 1024, nullptr);
        for (size_t k = 0; k < issued.size(); ++k)
          for (const Op* op : issued[k]) {
            out.started[k].push_back(time_to_cycles(op->started) - t0);
            out.done[k].push_back(time_to_cycles(op->done_at) - t0);
          }
      },
      o);
  return out;
}

int64_t sum_of_record_cycles(const StepReport& r) {
  int64_t s = 0;
  for (const PassRecord& p : r.records) s += p.cycles;
  return s;
}

// Unit formulas with 4 lanes: optimizer ceil(n/4) + 3, BN lanes ceil(n/4) + 4, Q ceil(n/4) + 5.
constexpr int64_t kOpt400 = 100 + 3, kBn400 = 100 + 4, kQ400 = 100 + 5;

// Two independent operations on two units: the step takes the longer one (104 cycles), not
// their sum (207, the serial schedule); the records' cycles add up to the step's.
TEST(ModelSchedule, IndependentOperationsOverlap) {
  const AccelConfig cfg = test::fast_memory_config(4, 4);
  const std::vector<HandOp> g{{Unit::kOptimizerUnit, 400}, {Unit::kBnUnit, 400}};
  const HandRun c = run_hand(g, Schedule::kConcurrent, cfg);
  EXPECT_EQ(c.makespan(), std::max(kOpt400, kBn400));
  EXPECT_EQ(c.started[0][0], 0);
  EXPECT_EQ(c.started[1][0], 0);
  EXPECT_EQ(sum_of_record_cycles(c.report), c.makespan());
  // Every cycle counted once, in the row of the higher-ranked unit running (BN over optimizer).
  EXPECT_EQ(c.report.records[1].cycles, kBn400);
  EXPECT_EQ(c.report.records[0].cycles, 0);
  const HandRun s = run_hand(g, Schedule::kSerial, cfg);
  EXPECT_EQ(s.makespan(), kOpt400 + kBn400);
}

// Two independent operations on one unit still take turns: 103 + 103.
TEST(ModelSchedule, OneUnitServesOneOperationAtATime) {
  const HandRun c = run_hand({{Unit::kOptimizerUnit, 400}, {Unit::kOptimizerUnit, 400}}, Schedule::kConcurrent,
                             test::fast_memory_config(4, 4));
  EXPECT_EQ(c.makespan(), 2 * kOpt400);
  EXPECT_EQ(c.started[1][0], kOpt400);
}

// op0 -> op1 and an independent op2: op1 starts the cycle op0's result is usable (103), the
// step takes max(103 + 104, 105) = 207, op2 runs beside the chain from cycle 0.
TEST(ModelSchedule, ConsumerStartsWhenItsProducerIsDone) {
  const HandRun c = run_hand({{Unit::kOptimizerUnit, 400}, {Unit::kBnUnit, 400, 0, {0}}, {Unit::kShiftQuantizer, 400}},
                             Schedule::kConcurrent, test::fast_memory_config(4, 4));
  EXPECT_EQ(c.started[1][0], kOpt400);
  EXPECT_EQ(c.started[2][0], 0);
  EXPECT_EQ(c.makespan(), std::max(kOpt400 + kBn400, kQ400));
  EXPECT_EQ(sum_of_record_cycles(c.report), c.makespan());
}

// A GEMM's last write is its last write-back, which lands DRAM latency after the channel took
// it: its consumer never starts before that, though the array finished earlier and an
// independent operation ran meanwhile.
TEST(ModelSchedule, ConsumerNeverStartsBeforeItsProducersLastWrite) {
  AccelConfig cfg = test::fast_memory_config(4, 4);
  cfg.dram_latency_cycles = 40;
  const HandRun c = run_hand({{Unit::kSystolicArray, 64}, {Unit::kBnUnit, 400, 0, {0}}, {Unit::kOptimizerUnit, 40}},
                             Schedule::kConcurrent, cfg);
  ASSERT_EQ(c.done[0].size(), 2u) << "one block and its write-back";
  const int64_t last_write = c.done[0][1];
  EXPECT_GE(last_write, c.done[0][0] + 40) << "the write-back lands a DRAM latency after the block's results";
  EXPECT_EQ(c.started[1][0], last_write);
  EXPECT_EQ(c.started[2][0], 0);
  EXPECT_EQ(c.makespan(), last_write + kBn400);
}

// The shared DRAM channel (16 B/cycle, no latency): op0 reads 16,000 B (1,000 cycles alone),
// op1 8,000 B (500 alone), both with a few cycles of compute. Together they share the bursts:
// op1's transfer ends at 1,000 (half the bandwidth), op0's at 1,500 = 24,000 B / 16 — the sum
// of their bytes over the bandwidth; each lost 500 cycles to the other's bursts.
TEST(ModelSchedule, TwoUnitsSharingTheDramChannelTakeTheSumOfTheirBytes) {
  AccelConfig cfg = test::fast_memory_config(4, 4);
  cfg.dram_bytes_per_cycle = 16;
  cfg.dram_latency_cycles = 0;
  const std::vector<HandOp> g{{Unit::kOptimizerUnit, 4, 16000}, {Unit::kBnUnit, 4, 8000}};
  const HandRun c = run_hand(g, Schedule::kConcurrent, cfg);
  EXPECT_EQ(c.makespan(), (16000 + 8000) / 16);
  EXPECT_EQ(c.done[1][0], 1000);
  EXPECT_EQ(c.done[0][0], 1500);
  const PassRecord& a = c.report.records[0];
  const PassRecord& b = c.report.records[1];
  EXPECT_EQ(a.stall_cycles, 1500 - (1 + 3));
  EXPECT_EQ(b.stall_cycles, 1000 - (1 + 4));
  EXPECT_EQ(a.contention_cycles, 500);
  EXPECT_EQ(b.contention_cycles, 500);
  // Serially the same bytes take the same channel time, with no contention.
  const HandRun s = run_hand(g, Schedule::kSerial, cfg);
  EXPECT_EQ(s.makespan(), 1500);
  EXPECT_EQ(s.report.records[0].contention_cycles + s.report.records[1].contention_cycles, 0);
  // Three units, equal reads of 4,800 B (300 cycles alone): all end together at 900.
  const HandRun three = run_hand({{Unit::kOptimizerUnit, 4, 4800}, {Unit::kBnUnit, 4, 4800}, {Unit::kShiftQuantizer, 4, 4800}},
                                 Schedule::kConcurrent, cfg);
  for (int k = 0; k < 3; ++k) EXPECT_EQ(three.done[static_cast<size_t>(k)][0], 900) << k;
}

// The cycle attribution by hand: rank array > quantizer > BN > optimizer > DRAM, gaps to the
// next operation to start.
TEST(ModelSchedule, CyclesAreAttributedOncePerCycle) {
  // record 0: optimizer [0, 50); record 1: array [10, 20) and [30, 40); record 2: BN [60, 70).
  const std::vector<AttributedSpan> s = attribute_cycles(
      {{0, 3, 0, 0, 50}, {1, 0, 1, 10, 20}, {1, 0, 2, 30, 40}, {2, 2, 3, 60, 70}}, 0);
  std::map<int, int64_t> per;
  int64_t end = 0;
  for (const AttributedSpan& a : s) {
    per[a.record] += a.end - a.start;
    EXPECT_EQ(a.start, end) << "spans tile the step";
    end = a.end;
  }
  EXPECT_EQ(end, 70);
  EXPECT_EQ(per[1], 20);
  EXPECT_EQ(per[0], 30);
  EXPECT_EQ(per[2], 10 + 10) << "the idle gap [50, 60) goes to the BN pass that starts next";
}

golden::NetworkDesc network(const char* name) {
  return golden::parse_network_file(std::string(OCTET_SOURCE_DIR) + "/networks/" + name + ".net");
}

constexpr const char* kResidualNet = test::kTinyResidualNet;

SimOptions functional(const AccelConfig& c, int batch, Schedule s) {
  SimOptions o = test::options(c);
  o.functional = true;
  o.batch = batch;
  o.seed = 3;
  o.schedule = s;
  return o;
}

// Functional mode bit-checks every value against the golden model: an operation issued
// before one of its inputs is final reads stale values and fails this. Small buffers (many
// blocks, split reductions, spilled tensors) and roomy ones (tensors handed over on chip).
TEST(ModelSchedule, ConcurrentScheduleIsBitExact) {
  const golden::NetworkDesc tiny = golden::parse_network_text(kResidualNet, "res");
  AccelConfig small = test::fast_memory_config(3, 5);
  small.ifmap_sram_kib = small.filter_sram_kib = small.accum_sram_kib = 1;
  for (const AccelConfig& c : {small, test::fast_memory_config(8, 8), AccelConfig{}}) {
    const StepReport r = simulate_network_step(tiny, functional(c, 3, Schedule::kConcurrent));
    EXPECT_TRUE(r.functional_mismatch.empty()) << r.functional_mismatch;
    EXPECT_EQ(r.state_digest, r.golden_state_digest);
    EXPECT_EQ(r.schedule, "concurrent");
  }
  AccelConfig c8;
  c8.array_rows = c8.array_cols = 8;
  const StepReport r = simulate_network_step(network("small_resnet"), functional(c8, 2, Schedule::kConcurrent));
  EXPECT_TRUE(r.functional_mismatch.empty()) << r.functional_mismatch;
  EXPECT_EQ(r.state_digest, r.golden_state_digest);
  // Timing does not depend on computing the values.
  SimOptions timing = functional(c8, 2, Schedule::kConcurrent);
  timing.functional = false;
  EXPECT_EQ(simulate_network_step(network("small_resnet"), timing).total_cycles(), r.total_cycles());
}

// An error inside a unit's operation while other operations are in flight ends the step with
// that error (after the units finished what they had, which still references the step's
// data), and the model runs the next step normally.
class FailingArray : public GoldenArrayBackend {
 public:
  ArrayTileOutcome run_tile(const ArrayTileJob& job) override {
    if (++calls_ == 40) throw std::overflow_error("tile 40 overflowed");
    return GoldenArrayBackend::run_tile(job);
  }

 private:
  int calls_ = 0;
};

TEST(ModelSchedule, UnitErrorEndsTheConcurrentStepAndTheModelRecovers) {
  const golden::NetworkDesc tiny = golden::parse_network_text(kResidualNet, "res");
  SimOptions o = functional(test::fast_memory_config(4, 4), 2, Schedule::kConcurrent);
  o.backends.array = std::make_shared<FailingArray>();
  EXPECT_THROW(simulate_network_step(tiny, o), std::overflow_error);
  o.backends.array = nullptr;
  const StepReport r = simulate_network_step(tiny, o);
  EXPECT_TRUE(r.functional_mismatch.empty()) << r.functional_mismatch;
  EXPECT_EQ(r.state_digest, r.golden_state_digest);
}

// Two runs of the concurrent schedule: the same records and the same timeline.
TEST(ModelSchedule, ConcurrentScheduleIsDeterministic) {
  SimOptions o = test::options(AccelConfig{});
  o.batch = 4;
  o.schedule = Schedule::kConcurrent;
  o.record_timeline = true;
  const golden::NetworkDesc net = network("small_resnet");
  const StepReport a = simulate_network_step(net, o), b = simulate_network_step(net, o);
  ASSERT_EQ(a.records.size(), b.records.size());
  for (size_t i = 0; i < a.records.size(); ++i) {
    EXPECT_EQ(a.records[i].cycles, b.records[i].cycles) << i;
    EXPECT_EQ(a.records[i].stall_cycles, b.records[i].stall_cycles) << i;
    EXPECT_EQ(a.records[i].contention_cycles, b.records[i].contention_cycles) << i;
  }
  ASSERT_EQ(a.timeline.ops.size(), b.timeline.ops.size());
  for (size_t i = 0; i < a.timeline.ops.size(); ++i) {
    EXPECT_EQ(a.timeline.ops[i].start, b.timeline.ops[i].start) << i;
    EXPECT_EQ(a.timeline.ops[i].unit, b.timeline.ops[i].unit) << i;
  }
}

// The serial schedule is the one main had before the concurrent schedule (and its memory
// system) existed: the same cycles, to the cycle (default configuration, timing mode; numbers
// of docs/architecture.md, "Compulsory DRAM traffic"), less the scan passes that fused
// quantization removed (issue 12 item 3: CQ of one-chunk weight gradients; small ResNet
// 11,111,778 - 41,076, ResNet-18 523,248,075 - 4,120,064, each difference the sum over the
// fused CQs of ceil(n/4) for a resident raw gradient, or of 6n/16, its second DRAM read, for a
// spilled one), plus what the vector unit's command periods (model/unit_timing.h vu_*_cycles)
// add over the BN unit's element-wise passes (ceil(n/4) + 4) they replaced, on the passes that
// are not DRAM-bound: small ResNet 11,070,702 + 852 (global average pool forward: 256
// commands of 49 + 3 = 13,312 for 12,548; loss: 4 commands of 3·10 + 3 = 132 for 44);
// ResNet-18 519,128,011 + 4,862,406 (stem max pool k3 s2 p1 on 112x112, forward and
// backward: 256 commands of 167^2 + 3 = 7,140,352 for 3,211,268 and for 6,221,924; global
// average pool forward 2,048 commands of 52 = 106,496 for 100,356; loss 4 commands of 3003 =
// 12,012 for 4,004; fc bias gradient 250 commands of 16 + 3 = 4,750 for 4,004). Those are
// the counts without weight decay (λ = none). With the default λ = 13 the decay term is added
// on the shift-quantizer's input after the array's drain-path maximum, so no weight-gradient
// CQ is fused, and W8 streams from DRAM beside G_raw in both passes (2 bytes per weight):
// small ResNet + 41,094 (the fused passes back: ceil(n/4) per resident gradient, e.g.
// s3b2_c2 9,216, less where the pass is bound by its DRAM write: fc + 146, s2b1_proj + 98;
// the stem's DRAM-bound pass + 18 for its 288 W8 bytes at 16 bytes per cycle), ResNet-18
// + 5,555,200 (the same, with the spilled gradients' second 6-byte read and the W8 bytes of
// DRAM-bound passes). Then the GEMM plan that moves the fewest operand bytes
// (model/gemm_plan.cpp, test_gemm_plan.cpp) took small ResNet - 126,484 with and without
// decay (the four s1 weight-gradient GEMMs - 31,026 each: their error slabs were reloaded
// for every 16 filter rows, 1.8 MB each; backward-data GEMMs of s2 / s3 - 4,396 to + 1,152,
// where a wider first block loads longer before the array starts) and ResNet-18 - 16,340,023
// with decay, - 16,221,239 without (the stem's, s1's and s2's weight gradients - 0.45 to
// - 2.08 M each). The
// concurrent one is no slower, moves the same bytes, and cannot beat the array's busy time
// or the DRAM channel's.
TEST(ModelSchedule, SerialReproducesTheCycleCountsOfMainAndConcurrentIsBounded) {
  const struct {
    const char* name;
    int64_t serial_cycles, serial_cycles_without_decay;
  } cases[] = {{"small_resnet", 10'986'164, 10'945'070}, {"resnet18", 513'205'594, 507'769'178}};
  for (const auto& k : cases) {
    SCOPED_TRACE(k.name);
    SimOptions o = test::options(AccelConfig{});
    o.batch = 16;
    SimOptions without = o;
    without.weight_decay_lambda = -1;
    EXPECT_EQ(simulate_network_step(network(k.name), without).total_cycles(), k.serial_cycles_without_decay);
    const StepReport s = simulate_network_step(network(k.name), o);
    EXPECT_EQ(s.total_cycles(), k.serial_cycles);
    o.schedule = Schedule::kConcurrent;
    const StepReport c = simulate_network_step(network(k.name), o);
    EXPECT_LT(c.total_cycles(), s.total_cycles());
    EXPECT_EQ(c.total_dram_bytes(), s.total_dram_bytes());
    EXPECT_EQ(c.total_macs(), s.total_macs());
    EXPECT_DOUBLE_EQ(c.total_energy_pj(), s.total_energy_pj());
    int64_t array = 0;
    for (const PassRecord& r : c.records) array += r.array_cycles;
    EXPECT_GE(c.total_cycles(), array);
    EXPECT_GE(c.total_cycles(), static_cast<int64_t>(static_cast<double>(c.total_dram_bytes()) / AccelConfig{}.dram_bytes_per_cycle));
  }
}

// SCALE-Sim topology rows run under either schedule too: serially with the cycles they had
// before the concurrent schedule existed (6,641,198 without weight decay; + 18 with it: the
// stem's DRAM-bound CQ pass reads its 144 W8 twice, 288 bytes at 16 bytes per cycle), less
// 128,788 since the GEMM plan moves the fewest operand bytes (6,512,410 and 6,512,428),
// concurrently faster with the same bytes and energy.
TEST(ModelSchedule, TopologySerialIsUnchangedAndConcurrentIsFaster) {
  const Topology t = parse_scalesim_topology(std::string(OCTET_SOURCE_DIR) + "/topologies/small_resnet.csv", "auto");
  SimOptions o = test::options(AccelConfig{});
  o.batch = 16;
  SimOptions without = o;
  without.weight_decay_lambda = -1;
  EXPECT_EQ(simulate_topology_step(t, without).total_cycles(), 6'512'410);
  const StepReport s = simulate_topology_step(t, o);
  EXPECT_EQ(s.total_cycles(), 6'512'428);
  o.schedule = Schedule::kConcurrent;
  const StepReport c = simulate_topology_step(t, o);
  EXPECT_EQ(c.schedule, "concurrent");
  EXPECT_LT(c.total_cycles(), s.total_cycles());
  EXPECT_EQ(c.total_dram_bytes(), s.total_dram_bytes());
  EXPECT_DOUBLE_EQ(c.total_energy_pj(), s.total_energy_pj());
  ASSERT_EQ(c.records.size(), s.records.size());
  for (size_t i = 0; i < c.records.size(); ++i) {
    EXPECT_EQ(c.records[i].layer, s.records[i].layer);
    EXPECT_EQ(c.records[i].pass, s.records[i].pass);
    EXPECT_EQ(c.records[i].macs, s.records[i].macs);
  }
}

}  // namespace
}  // namespace octet::model
