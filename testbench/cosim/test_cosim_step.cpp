// A training step with the RTL units bound into the SystemC model (functional + cosim, at
// the verilated array sizes and lane counts): every tensor the RTL produces equals the golden backend's (the backends stop the
// run otherwise), the end-of-step state is bit-identical to golden::IntNetwork::train_step,
// every unit operation's RTL cycle count equals the model's formula, and binding the RTL
// leaves the model's own timing unchanged.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <limits>
#include <string>

#include "golden/network_desc.h"
#include "model/simulate.h"
#include "sim/cosim_check.h"
#include "sim/rtl_backends.h"
#include "sim/rtl_bn_unit.h"
#include "sim/rtl_systolic_array.h"
#include "testbench/model/model_test_util.h"

namespace octet {
namespace {

// conv / bnrelu / maxpool / residual add / 1x1 stride-2 projection / global avgpool / linear,
// with sizes that leave partial tiles on the 8x8 array.
constexpr const char* kTinyResnet = R"(network tiny_resnet
input   x    1x10x10
conv    c1   x out=8 k=3 s=1 p=1
bnrelu  b1   c1
conv    c2   b1 out=8 k=3 s=1 p=1
bnrelu  b2   c2
conv    c3   b2 out=8 k=3 s=1 p=1
add     a1   c1 c3
bnrelu  b3   a1
maxpool p1   b3 k=2 s=2
conv    c4   p1 out=12 k=3 s=1 p=1
bnrelu  b4   c4
conv    c5   b4 out=12 k=3 s=1 p=1
conv    pj   p1 out=12 k=1 s=1
add     a2   pj c5
bnrelu  b5   a2
avgpool g    b5 global
linear  fc   g out=10
)";

// The array size and lane counts of a co-simulated step: a verilated configuration.
struct Geometry {
  int rows = 8, cols = 8, lanes = 4;
};

bool built(const Geometry& g) {
  const sim::RtlUnits& u = sim::rtl_units();
  return u.array(g.rows, g.cols) && u.bn(g.lanes) && u.shift_quantizer(g.lanes) && u.optimizer(g.lanes) &&
         u.vector(g.lanes);
}

model::SimOptions step_options(int batch, model::Schedule schedule = model::Schedule::kSerial, Geometry geo = {}) {
  model::AccelConfig c;  // default buffers and DRAM, a verilated array size and lane count
  c.array_rows = geo.rows, c.array_cols = geo.cols;
  c.sq_lanes = c.bn_lanes = c.opt_lanes = c.vector_lanes = geo.lanes;
  model::SimOptions o = model::test::options(c);
  o.functional = true;
  o.batch = batch;
  o.seed = 1;
  o.threads = 1;
  o.schedule = schedule;
  return o;
}

struct Run {
  model::StepReport report;
  double seconds = 0;
};

Run simulate(const golden::NetworkDesc& desc, const model::SimOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  Run r{model::simulate_network_step(desc, o), 0};
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

// The model alone, then with the five RTL units bound: values bit-exact, every operation's
// RTL cycle count equal to the model's formula, and the same step timing.
void run_step(const golden::NetworkDesc& desc, int batch, model::Schedule schedule = model::Schedule::kSerial,
              Geometry geo = {}, std::function<void(std::vector<golden::ParamState>&)> edit_initial_state = {},
              int weight_decay_lambda = octet::params::kDefaultWeightDecayLog2) {
  if (!built(geo)) GTEST_SKIP() << geo.rows << "x" << geo.cols << " array or " << geo.lanes << " lanes not verilated";
  model::SimOptions o = step_options(batch, schedule, geo);
  o.edit_initial_state = std::move(edit_initial_state);
  o.weight_decay_lambda = weight_decay_lambda;
  // Before the first simulation of the process: the RTL units join the elaboration.
  const model::UnitBackends rtl = sim::make_rtl_backends(o.config);

  const Run plain = simulate(desc, o);
  o.cosim = true;
  o.backends = rtl;
  sim::reset_cosim_stats();
  const Run co = simulate(desc, o);
  const model::StepReport& r = co.report;
  EXPECT_TRUE(r.cosim);
  EXPECT_TRUE(r.functional_mismatch.empty()) << r.functional_mismatch;
  EXPECT_EQ(r.state_digest, r.golden_state_digest);
  EXPECT_GT(r.cycle_checks, 0);
  EXPECT_EQ(r.cycle_mismatches, 0) << r.first_cycle_mismatch;
  EXPECT_EQ(r.total_cycles(), plain.report.total_cycles()) << "binding the RTL changed the model's timing";
  EXPECT_EQ(r.state_digest, plain.report.state_digest);
  // Every unit of the configuration ran jobs and reports its RTL's speed.
  const std::vector<model::StepReport::CosimUnit> units = sim::cosim_stats();
  ASSERT_EQ(units.size(), 5u);
  for (const model::StepReport::CosimUnit& u : units) {
    EXPECT_GT(u.jobs, 0) << u.unit;
    EXPECT_GE(u.values, u.jobs) << u.unit;
    EXPECT_GT(u.rtl_cycles, 0) << u.unit;
    EXPECT_GT(u.seconds, 0) << u.unit;
    EXPECT_LT(u.seconds, co.seconds) << u.unit << ": driving its RTL cannot take longer than the whole run";
  }
  EXPECT_EQ(units[0].configuration, std::to_string(geo.rows) + "x" + std::to_string(geo.cols));
  EXPECT_EQ(units.back().unit, "vector_unit");  // pooling, residual add, error merge, bias gradient, loss through the RTL
  std::printf("[  cosim   ] %s batch %d, %dx%d array, %d lanes: %lld unit operations, RTL cycles = model cycles on %lld; step %lld cycles; "
              "model %.1f s, cosim %.1f s\n%s",
              desc.name.c_str(), batch, geo.rows, geo.cols, geo.lanes, static_cast<long long>(r.cycle_checks),
              static_cast<long long>(r.cycle_checks - r.cycle_mismatches), static_cast<long long>(r.total_cycles()),
              plain.seconds, co.seconds, sim::cosim_summary().c_str());
}

TEST(CosimStep, TinyResnetBatch2On8x8IsBitExactAndCycleExact) {
  run_step(golden::parse_network_text(kTinyResnet, "tiny_resnet"), 2);
}

// A step from masters at the optimizer's clamps: one weight in 16 has a working copy that
// rounds to ±128 (master ±128 · 2^16, clamped to ±127) and one γ / β in 16 one that rounds to
// ±32768 (master ±(2^31 − 1), clamped to ±32767), so the update's saturation bounds decide
// those working copies; an off-by-one bound in optimizer_unit.sv fails here.
TEST(CosimStep, TinyResnetFromMastersAtTheClampsIsBitExact) {
  const golden::NetworkDesc desc = golden::parse_network_text(kTinyResnet, "tiny_resnet");
  const std::vector<golden::ParamDesc> params = golden::network_params(desc);
  run_step(desc, 2, model::Schedule::kSerial, {}, [&params](std::vector<golden::ParamState>& states) {
    int64_t set = 0;
    for (size_t p = 0; p < states.size(); ++p) {
      int32_t m = 0;
      switch (params[p].kind) {
        case golden::ParamDesc::kWeight: m = 128 << 16; break;
        case golden::ParamDesc::kGamma:
        case golden::ParamDesc::kBeta: m = std::numeric_limits<int32_t>::max(); break;
        case golden::ParamDesc::kBias: continue;
      }
      // One element in 16 (the others keep their initial values, so the step's numbers stay in
      // the contract's ranges).
      for (size_t i = 0; i < states[p].master.data.size(); i += 16, ++set) states[p].master.data[i] = i % 32 ? -m : m;
    }
    ASSERT_GT(set, 0);
  });
}

// Without weight decay the one-chunk weight gradients' CQ is fused: the RTL shift-quantizer
// gets the array's drain-path maximum with its configuration and runs one pass (with decay,
// the default of the other steps, it adds the term on its input and scans first).
TEST(CosimStep, TinyResnetWithoutWeightDecayFusesTheGradientQuantization) {
  run_step(golden::parse_network_text(kTinyResnet, "tiny_resnet"), 2, model::Schedule::kSerial, {}, {}, -1);
}

// The concurrent schedule interleaves the units' operations: still bit-exact and cycle-exact.
TEST(CosimStep, TinyResnetBatch2On8x8ConcurrentScheduleIsBitExactAndCycleExact) {
  run_step(golden::parse_network_text(kTinyResnet, "tiny_resnet"), 2, model::Schedule::kConcurrent);
}

TEST(CosimStep, RtlMismatchStopsTheStepWithLineAndWaveform) {
  const golden::NetworkDesc desc = golden::parse_network_text(kTinyResnet, "tiny_resnet");
  if (!built(Geometry{})) GTEST_SKIP() << "8x8 array or 4 lanes not verilated";
  model::SimOptions o = step_options(2);
  o.backends = sim::make_rtl_backends(o.config);
  o.cosim = true;
  sim::reset_cosim_stats();                          // job numbers count from 1
  sim::rtl_units().array(8, 8)->inject_fault_for_test();  // the first tile's out[0][0] is off by one
  try {
    model::simulate_network_step(desc, o);
    FAIL() << "the step ran to completion";
  } catch (const sim::CosimMismatch& e) {
    const std::string msg = e.what();
    std::printf("[  cosim   ] %s\n", msg.c_str());
    // The first tile of the step: conv c1 (1 input channel, 3x3: depth 9), forward pass.
    // Its block streams 25 tiles back to back; the job number counts tiles.
    EXPECT_EQ(msg.rfind("cosim mismatch: c1 forward, systolic_array forward tile 8x8 depth 9 (job 1, tile 1 of a block of 25), "
                        "out[0][0]",
                        0),
              0u)
        << msg;
    EXPECT_NE(msg.find("out[0][0]: golden "), std::string::npos) << msg;
    EXPECT_NE(msg.find(".fst"), std::string::npos) << msg;
  }
}

TEST(CosimStep, SmallResnetBatch2On8x8IsBitExactAndCycleExact) {
  run_step(golden::parse_network_file(OCTET_SOURCE_DIR "/networks/small_resnet.net"), 2);
}

// The default configuration's 16x16 array with 4 lanes, and a 32x32 array with 8-lane
// streaming units: the same checks at the other verilated sizes (skipped when a build leaves
// them out of OCTET_COSIM_ARRAYS / OCTET_COSIM_LANES).
TEST(CosimStep, SmallResnetBatch2On16x16IsBitExactAndCycleExact) {
  const Geometry geo{16, 16, 4};
  if (!built(geo)) GTEST_SKIP() << "16x16 array or 4 lanes not verilated in this build";
  run_step(golden::parse_network_file(OCTET_SOURCE_DIR "/networks/small_resnet.net"), 2, model::Schedule::kSerial, geo);
}

TEST(CosimStep, SmallResnetBatch2On32x32With8LanesIsBitExactAndCycleExact) {
  const Geometry geo{32, 32, 8};
  if (!built(geo)) GTEST_SKIP() << "32x32 array or 8 lanes not verilated in this build";
  run_step(golden::parse_network_file(OCTET_SOURCE_DIR "/networks/small_resnet.net"), 2, model::Schedule::kConcurrent,
           geo);
}

// Every built array size and lane count on the tiny network (partial tiles at every size).
TEST(CosimStep, TinyResnetBatch2OnEveryBuiltConfiguration) {
  const golden::NetworkDesc desc = golden::parse_network_text(kTinyResnet, "tiny_resnet");
  for (const sim::RtlSystolicArray* a : sim::rtl_units().arrays)
    for (const sim::RtlBnUnit* l : sim::rtl_units().bns) run_step(desc, 2, model::Schedule::kConcurrent, {a->rows(), a->cols(), l->lanes()});
}

}  // namespace
}  // namespace octet
