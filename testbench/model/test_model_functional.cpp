// Functional mode: values flow through the model's units tile by tile and the end-of-step
// training state must be bit-identical to golden::IntNetwork::train_step on the same batch
// and seed, for any array shape and buffer sizes (the tiling is the model's own).
#include <gtest/gtest.h>

#include <algorithm>

#include "golden/network_desc.h"
#include "model/golden_backends.h"
#include "model/gemm_plan.h"
#include "model/simulate.h"
#include "model/units.h"
#include "model_test_util.h"

namespace octet::model {
namespace {

constexpr const char* kTinyNet = test::kTinyResidualNet;

// An ImageNet-style stem: 7x7 stride-2 padded conv, 3x3 stride-2 padded max-pool.
constexpr const char* kStemNet = R"(network stem
input   x   3x15x15
conv    c1  x out=8 k=7 s=2 p=3
bnrelu  b1  c1
maxpool p1  b1 k=3 s=2 p=1
conv    c2  p1 out=8 k=3 s=1 p=1
bnrelu  b2  c2
avgpool g   b2 global
linear  fc  g out=4
)";

SimOptions functional(const AccelConfig& c, int batch, uint64_t seed) {
  SimOptions o = test::options(c);
  o.functional = true;
  o.batch = batch;
  o.seed = seed;
  o.threads = 2;
  return o;
}

void expect_identical(const StepReport& r) {
  EXPECT_TRUE(r.functional_mismatch.empty()) << r.functional_mismatch;
  EXPECT_EQ(r.state_digest, r.golden_state_digest);
  EXPECT_NE(r.state_digest, 0u);
}

TEST(ModelFunctional, TinyNetSplitReductionsOn3x5MatchesGolden) {
  AccelConfig c = test::fast_memory_config(3, 5);
  c.ifmap_sram_kib = c.filter_sram_kib = c.accum_sram_kib = 1;  // forces reduction chunks and many blocks
  const golden::NetworkDesc desc = golden::parse_network_text(kTinyNet, "tiny");
  // The weight gradient of c1 reduces over 2*9*9 = 162 positions: more than fits a buffer half of 3 rows.
  ASSERT_GT(plan_gemm(GemmShape{54, 162, 6, 1, 1, 9.0 / 8}, c).d_chunks, 1);
  for (uint64_t seed : {1u, 7u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    expect_identical(simulate_network_step(desc, functional(c, 3, seed)));
  }
}

TEST(ModelFunctional, StemNetOn5x3MatchesGolden) {
  AccelConfig c = test::fast_memory_config(5, 3);
  c.ifmap_sram_kib = c.filter_sram_kib = c.accum_sram_kib = 1;
  const golden::NetworkDesc desc = golden::parse_network_text(kStemNet, "stem");
  expect_identical(simulate_network_step(desc, functional(c, 2, 11)));
}

TEST(ModelFunctional, TinyNetOn16x16MatchesGolden) {
  const golden::NetworkDesc desc = golden::parse_network_text(kTinyNet, "tiny");
  expect_identical(simulate_network_step(desc, functional(test::fast_memory_config(16, 16), 2, 3)));
}

TEST(ModelFunctional, SmallResnetBatch2On8x8MatchesGolden) {
  const golden::NetworkDesc desc = golden::parse_network_file(OCTET_SOURCE_DIR "/networks/small_resnet.net");
  AccelConfig c;  // the default buffers and DRAM
  c.array_rows = c.array_cols = 8;
  const StepReport r = simulate_network_step(desc, functional(c, 2, 1));
  expect_identical(r);
  EXPECT_EQ(r.total_macs(), 3 * golden::count_macs_forward(desc, 2) - 2 * 28 * 28 * 9 * 16)
      << "conv1's input is the data: no backward GEMM";
}

TEST(ModelFunctional, SmallResnetBatch2On4x8MatchesGolden) {
  const golden::NetworkDesc desc = golden::parse_network_file(OCTET_SOURCE_DIR "/networks/small_resnet.net");
  AccelConfig c;
  c.array_rows = 4;
  c.array_cols = 8;
  c.ifmap_sram_kib = c.filter_sram_kib = c.accum_sram_kib = 2;
  expect_identical(simulate_network_step(desc, functional(c, 2, 5)));
}

// More than 256 classes: labels beyond uint8 reach the model's loss exactly as the golden's (a
// label truncated to 8 bits on either side changes the end-of-step state).
TEST(ModelFunctional, ThreeHundredClassesMatchGolden) {
  const golden::NetworkDesc desc = golden::parse_network_text(R"(network wide
input   x   1x4x4
conv    c0  x out=2 k=3 s=1 p=1
bnrelu  b0  c0
avgpool g   b0 global
linear  fc  g out=300
)", "wide");
  const int batch = 8;
  const uint64_t seed = 1;
  const FunctionalBatch b = functional_batch(desc, batch, seed);
  ASSERT_GT(*std::max_element(b.labels.begin(), b.labels.end()), 255) << "the batch must hold a label beyond uint8";
  expect_identical(simulate_network_step(desc, functional(test::fast_memory_config(4, 4), batch, seed)));
}

// A backend that corrupts one value of one tile: the model's check must catch it.
class OffByOneArray : public GoldenArrayBackend {
 public:
  ArrayTileOutcome run_tile(const ArrayTileJob& job) override {
    ArrayTileOutcome o = GoldenArrayBackend::run_tile(job);
    if (job.kind == GemmKind::kWeightGrad && calls_++ == 3) o.out.data[0] += 1 << 20;
    return o;
  }

 private:
  int calls_ = 0;
};

TEST(ModelFunctional, CorruptedTileIsReported) {
  const golden::NetworkDesc desc = golden::parse_network_text(kTinyNet, "tiny");
  SimOptions o = functional(test::fast_memory_config(4, 4), 2, 1);
  o.backends.array = std::make_shared<OffByOneArray>();
  const StepReport r = simulate_network_step(desc, o);
  EXPECT_FALSE(r.functional_mismatch.empty());
  EXPECT_NE(r.state_digest, r.golden_state_digest);
}

// Backends that measure cycles (the RTL) are compared with the model's formulas.
class CountingArray : public GoldenArrayBackend {
 public:
  explicit CountingArray(int64_t skew) : skew_(skew) {}
  ArrayTileOutcome run_tile(const ArrayTileJob& job) override {
    ArrayTileOutcome o = GoldenArrayBackend::run_tile(job);
    o.cycles = job.depth + 4 + 4 + 1 + skew_;  // the tile formula on the 4x4 array, maybe off
    return o;
  }

 private:
  int64_t skew_;
};

TEST(ModelFunctional, MeasuredTileCyclesAreComparedWithTheFormula) {
  const golden::NetworkDesc desc = golden::parse_network_text(kTinyNet, "tiny");
  SimOptions o = functional(test::fast_memory_config(4, 4), 2, 1);
  o.backends.array = std::make_shared<CountingArray>(0);
  const StepReport good = simulate_network_step(desc, o);
  EXPECT_GT(good.cycle_checks, 0);
  EXPECT_EQ(good.cycle_mismatches, 0) << good.first_cycle_mismatch;
  o.backends.array = std::make_shared<CountingArray>(1);
  const StepReport bad = simulate_network_step(desc, o);
  EXPECT_EQ(bad.cycle_mismatches, bad.cycle_checks);
  EXPECT_NE(bad.first_cycle_mismatch.find("systolic_array"), std::string::npos) << bad.first_cycle_mismatch;
  // Every differing operation is listed (up to CycleCheck::kListed per unit) with its layer,
  // pass and both counts.
  ASSERT_EQ(bad.cycle_differences.size(), std::min<size_t>(CycleCheck::kListed, static_cast<size_t>(bad.cycle_mismatches)));
  for (const std::string& d : bad.cycle_differences) {
    EXPECT_GT(d.find(": systolic_array "), 3u) << d;  // after "<layer> <pass>"
    EXPECT_NE(d.find(": model "), std::string::npos) << d;
    EXPECT_NE(d.find(" cycles, backend "), std::string::npos) << d;
  }
  expect_identical(bad);  // values are still right
}

// Timing-only runs of the same network schedule the same operations: equal cycles and MACs.
TEST(ModelFunctional, TimingDoesNotDependOnFunctionalMode) {
  const golden::NetworkDesc desc = golden::parse_network_text(kTinyNet, "tiny");
  AccelConfig c;
  c.array_rows = c.array_cols = 4;
  SimOptions o = functional(c, 2, 1);
  const StepReport f = simulate_network_step(desc, o);
  o.functional = false;
  const StepReport t = simulate_network_step(desc, o);
  ASSERT_EQ(f.records.size(), t.records.size());
  for (size_t i = 0; i < f.records.size(); ++i) {
    EXPECT_EQ(f.records[i].cycles, t.records[i].cycles) << f.records[i].layer << " " << pass_name(f.records[i].pass);
    EXPECT_EQ(f.records[i].macs, t.records[i].macs);
    EXPECT_EQ(f.records[i].dram_read_bytes, t.records[i].dram_read_bytes);
  }
}

}  // namespace
}  // namespace octet::model

namespace octet::model {
namespace {

// An error inside a unit's operation ends the step with that error, and the model (one
// elaboration per process) runs the next step normally.
class FailingArray : public GoldenArrayBackend {
 public:
  ArrayTileOutcome run_tile(const ArrayTileJob& job) override {
    if (++calls_ == 5) throw std::overflow_error("tile 5 overflowed");
    return GoldenArrayBackend::run_tile(job);
  }

 private:
  int calls_ = 0;
};

TEST(ModelFunctional, UnitErrorEndsTheStepAndTheModelRecovers) {
  const golden::NetworkDesc desc = golden::parse_network_text(kTinyNet, "tiny");
  SimOptions o = functional(test::fast_memory_config(4, 4), 2, 1);
  o.backends.array = std::make_shared<FailingArray>();
  EXPECT_THROW(simulate_network_step(desc, o), std::overflow_error);
  o.backends.array = nullptr;
  expect_identical(simulate_network_step(desc, o));
}

TEST(ModelFunctional, UnsupportedDataflowIsRejected) {
  const golden::NetworkDesc desc = golden::parse_network_text(kTinyNet, "tiny");
  AccelConfig c;
  c.dataflow = "ws";
  EXPECT_THROW(simulate_network_step(desc, test::options(c)), std::invalid_argument);
}

}  // namespace
}  // namespace octet::model

namespace octet::model {
namespace {

// Progress reports every pass of every layer once, in order, ending at the total.
TEST(ModelFunctional, ProgressCountsEveryPassOnce) {
  const golden::NetworkDesc desc = golden::parse_network_text(kTinyNet, "tiny");
  SimOptions o = test::options(test::fast_memory_config(4, 4));
  std::vector<int> done;
  int total = 0;
  o.progress = [&](const std::string&, int d, int t) {
    done.push_back(d);
    total = t;
  };
  simulate_network_step(desc, o);
  const int layers = static_cast<int>(desc.nodes.size()) - 1;
  EXPECT_EQ(total, 3 * layers);
  ASSERT_EQ(static_cast<int>(done.size()), 3 * layers);
  for (int k = 0; k < 3 * layers; ++k) EXPECT_EQ(done[static_cast<size_t>(k)], k + 1);
}

}  // namespace
}  // namespace octet::model
