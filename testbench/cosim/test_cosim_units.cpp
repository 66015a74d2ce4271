// Each RTL unit backend (sim/) against its golden backend on random jobs of several shapes,
// with the measured cycles equal to the documented formulas (docs/architecture.md): the
// comparison here is independent of the backends' own checks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "golden/counter_rng.h"
#include "model/golden_backends.h"
#include "model/sim_op.h"
#include "golden/activation.h"
#include "sim/rtl_backends.h"
#include "sim/rtl_bn_unit.h"
#include "sim/rtl_optimizer_unit.h"
#include "sim/rtl_shift_quantizer.h"
#include "sim/rtl_systolic_array.h"
#include "sim/rtl_vector_unit.h"
#include "model/units.h"
#include "sim/stream_key_inverse.h"
#include "testbench/cosim/cosim_seed.h"

namespace octet {
namespace {

using cosim_test::test_seed;
using Rng = std::mt19937_64;

int64_t draw(Rng& g, int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(g); }
int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Runs one job of a streaming unit and checks that it took its RTL's cycles of SystemC time
// (the unit is clocked in SystemC time over the job's counted span, sim/rtl_unit.h); the
// jobs of a test run back to back on one unit, which is not reset between them.
template <typename Run>
auto timed_job(Run run) {
  const sc_core::sc_time before = sc_core::sc_time_stamp();
  auto outcome = run();
  EXPECT_EQ(sc_core::sc_time_stamp() - before, model::cycles_to_time(outcome.cycles))
      << "the job's SystemC time is not its RTL cycles (" << outcome.cycles << ")";
  return outcome;
}

// ---- systolic array ------------------------------------------------------------------------
golden::FlagCode e2_code(Rng& g) {
  const int32_t v = draw(g, 0, 3) == 0 ? (draw(g, 0, 1) ? 127 : -127) : static_cast<int32_t>(draw(g, -127, 127));
  return {v, draw(g, 0, 1) == 1};
}

model::ArrayTileJob random_tile(Rng& g, model::GemmKind kind, int64_t R, int64_t C, int64_t K) {
  model::ArrayTileJob j;
  j.kind = kind, j.rows = R, j.cols = C, j.depth = K;
  auto act = [&](golden::Shape s) {
    golden::Tensor<uint8_t> t(s, -7);
    for (auto& v : t.data) v = static_cast<uint8_t>(draw(g, 0, 3) == 0 ? 255 * draw(g, 0, 1) : draw(g, 0, 255));
    return t;
  };
  auto weight = [&](golden::Shape s) {
    golden::Tensor<int8_t> t(s, -7);
    for (auto& v : t.data) v = static_cast<int8_t>(draw(g, 0, 3) == 0 ? (draw(g, 0, 1) ? 127 : -128) : draw(g, -127, 127));
    return t;
  };
  auto err = [&](golden::Shape s) {
    golden::Tensor<golden::FlagCode> t(s, -20);
    for (auto& v : t.data) v = e2_code(g);
    return t;
  };
  switch (kind) {
    case model::GemmKind::kForward: j.act = act({R, K}), j.weight = weight({K, C}); break;
    case model::GemmKind::kBackwardData: j.err = err({R, K}), j.weight = weight({C, K}); break;
    case model::GemmKind::kWeightGrad: j.act = act({K, R}), j.err = err({K, C}); break;
  }
  return j;
}

// Every verilated size of the build (sim/CMakeLists.txt, OCTET_COSIM_ARRAYS).
TEST(CosimUnits, SystolicArrayTilesMatchGoldenAndCycleFormula) {
  Rng g(test_seed("CosimUnits.SystolicArray", 1));
  ASSERT_FALSE(sim::rtl_units().arrays.empty());
  for (sim::RtlSystolicArray* unit : sim::rtl_units().arrays) {
  sim::RtlSystolicArray& rtl = *unit;
  model::GoldenArrayBackend golden;
  const int64_t R = rtl.rows(), C = rtl.cols();
  int64_t tiles = 0, values = 0;
  for (model::GemmKind kind : {model::GemmKind::kForward, model::GemmKind::kBackwardData, model::GemmKind::kWeightGrad}) {
    for (int i = 0; i < 60; ++i) {
      // Full and partial tiles; depths around TileGap and up to a 3x3x32 conv's reduction.
      const int64_t rows = i < 4 ? R : draw(g, 1, R), cols = i < 4 ? C : draw(g, 1, C);
      const int64_t depth = i == 0 ? 1 : i == 1 ? R : i < 6 ? draw(g, 2, 2 * R) : draw(g, 1, 300);
      const model::ArrayTileJob job = random_tile(g, kind, rows, cols, depth);
      const model::ArrayTileOutcome o = rtl.run_tile(job);
      const model::ArrayTileOutcome want = golden.run_tile(job);
      const std::string what = std::to_string(R) + "x" + std::to_string(C) + " array, " +
                               model::gemm_kind_name(kind) + " " + std::to_string(rows) + "x" +
                               std::to_string(cols) + " K=" + std::to_string(depth);
      ASSERT_EQ(o.out.shape, want.out.shape) << what;
      ASSERT_EQ(o.out.data, want.out.data) << what;
      EXPECT_EQ(o.out.exp, want.out.exp) << what;
      EXPECT_EQ(o.cycles, depth + R + C + 1) << what;  // docs/architecture.md "Cycle formula", T = 1
      ++tiles;
      values += rows * cols;
    }
  }
  EXPECT_EQ(rtl.stats().values, values);
  std::printf("[  cosim   ] systolic_array %lldx%lld: %lld tiles, %lld values equal, out_max_o = golden max |out| "
              "and cycles = K + R + C + 1 on every tile\n",
              static_cast<long long>(R), static_cast<long long>(C), static_cast<long long>(tiles),
              static_cast<long long>(values));
  }
}

// Blocks of tiles streamed back to back on every built size, depths around TileGap =
// max(R, C) (a last beat that comes sooner waits) and beyond: values and out_max_o equal to
// golden per tile, block cycles K + (T - 1) max(K, R, C) + R + C + 1; the array keeps its
// state from block to block.
TEST(CosimUnits, SystolicArrayBlocksStreamBackToBackAtTheBlockFormula) {
  Rng g(test_seed("CosimUnits.SystolicArrayBlocks", 11));
  for (sim::RtlSystolicArray* unit : sim::rtl_units().arrays) {
    sim::RtlSystolicArray& rtl = *unit;
    model::GoldenArrayBackend golden;
    const int64_t R = rtl.rows(), C = rtl.cols(), gap = std::max(R, C);
    int64_t blocks = 0, tiles = 0, stalled = 0;
    for (int i = 0; i < 40; ++i) {
      const model::GemmKind kind = static_cast<model::GemmKind>(draw(g, 0, 2));
      const int64_t T = i < 3 ? 2 : draw(g, 1, 6);
      const int64_t depth = i == 0 ? 1 : i == 1 ? gap - 1 : i == 2 ? gap : draw(g, 1, 2 * gap + 2);
      std::vector<model::ArrayTileJob> jobs;
      for (int64_t t = 0; t < T; ++t)
        jobs.push_back(random_tile(g, kind, draw(g, 0, 1) ? R : draw(g, 1, R), draw(g, 0, 1) ? C : draw(g, 1, C), depth));
      const model::ArrayBlockOutcome o = rtl.run_block(jobs);
      const std::string what = std::to_string(R) + "x" + std::to_string(C) + " array, " + model::gemm_kind_name(kind) +
                               " block of " + std::to_string(T) + " tiles, K=" + std::to_string(depth);
      ASSERT_EQ(o.tiles.size(), jobs.size()) << what;
      for (size_t t = 0; t < jobs.size(); ++t)
        ASSERT_EQ(o.tiles[t].out.data, golden.run_tile(jobs[t]).out.data) << what << ", tile " << t;
      // docs/architecture.md "Cycle formula", written out independently of model/unit_timing.h.
      EXPECT_EQ(o.cycles, depth + (T - 1) * std::max(depth, gap) + R + C + 1) << what;
      ++blocks;
      tiles += T;
      stalled += T > 1 && depth < gap;
    }
    EXPECT_GT(stalled, 0) << "no block had a last beat waiting for TileGap";
    std::printf("[  cosim   ] systolic_array %lldx%lld: %lld blocks of %lld tiles back to back (%lld with last beats "
                "held for TileGap), values, out_max_o and block cycles as documented\n",
                static_cast<long long>(R), static_cast<long long>(C), static_cast<long long>(blocks),
                static_cast<long long>(tiles), static_cast<long long>(stalled));
  }
}

TEST(CosimUnits, SystolicArrayMismatchStopsWithLineAndWaveform) {
  Rng g(test_seed("CosimUnits.SystolicArrayMismatch", 2));
  sim::RtlSystolicArray& rtl = *sim::rtl_units().arrays.front();
  const model::ArrayTileJob job = random_tile(g, model::GemmKind::kForward, 3, 5, 7);
  rtl.inject_fault_for_test();
  try {
    rtl.run_tile(job);
    FAIL() << "no mismatch reported";
  } catch (const sim::CosimMismatch& e) {
    const std::string msg = e.what();
    std::printf("[  cosim   ] %s\n", msg.c_str());
    EXPECT_EQ(msg.find('\n'), std::string::npos);
    EXPECT_NE(msg.find("systolic_array forward tile 3x5 depth 7"), std::string::npos) << msg;
    EXPECT_NE(msg.find("out[0][0]: golden "), std::string::npos) << msg;
    const size_t at = msg.find("; waveform ");
    ASSERT_NE(at, std::string::npos) << msg;
    const std::string path = msg.substr(at + 11);
    ASSERT_TRUE(std::filesystem::exists(path)) << path;
    EXPECT_GT(std::filesystem::file_size(path), 1000u) << path;
  }
  // The unit is usable again after the replay.
  const model::ArrayTileOutcome o = rtl.run_tile(job);
  EXPECT_EQ(o.out.data, model::GoldenArrayBackend().run_tile(job).out.data);
}

// The drain-path maximum is checked on every tile (run_tile throws on a difference): a
// corrupted out_max_o stops the run with its line, while the values themselves are right.
TEST(CosimUnits, SystolicArrayDrainMaxMismatchStops) {
  Rng g(test_seed("CosimUnits.SystolicArrayDrainMax", 3));
  sim::RtlSystolicArray& rtl = *sim::rtl_units().arrays.front();
  const model::ArrayTileJob job = random_tile(g, model::GemmKind::kWeightGrad, 4, 3, 9);
  rtl.inject_max_fault_for_test();
  try {
    rtl.run_tile(job);
    FAIL() << "no mismatch reported";
  } catch (const sim::CosimMismatch& e) {
    const std::string msg = e.what();
    std::printf("[  cosim   ] %s\n", msg.c_str());
    EXPECT_NE(msg.find("systolic_array wgrad tile 4x3 depth 9"), std::string::npos) << msg;
    EXPECT_NE(msg.find("out_max_o[0]: golden "), std::string::npos) << msg;
  }
  const model::ArrayTileOutcome o = rtl.run_tile(job);  // usable again
  EXPECT_EQ(o.out.data, model::GoldenArrayBackend().run_tile(job).out.data);
}

// ---- shift-quantizer -------------------------------------------------------------------------
// Values of mixed magnitudes inside the verilated 48-bit input, some tensors all zero.
golden::Tensor<int64_t> random_wide_tensor(Rng& g, int64_t n, int exp) {
  golden::Tensor<int64_t> t({n}, exp);
  const int top = static_cast<int>(draw(g, 0, 47));
  const bool zeros = draw(g, 0, 15) == 0;
  for (auto& v : t.data) {
    if (zeros) break;
    const int bits = static_cast<int>(draw(g, 0, top));
    const int64_t lim = (int64_t{1} << bits) - 1;
    v = draw(g, 0, 9) == 0 ? (draw(g, 0, 1) ? lim : -lim) : draw(g, -lim, lim);
  }
  return t;
}

TEST(CosimUnits, ShiftQuantizerTensorsMatchGoldenAndCycleFormula) {
  Rng g(test_seed("CosimUnits.ShiftQuantizer", 3));
  for (sim::RtlShiftQuantizer* unit : sim::rtl_units().shift_quantizers) {
  sim::RtlShiftQuantizer& rtl = *unit;
  model::GoldenShiftQuantizerBackend golden;
  const int64_t L = rtl.lanes();
  int64_t tensors = 0, values = 0;
  for (int round = 0; round < 6; ++round)
  for (model::SqMode mode : {model::SqMode::kDirect, model::SqMode::kShift, model::SqMode::kConstant, model::SqMode::kFlag}) {
    for (int64_t n : {int64_t{1}, int64_t{3}, int64_t{4}, int64_t{5}, int64_t{17}, int64_t{64}, int64_t{333}, int64_t{2048}}) {
      model::SqJob job;
      job.mode = mode;
      job.in = random_wide_tensor(g, n, static_cast<int>(draw(g, -30, 0)));
      job.bits = static_cast<int>(mode == model::SqMode::kFlag ? draw(g, 2, 16) : draw(g, 2, 16));
      job.cq.log2_scale = static_cast<int>(draw(g, 1, 15));
      job.cq.out_exp = -14;
      job.cq.key = golden::make_stream_key(g(), g(), g());
      job.out_exp = job.in.exp - static_cast<int>(draw(g, -40, 40));
      const int64_t lim = draw(g, 0, 1) ? 127 : std::numeric_limits<int32_t>::max();
      job.lo = -lim, job.hi = lim;
      const model::SqOutcome o = timed_job([&] { return rtl.run(job); });
      const model::SqOutcome want = golden.run(job);
      const std::string what = std::to_string(L) + " lanes, mode " + std::to_string(static_cast<int>(mode)) +
                               " n=" + std::to_string(n);
      ASSERT_EQ(o.out.data, want.out.data) << what;
      EXPECT_EQ(o.out.exp, want.out.exp) << what;
      const int64_t B = ceil_div(n, L);
      // docs/architecture.md "Latency and throughput": last output beat, cycle 0 = configuration.
      EXPECT_EQ(o.cycles, mode == model::SqMode::kDirect ? B + 5 : 2 * B + 6) << what;
      ++tensors;
      values += n;
    }
  }
  EXPECT_EQ(rtl.stats().values, values);
  std::printf("[  cosim   ] shift_quantizer, %lld lanes: %lld tensors (Q, SQ, CQ, E2), %lld values equal, cycles = "
              "formula on every tensor\n",
              static_cast<long long>(L), static_cast<long long>(tensors), static_cast<long long>(values));
  }
}

// CQ with weight decay through the wrapper: the adder's shift -7 - λ - e(G_raw) at every
// region of the 8-bit port (below -128 clamped, right shifts with ties, left shifts, the
// input width's edge, above 127 clamped), W8 over partial beats; a job whose sums the 48-bit
// input cannot hold stops with an error where golden would compute them in int64.
TEST(CosimUnits, ShiftQuantizerWeightDecayMatchesGoldenOrStops) {
  Rng g(test_seed("CosimUnits.ShiftQuantizerDecay", 4));
  const int64_t lim = int64_t{1} << (sim::RtlShiftQuantizer::kInBits - 1);
  for (sim::RtlShiftQuantizer* unit : sim::rtl_units().shift_quantizers) {
    sim::RtlShiftQuantizer& rtl = *unit;
    model::GoldenShiftQuantizerBackend golden;
    const int64_t L = rtl.lanes();
    int64_t exact = 0, stopped = 0;
    for (const int shift : {-200, -129, -128, -9, -8, -7, -3, -1, 0, 1, 13, 30, 40, 46, 47, 48, 60, 127, 150}) {
      for (const int64_t n : {int64_t{1}, int64_t{5}, int64_t{64}, int64_t{333}}) {
        model::SqJob job;
        job.mode = model::SqMode::kConstant;
        const int lambda = static_cast<int>(draw(g, 0, 20));
        job.in = random_wide_tensor(g, n, -7 - lambda - shift);
        job.cq.log2_scale = 7;
        job.cq.out_exp = -14;
        job.cq.key = golden::make_stream_key(g(), g(), g());
        job.decay_lambda = lambda;
        job.decay_w8 = golden::Tensor<int8_t>({n}, -7);
        for (auto& w : job.decay_w8.data) w = static_cast<int8_t>(draw(g, 0, 7) == 0 ? (draw(g, 0, 1) ? 127 : -128) : draw(g, -128, 127));
        // Independent expectation: golden's term, the sum in int128, the 48-bit input's range.
        bool fits = true;
        for (int64_t i = 0; i < n && fits; ++i) {
          const auto w = static_cast<int64_t>(job.decay_w8.data[static_cast<size_t>(i)]);
          __int128 term = 0;
          if (shift < 0) term = golden::shift_round_half_even(w, shift);
          else if (w != 0) term = shift >= 64 ? (__int128{1} << 100) : static_cast<__int128>(w) << shift;
          const __int128 s = static_cast<__int128>(job.in.data[static_cast<size_t>(i)]) + term;
          fits = s >= -lim && s < lim;
        }
        const std::string what = std::to_string(L) + " lanes, shift " + std::to_string(shift) + ", n=" + std::to_string(n);
        if (!fits) {
          EXPECT_THROW(rtl.run(job), std::runtime_error) << what;
          ++stopped;
          continue;
        }
        const model::SqOutcome o = timed_job([&] { return rtl.run(job); });
        const model::SqOutcome want = golden.run(job);
        ASSERT_EQ(o.out.data, want.out.data) << what;
        EXPECT_EQ(o.cycles, 2 * ceil_div(n, L) + 6) << what;
        ++exact;
      }
    }
    EXPECT_GT(exact, 30);
    EXPECT_GT(stopped, 5);
    std::printf("[  cosim   ] shift_quantizer, %lld lanes, weight decay: %lld CQ tensors equal golden, %lld stopped "
                "(sums outside the 48-bit input)\n",
                static_cast<long long>(L), static_cast<long long>(exact), static_cast<long long>(stopped));
  }
}

TEST(CosimUnits, StreamKeyInverseReproducesEveryKey) {
  Rng g(test_seed("CosimUnits.StreamKeyInverse", 4));
  for (int i = 0; i < 10000; ++i) {
    const golden::StreamKey k = golden::make_stream_key(g(), g(), g());
    ASSERT_EQ(golden::make_stream_key(sim::seed_for_key(k), 0, 0).value, k.value);
  }
}

// ---- optimizer -------------------------------------------------------------------------------
int32_t opt_value(Rng& g) {
  switch (draw(g, 0, 4)) {
    case 0: return draw(g, 0, 1) ? std::numeric_limits<int32_t>::max() : std::numeric_limits<int32_t>::min();
    case 1: return static_cast<int32_t>(g());
    default: return static_cast<int32_t>(draw(g, -(1 << 20), 1 << 20));
  }
}

TEST(CosimUnits, OptimizerTensorsMatchGoldenAndCycleFormula) {
  Rng g(test_seed("CosimUnits.Optimizer", 5));
  for (sim::RtlOptimizerUnit* unit : sim::rtl_units().optimizers) {
  sim::RtlOptimizerUnit& rtl = *unit;
  model::GoldenOptimizerBackend golden;
  const int64_t L = rtl.lanes();
  int64_t tensors = 0, values = 0;
  for (int round = 0; round < 6; ++round)
  for (model::OptKind kind : {model::OptKind::kWeight8, model::OptKind::kBnAffine, model::OptKind::kBias}) {
    for (int64_t n : {int64_t{1}, int64_t{2}, int64_t{4}, int64_t{7}, int64_t{144}, int64_t{2305}}) {
      model::OptJob job;
      job.kind = kind;
      golden::Tensor<int32_t> master({n}, -23);
      for (auto& v : master.data) v = opt_value(g);
      job.state = golden::make_param_state(master);
      for (auto& v : job.state.momentum.data) v = opt_value(g);
      job.grad = golden::Tensor<int32_t>({n}, -14);
      for (auto& v : job.grad.data) v = opt_value(g);
      job.lr_q = static_cast<int>(draw(g, 0, 3) == 0 ? 511 * draw(g, 0, 1) : draw(g, 0, 511));
      const model::OptOutcome o = timed_job([&] { return rtl.run(job); });
      const model::OptOutcome want = golden.run(job);
      const std::string what = std::to_string(L) + " lanes, kind " + std::to_string(static_cast<int>(kind)) +
                               " n=" + std::to_string(n);
      ASSERT_EQ(o.state.master.data, want.state.master.data) << what;
      ASSERT_EQ(o.state.momentum.data, want.state.momentum.data) << what;
      ASSERT_EQ(o.work.data, want.work.data) << what;
      EXPECT_EQ(o.cycles, ceil_div(n, L) + 3) << what;  // docs/architecture.md "Optimizer unit"
      ++tensors;
      values += 3 * n;
    }
  }
  EXPECT_EQ(rtl.stats().values, values);
  std::printf("[  cosim   ] optimizer_unit, %lld lanes: %lld tensors, %lld values equal, cycles = ceil(n/L) + 3 on "
              "every tensor\n",
              static_cast<long long>(L), static_cast<long long>(tensors), static_cast<long long>(values));
  }
}

// ---- batch norm ------------------------------------------------------------------------------
TEST(CosimUnits, BnForwardBackwardMatchGoldenAndCycleFormula) {
  Rng g(test_seed("CosimUnits.Bn", 6));
  for (sim::RtlBnUnit* unit : sim::rtl_units().bns) {
  sim::RtlBnUnit& rtl = *unit;
  model::GoldenBnBackend golden;
  const int64_t L = rtl.lanes();
  int64_t jobs = 0, values = 0;
  std::vector<golden::Shape> shapes = {{2, 3, 5, 5}, {1, 4, 3, 3}, {4, 6}, {2, 2, 7, 7}, {3, 5, 2, 2}, {1, 1, 1, 1}};
  for (int i = 0; i < 30; ++i) {  // random shapes, N per channel 1 ... 512
    if (draw(g, 0, 3) == 0) shapes.push_back({draw(g, 1, 16), draw(g, 1, 8)});
    else shapes.push_back({draw(g, 1, 8), draw(g, 1, 6), draw(g, 1, 8), draw(g, 1, 8)});
  }
  for (const golden::Shape& shape : shapes) {
    model::BnForwardJob fj;
    fj.x = golden::Tensor<int32_t>(shape, static_cast<int>(draw(g, -15, 0)));
    const int64_t mag = int64_t{1} << draw(g, 1, 20), offset = draw(g, -mag, mag);
    for (auto& v : fj.x.data) v = static_cast<int32_t>(offset + draw(g, -mag, mag));
    const int64_t C = shape[1], N = fj.x.size() / C;
    fj.gamma = golden::Tensor<int16_t>({C}, -7);
    fj.beta = golden::Tensor<int16_t>({C}, -7);
    for (auto& v : fj.gamma.data) v = static_cast<int16_t>(draw(g, -300, 300));
    for (auto& v : fj.beta.data) v = static_cast<int16_t>(draw(g, -300, 300));
    fj.running = golden::BnRunning(C);  // the initial accumulators; random ones in BnRunningStatistics...
    const std::string what = std::to_string(L) + " lanes, shape " + std::to_string(shape.size()) + "-D C=" +
                             std::to_string(C) + " N=" + std::to_string(N);
    const model::BnForwardOutcome f = timed_job([&] { return rtl.forward(fj); });
    const model::BnForwardOutcome fw = golden.forward(fj);
    ASSERT_EQ(f.stats.mean, fw.stats.mean) << what;
    ASSERT_EQ(f.stats.sigma, fw.stats.sigma) << what;
    ASSERT_EQ(f.stats.recip, fw.stats.recip) << what;
    ASSERT_EQ(f.stats.recip_shift, fw.stats.recip_shift) << what;
    ASSERT_EQ(f.xhat.data, fw.xhat.data) << what;
    ASSERT_EQ(f.y.data, fw.y.data) << what;
    ASSERT_EQ(f.act.data, fw.act.data) << what;
    ASSERT_EQ(f.mask, fw.mask) << what;
    // docs/architecture.md "Batch-norm unit": per channel 2 ceil(N/L) + 229 (train).
    EXPECT_EQ(f.cycles, C * (2 * ceil_div(N, L) + 229)) << what;

    model::BnBackwardJob bj;
    bj.e1 = golden::Tensor<int32_t>(shape, static_cast<int>(draw(g, -20, -5)));
    for (auto& v : bj.e1.data) v = static_cast<int32_t>(draw(g, -127, 127));
    bj.mask = fw.mask;
    bj.xhat = fw.xhat;
    bj.gamma = fj.gamma;
    bj.stats = fw.stats;
    const model::BnBackwardOutcome b = timed_job([&] { return rtl.backward(bj); });
    const model::BnBackwardOutcome bw = golden.backward(bj);
    ASSERT_EQ(b.dx.data, bw.dx.data) << what;
    ASSERT_EQ(b.g_gamma.data, bw.g_gamma.data) << what;
    ASSERT_EQ(b.g_beta.data, bw.g_beta.data) << what;
    EXPECT_EQ(b.cycles, C * (2 * ceil_div(N, L) + 73)) << what;  // backward
    jobs += 2;
    values += (6 * C + 2 * C * N) + (2 * C + C * N);
  }
  EXPECT_EQ(rtl.stats().values, values);
  std::printf("[  cosim   ] bn_unit, %lld lanes: %lld jobs (train forward, backward), %lld values equal, cycles = "
              "per-channel formula on every job\n",
              static_cast<long long>(L), static_cast<long long>(jobs), static_cast<long long>(values));
  }
}

// The train command's running-statistics update (cmd_*_acc_i, cmd_decay_i -> stat_*_acc_o)
// against golden bn_update_running of the golden batch statistics, with random accumulators
// (a scale like the data's, or the initial state) and decay shifts.
TEST(CosimUnits, BnRunningStatisticsMatchGoldenUpdate) {
  Rng g(test_seed("CosimUnits.BnRunning", 7));
  sim::RtlBnUnit& rtl = *sim::rtl_units().bns.front();
  int64_t jobs = 0, channels = 0, changed = 0;
  for (int i = 0; i < 24; ++i) {
    const golden::Shape shape = draw(g, 0, 3) == 0 ? golden::Shape{draw(g, 1, 16), draw(g, 1, 8)}
                                                   : golden::Shape{draw(g, 1, 4), draw(g, 1, 6), draw(g, 1, 5), draw(g, 1, 5)};
    const int64_t C = shape[1];
    model::BnForwardJob fj;
    fj.x = golden::Tensor<int32_t>(shape, static_cast<int>(draw(g, -15, 0)));
    const int64_t mag = int64_t{1} << draw(g, 1, 20), offset = draw(g, -mag, mag);
    for (auto& v : fj.x.data) v = static_cast<int32_t>(offset + draw(g, -mag, mag));
    fj.gamma = golden::Tensor<int16_t>({C}, -7);
    fj.beta = golden::Tensor<int16_t>({C}, -7);
    for (auto& v : fj.gamma.data) v = static_cast<int16_t>(draw(g, -300, 300));
    for (auto& v : fj.beta.data) v = static_cast<int16_t>(draw(g, -300, 300));
    fj.running = golden::BnRunning(C);
    const int acc_bits = 21 + 8 + (fj.x.exp + 15);  // |μ| < 2^(21 + a) on 2^-15, accumulators on 2^-23
    for (int64_t c = 0; c < C; ++c)
      if (draw(g, 0, 3) != 0) {
        fj.running.mean_acc[static_cast<size_t>(c)] = draw(g, -(int64_t{1} << acc_bits), int64_t{1} << acc_bits);
        fj.running.sigma_acc[static_cast<size_t>(c)] = draw(g, 0, int64_t{1} << acc_bits);
      }
    fj.decay_shift = i == 0 ? golden::kBnDecayShift : static_cast<int>(draw(g, 1, 16));
    golden::BnRunning want = fj.running;
    golden::bn_update_running(want, golden::bn_batch_statistics(fj.x), fj.decay_shift);
    const std::string what = "C=" + std::to_string(C) + " a=" + std::to_string(fj.x.exp + 15) +
                             " decay=" + std::to_string(fj.decay_shift);
    const model::BnForwardOutcome f = timed_job([&] { return rtl.forward(fj); });
    ASSERT_EQ(f.running.mean_acc, want.mean_acc) << what;
    ASSERT_EQ(f.running.sigma_acc, want.sigma_acc) << what;
    for (int64_t c = 0; c < C; ++c)
      changed += want.mean_acc[static_cast<size_t>(c)] != fj.running.mean_acc[static_cast<size_t>(c)] &&
                 want.sigma_acc[static_cast<size_t>(c)] != fj.running.sigma_acc[static_cast<size_t>(c)];
    ++jobs;
    channels += C;
  }
  EXPECT_GT(changed, channels / 2) << "the update left the accumulators as they were: the comparison proves little";
  std::printf("[  cosim   ] bn_unit: %lld train jobs, running mean_acc and sigma_acc equal to golden "
              "bn_update_running on %lld channels\n", static_cast<long long>(jobs), static_cast<long long>(channels));
}

TEST(CosimUnits, BnForwardRejectsRunningOfAnotherChannelCount) {
  model::BnForwardJob fj;
  fj.x = golden::Tensor<int32_t>({2, 3}, -7);
  fj.gamma = golden::Tensor<int16_t>({3}, -7);
  fj.beta = golden::Tensor<int16_t>({3}, -7);
  fj.running = golden::BnRunning(2);
  EXPECT_THROW(sim::rtl_units().bns.front()->forward(fj), std::invalid_argument);
}

// ---- vector unit -----------------------------------------------------------------------------
// Every operation a training step issues on the vector unit, on random operands and the
// shipped and edge pooling geometries (windows cut at the bottom / right, padding, global),
// partial lane groups (planes, classes, samples not a multiple of the lanes): values equal to
// the golden backend's and cycles equal to the model's formula (model::VectorUnit::cycles).
model::VuJob vu_pool_job(Rng& g, model::VuOp op, golden::Shape in, golden::PoolParams pool) {
  model::VuJob j;
  j.shape.op = op;
  j.shape.in = in;
  j.shape.pool = pool;
  golden::Tensor<uint8_t> act(in, -7);
  const int64_t levels = draw(g, 0, 2) == 0 ? 3 : 256;  // few levels: first-maximum ties
  for (auto& v : act.data) v = static_cast<uint8_t>(draw(g, 0, levels - 1));
  if (op == model::VuOp::kMaxPool || op == model::VuOp::kAvgPool) {
    j.act = std::move(act);
    return j;
  }
  const golden::MaxPoolForward fwd = golden::maxpool_forward(act, pool);
  j.a64 = golden::Tensor<int64_t>(fwd.out.shape, -20);
  for (auto& v : j.a64.data) v = draw(g, -(int64_t{1} << 40), int64_t{1} << 40);
  if (op == model::VuOp::kMaxPoolBwd) j.argmax = fwd.argmax;
  return j;
}

std::vector<model::VuJob> vu_jobs(Rng& g) {
  using model::VuOp;
  std::vector<model::VuJob> jobs;
  for (int64_t n : {int64_t{1}, int64_t{5}, int64_t{64}, int64_t{1001}}) {
    model::VuJob r;
    r.shape.op = VuOp::kResidualAdd;
    r.shape.n = n;
    r.a32 = golden::Tensor<int32_t>({n}, static_cast<int>(draw(g, -14, -8)));
    r.b32 = golden::Tensor<int32_t>({n}, static_cast<int>(draw(g, -14, -8)));
    for (auto& v : r.a32.data) v = static_cast<int32_t>(draw(g, -(1 << 20), 1 << 20));
    for (auto& v : r.b32.data) v = static_cast<int32_t>(draw(g, -(1 << 20), 1 << 20));
    jobs.push_back(r);
    for (int zero = 0; zero < 3; ++zero) {  // zero 1, 2: an all-zero operand (golden's exponent rule)
      model::VuJob e;
      e.shape.op = VuOp::kErrorAdd;
      e.shape.n = n;
      e.a64 = golden::Tensor<int64_t>({n}, static_cast<int>(draw(g, -40, -20)));
      e.b64 = golden::Tensor<int64_t>({n}, static_cast<int>(draw(g, -40, -20)));
      for (auto& v : e.a64.data) v = zero == 1 ? 0 : draw(g, -(int64_t{1} << 40), int64_t{1} << 40);
      for (auto& v : e.b64.data) v = zero == 2 ? 0 : draw(g, -(int64_t{1} << 40), int64_t{1} << 40);
      jobs.push_back(e);
    }
  }
  for (int64_t N : {int64_t{1}, int64_t{3}, int64_t{16}})
    for (int64_t C : {int64_t{1}, int64_t{5}, int64_t{10}, int64_t{13}}) {
      model::VuJob b;
      b.shape.op = VuOp::kBiasGrad;
      b.shape.rows = N, b.shape.cols = C;
      b.a64 = golden::Tensor<int64_t>({N, C}, -23);
      for (auto& v : b.a64.data) v = draw(g, -(int64_t{1} << 30), int64_t{1} << 30);
      jobs.push_back(b);
      model::VuJob l;
      l.shape.op = VuOp::kLoss;
      l.shape.rows = N, l.shape.cols = C;
      l.a32 = golden::Tensor<int32_t>({N, C}, -8);
      for (auto& v : l.a32.data) v = static_cast<int32_t>(draw(g, -3000, 3000));
      for (int64_t r = 0; r < N; ++r) l.labels.push_back(static_cast<golden::Label>(draw(g, 0, C - 1)));
      jobs.push_back(l);
    }
  const struct {
    golden::Shape in;
    golden::PoolParams pool;
  } geometries[] = {{{2, 3, 9, 9}, {3, 2, 1, false}},  // the shipped max pool k3 s2 p1, odd plane
                    {{1, 5, 8, 8}, {2, 2, 0, false}},
                    {{2, 3, 7, 7}, {1, 1, 0, true}},    // global (the shipped average pool)
                    {{1, 6, 6, 5}, {3, 1, 1, false}},   // non-square, every input in several windows
                    {{1, 2, 7, 9}, {2, 3, 0, false}}};  // stride > kernel: uncovered inputs, windows cut
  for (const auto& geo : geometries)
    for (VuOp op : {VuOp::kMaxPool, VuOp::kAvgPool, VuOp::kMaxPoolBwd, VuOp::kAvgPoolBwd})
      jobs.push_back(vu_pool_job(g, op, geo.in, geo.pool));
  return jobs;
}

// One job on the RTL against golden: every output, and the cycles against the formula.
// Returns the values compared.
int64_t check_vu_job(sim::RtlVectorUnit& rtl, const model::VuJob& job, const std::string& what) {
  model::GoldenVectorUnitBackend golden;
  const model::VuOutcome o = timed_job([&] { return rtl.run(job); });
  const model::VuOutcome want = golden.run(job);
  EXPECT_EQ(o.out32.data, want.out32.data) << what;
  EXPECT_EQ(o.out32.exp, want.out32.exp) << what;
  EXPECT_EQ(o.out64.data, want.out64.data) << what;
  EXPECT_EQ(o.out64.exp, want.out64.exp) << what;
  EXPECT_EQ(o.act.data, want.act.data) << what;
  EXPECT_EQ(o.argmax, want.argmax) << what;
  EXPECT_EQ(o.cycles, model::VectorUnit::cycles(job.shape, rtl.lanes())) << what;
  return static_cast<int64_t>(o.out32.data.size() + o.out64.data.size() + o.act.data.size());
}

TEST(CosimUnits, VectorUnitOperationsMatchGoldenAndCycleFormula) {
  Rng g(test_seed("CosimUnits.VectorUnit", 6));
  ASSERT_FALSE(sim::rtl_units().vectors.empty());
  for (sim::RtlVectorUnit* unit : sim::rtl_units().vectors) {
    sim::RtlVectorUnit& rtl = *unit;
    rtl.reset_stats();
    const int64_t L = rtl.lanes();
    int64_t jobs = 0, values = 0;
    for (int round = 0; round < 4; ++round)
      for (const model::VuJob& job : vu_jobs(g)) {
        values += check_vu_job(rtl, job, std::to_string(L) + " lanes, " + model::vu_op_name(job.shape.op) + " job " +
                                             std::to_string(jobs));
        ASSERT_FALSE(HasFailure());
        ++jobs;
      }
    EXPECT_EQ(rtl.stats().values, values);
    std::printf("[  cosim   ] vector_unit, %lld lanes: %lld jobs (residual add, error add, bias gradient, loss, max / "
                "average pooling forward and backward), %lld values equal, cycles = the formulas on every job\n",
                static_cast<long long>(L), static_cast<long long>(jobs), static_cast<long long>(values));
  }
}

// The largest pooling and loss jobs of the shipped networks, at full size: the ResNet stem's
// max pool (64 planes of 112 x 112, k3 s2 p1) forward and backward, ResNet-50's global average
// pool (2048 planes of 7 x 7: 49 reads per output) both ways, and a 1000-class loss.
TEST(CosimUnits, VectorUnitRunsTheShippedNetworksLargestJobs) {
  Rng g(test_seed("CosimUnits.VectorUnitShipped", 7));
  using model::VuOp;
  for (sim::RtlVectorUnit* unit : sim::rtl_units().vectors) {
    const std::string lanes = std::to_string(unit->lanes()) + " lanes, ";
    for (VuOp op : {VuOp::kMaxPool, VuOp::kMaxPoolBwd})
      check_vu_job(*unit, vu_pool_job(g, op, {1, 64, 112, 112}, {3, 2, 1, false}), lanes + "stem " + model::vu_op_name(op));
    for (VuOp op : {VuOp::kAvgPool, VuOp::kAvgPoolBwd})
      check_vu_job(*unit, vu_pool_job(g, op, {1, 2048, 7, 7}, {1, 1, 0, true}), lanes + "global " + model::vu_op_name(op));
    model::VuJob l;
    l.shape.op = VuOp::kLoss;
    l.shape.rows = 2, l.shape.cols = 1000;
    l.a32 = golden::Tensor<int32_t>({2, 1000}, -8);
    for (auto& v : l.a32.data) v = static_cast<int32_t>(draw(g, -3000, 3000));
    l.labels = {7, 999};
    check_vu_job(*unit, l, lanes + "1000-class loss");
  }
}

// Where golden throws (an error sum leaving int64), the RTL flags the element and the run stops
// with golden's error, as the golden model would.
TEST(CosimUnits, VectorUnitOverflowStopsWithTheGoldenError) {
  sim::RtlVectorUnit& rtl = *sim::rtl_units().vectors.front();
  model::VuJob e;
  e.shape.op = model::VuOp::kErrorAdd;
  e.shape.n = 3;
  e.a64 = golden::Tensor<int64_t>({3}, -20);
  e.b64 = golden::Tensor<int64_t>({3}, -20);
  e.a64.data = {1, std::numeric_limits<int64_t>::max(), 2};
  e.b64.data = {1, 1, 2};
  EXPECT_THROW(rtl.run(e), std::overflow_error);
}

// A job beyond the command fields (a pooling plane of more than 2^16 values) is refused, not truncated.
TEST(CosimUnits, VectorUnitRefusesAPlaneBeyondItsIndexWidth) {
  sim::RtlVectorUnit& rtl = *sim::rtl_units().vectors.front();
  model::VuJob j;
  j.shape.op = model::VuOp::kAvgPool;
  j.shape.pool = {1, 1, 0, true};
  j.shape.in = {1, 1, 257, 257};
  j.act = golden::Tensor<uint8_t>(j.shape.in, -7);
  try {
    rtl.run(j);
    FAIL() << "a 257 x 257 plane accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("H * W <= 2^16"), std::string::npos) << e.what();
  }
}

// make_rtl_backends binds the units of the configuration's array size and lane counts, and
// rejects one that is not built with a message naming the built ones and the CMake list.
TEST(CosimUnits, FactoryBindsEveryBuiltConfigurationAndRejectsOthers) {
  const sim::RtlUnits& u = sim::rtl_units();
  for (const sim::RtlSystolicArray* a : u.arrays)
    for (const sim::RtlBnUnit* l : u.bns) {
      model::AccelConfig c;
      c.array_rows = a->rows(), c.array_cols = a->cols();
      c.sq_lanes = c.bn_lanes = c.opt_lanes = c.vector_lanes = l->lanes();
      const model::UnitBackends b = sim::make_rtl_backends(c);
      EXPECT_EQ(b.array.get(), static_cast<const model::ArrayBackend*>(a));
      EXPECT_EQ(b.bn.get(), static_cast<const model::BnBackend*>(l));
      EXPECT_EQ(b.shift_quantizer.get(), static_cast<model::ShiftQuantizerBackend*>(u.shift_quantizer(l->lanes())));
      EXPECT_EQ(b.optimizer.get(), static_cast<model::OptimizerBackend*>(u.optimizer(l->lanes())));
      EXPECT_EQ(b.vector.get(), static_cast<model::VectorUnitBackend*>(u.vector(l->lanes())));
    }
  model::AccelConfig c;
  c.array_rows = 7, c.array_cols = 13;  // in no build's list
  try {
    sim::make_rtl_backends(c);
    FAIL() << "7x13 accepted";
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("no verilated 7x13 systolic array"), std::string::npos) << msg;
    EXPECT_NE(msg.find("OCTET_COSIM_ARRAYS"), std::string::npos) << msg;
    const sim::RtlSystolicArray* a = u.arrays.front();
    EXPECT_NE(msg.find(std::to_string(a->rows()) + "x" + std::to_string(a->cols())), std::string::npos) << msg;
  }
  c = model::AccelConfig{};
  c.array_rows = u.arrays.front()->rows(), c.array_cols = u.arrays.front()->cols();
  c.bn_lanes = 3;  // in no build's list
  try {
    sim::make_rtl_backends(c);
    FAIL() << "3 BN lanes accepted";
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("no verilated bn_unit with 3 lanes"), std::string::npos) << msg;
    EXPECT_NE(msg.find("OCTET_COSIM_LANES"), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace octet
