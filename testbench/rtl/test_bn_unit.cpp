// Batch-norm unit (rtl/bn_unit.sv) against the golden (golden/batch_norm.h): every statistics
// beat and every element result of train, infer and backward commands, on random tensors of
// many shapes, scales and distributions and on directed corners, with random input gaps and
// back-pressure on both output streams; plus the cycle formulas of docs/architecture.md
// "Batch-norm unit". Seeds are printed; OCTET_SEED=<n> replays. On a mismatch the failing
// chunk is re-run with an FST trace into <build>/waves.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "testbench/rtl/bn_channels.h"
#include "testbench/rtl/bn_harness.h"
#include "testbench/rtl/rtl_env.h"

namespace octet::tb {
namespace {

#define OCTET_BN_STR2(x) #x
#define OCTET_BN_STR(x) OCTET_BN_STR2(x)
#define OCTET_BN_CAT2(a, b) a##b
#define OCTET_BN_CAT(a, b) OCTET_BN_CAT2(a, b)
#define OCTET_BN_SUITE OCTET_BN_CAT(BnUnitL, OCTET_BN_LANES)
#define OCTET_BN_SLOW_SUITE OCTET_BN_CAT(BnUnitSlowL, OCTET_BN_LANES)
#define OCTET_BN_NAME(test) "BnUnitL" OCTET_BN_STR(OCTET_BN_LANES) "." test

// ---- cycle formulas (docs/architecture.md "Batch-norm unit"); rising-edge differences --------
// Fixed statistics phase: from the last pass-1 beat (train, backward) or the command (infer)
// to the edge where the statistics beat is first offered.
constexpr uint64_t kDivSteps = 64, kVarSteps = 128, kSqrtSteps = 64, kRecipSteps = 25;
constexpr uint64_t kStatTrain = 1 + kVarSteps + 1 + kSqrtSteps + 1 + 1 + kRecipSteps + 2;  // 223
constexpr uint64_t kStatInfer = 1 + kRecipSteps + 2;                                      // 28
constexpr uint64_t kStatBackward = 1 + kDivSteps + 2;                                     // 67
constexpr uint64_t kPass2Latency = 4;  // pass-2 beat accepted at t leaves at t + 4 at the earliest
constexpr uint64_t kIdleAfterOut = 2;  // last output beat at t: next command accepted at t + 2

uint64_t stat_phase(int mode) {
  return mode == kBnTrain ? kStatTrain : mode == kBnInfer ? kStatInfer : kStatBackward;
}
// Command-to-command period of a channel with no gaps and no stalls: B = ceil(N / Lanes).
uint64_t channel_period(int mode, int64_t n) {
  const uint64_t b = static_cast<uint64_t>(bn_beats(n));
  const uint64_t pass1 = mode == kBnInfer ? 0 : b;
  return pass1 + stat_phase(mode) + b + kPass2Latency + kIdleAfterOut;
}

// Checks that hold under any gaps and stalls, and the exact ones when nothing stalls.
void check_cycles(const std::vector<BnChannel>& chans, const BnResult& r, const BnTiming& t) {
  for (size_t i = 0; i < chans.size(); ++i) {
    const BnChannelCycles& c = r.cycles[i];
    const uint64_t from = chans[i].mode == kBnInfer ? c.cmd : c.last_pass1;
    ASSERT_EQ(c.stat_offered - from, stat_phase(chans[i].mode)) << "command " << i << " " << bn_mode_name(chans[i].mode);
    ASSERT_GE(c.min_latency, kPass2Latency);
    if (t.out_stall == 0) {
      ASSERT_EQ(c.max_latency, kPass2Latency) << "command " << i;
    }
    if (t.cmd_gap == 0 && t.in_gap == 0 && t.stat_stall == 0 && t.out_stall == 0) {
      if (chans[i].has_pass1()) {
        ASSERT_EQ(c.first_pass1, c.cmd + 1);
        ASSERT_EQ(c.last_pass1, c.cmd + static_cast<uint64_t>(bn_beats(chans[i].n)));
      }
      ASSERT_EQ(c.first_pass2, c.stat + 1);
      ASSERT_EQ(c.last_out - c.stat, static_cast<uint64_t>(bn_beats(chans[i].n)) + kPass2Latency);
      if (i + 1 < chans.size()) {
        ASSERT_EQ(r.cycles[i + 1].cmd - c.cmd, channel_period(chans[i].mode, chans[i].n))
            << "command " << i << " " << bn_mode_name(chans[i].mode) << " N=" << chans[i].n;
      }
    }
  }
}

std::vector<BnChannel> random_chunk(std::mt19937_64& g, int64_t min_elements, int max_per_channel) {
  std::vector<BnChannel> chans;
  int64_t n = 0;
  while (n < min_elements) {
    const BnTensorCase tc = bn_random_case(g, max_per_channel);
    const size_t before = chans.size();
    if (!bn_channels_from(tc, chans)) continue;
    for (size_t i = before; i < chans.size(); ++i) n += chans[i].n;
  }
  return chans;
}

BnTiming random_timing(std::mt19937_64& g) {
  static constexpr double kProb[] = {0.0, 0.1, 0.5, 0.9};
  return {kProb[g() % 4], kProb[g() % 4], kProb[g() % 4], kProb[g() % 4], g()};
}

// Runs random chunks until `target` element results are compared.
void random_vs_golden(const char* name, uint64_t salt, int64_t target, int max_per_channel) {
  const uint64_t seed = test_seed(name, salt);
  std::mt19937_64 g(seed);
  int64_t elements = 0, stats = 0, chunk = 0, commands[3] = {};
  while (elements < target) {
    const std::vector<BnChannel> chans = random_chunk(g, 6000, max_per_channel);
    const BnTiming t = random_timing(g);
    const BnResult r = bn_check(chans, t, seed, chunk++);
    if (r.mismatches || !r.protocol_error.empty()) return;
    check_cycles(chans, r, t);
    if (::testing::Test::HasFatalFailure()) return;
    for (const BnChannel& c : chans) ++commands[c.mode];
    elements += r.elements;
    stats += r.stats;
  }
  std::printf("[   info   ] %lld BN element results and %lld statistics beats compared (Lanes=%d; commands: "
              "%lld train, %lld infer, %lld backward) in %lld chunks\n",
              static_cast<long long>(elements), static_cast<long long>(stats), kBnLanes,
              static_cast<long long>(commands[0]), static_cast<long long>(commands[1]),
              static_cast<long long>(commands[2]), static_cast<long long>(chunk));
}

TEST(OCTET_BN_SUITE, RandomVsGolden) { random_vs_golden(OCTET_BN_NAME("RandomVsGolden"), 0xB40 + kBnLanes, 300'000, 400); }

// ---- directed corners ------------------------------------------------------------------------
constexpr int32_t kMin32 = std::numeric_limits<int32_t>::min();
constexpr int32_t kMax32 = std::numeric_limits<int32_t>::max();

// A case with the given x; everything else plain (γ = 1, β = 0, initial running state, int8 dy).
BnTensorCase plain_case(const std::string& origin, golden::Shape shape, int ex, std::mt19937_64& g) {
  BnTensorCase tc;
  tc.origin = origin;
  tc.x = golden::Tensor<int32_t>(shape, ex);
  const int64_t channels = shape[1];
  tc.gamma = golden::Tensor<int16_t>({channels}, -7);
  tc.beta = golden::Tensor<int16_t>({channels}, -7);
  for (auto& v : tc.gamma.data) v = 128;
  tc.running = golden::BnRunning(channels);
  tc.infer_running = golden::BnRunning(channels);
  tc.dy = golden::Tensor<int32_t>(shape, -12);
  for (auto& v : tc.dy.data) v = static_cast<int32_t>(static_cast<int64_t>(g() % 255) - 127);
  return tc;
}

std::vector<BnChannel> corner_channels(std::mt19937_64& g) {
  std::vector<BnChannel> chans;
  auto add = [&](const BnTensorCase& tc) {
    if (!bn_channels_from(tc, chans)) ADD_FAILURE() << "golden rejected corner case " << tc.origin;
  };
  const std::vector<int64_t> counts = {1, kBnLanes, kBnLanes + 1, 2 * kBnLanes - 1, 3, 37};
  for (int64_t n : counts) {
    for (int ex : {-15, -14, -8, 0}) {
      BnTensorCase z = plain_case("all-zero N=" + std::to_string(n), {n, 2}, ex, g);
      add(z);
      BnTensorCase c = plain_case("constant N=" + std::to_string(n), {n, 2}, ex, g);
      for (int64_t i = 0; i < c.x.size(); ++i) c.x.data[i] = i % 2 ? kMin32 : 12345;
      add(c);
      BnTensorCase c2 = plain_case("constant max N=" + std::to_string(n), {n, 1}, ex, g);
      for (auto& v : c2.x.data) v = kMax32;
      add(c2);
    }
    for (int ex : {-15, -10, -4}) {
      BnTensorCase s = plain_case("single non-zero N=" + std::to_string(n), {n, 3}, ex, g);
      s.x.data[static_cast<size_t>(g() % static_cast<uint64_t>(s.x.size()))] = g() & 1 ? kMax32 : kMin32;
      s.x.data[0] = s.x.size() > 3 ? 0 : s.x.data[0];
      add(s);
    }
  }
  // Extremes of both signs at the input width limits, largest input shift the golden accepts.
  for (int ex : {-15, -12, -8, -4, 0}) {
    BnTensorCase e = plain_case("extremes e_x=" + std::to_string(ex), {7, 2, 3, 3}, ex, g);
    for (auto& v : e.x.data) v = g() % 2 ? kMax32 : kMin32;
    BnTensorCase e2 = e;
    if (bn_channels_from(e, chans)) continue;
    for (auto& v : e2.x.data) v = v / 65536;  // a smaller scale where the golden's widths hold
    e2.origin += " /2^16";
    add(e2);
  }
  // γ / β extremes (both signs, and -32768 which the golden accepts although the optimizer
  // never produces it), on data that saturates x̂ both ways.
  for (int16_t gm : {int16_t{32767}, int16_t{-32767}, int16_t{-32768}, int16_t{0}, int16_t{1}})
    for (int16_t bt : {int16_t{32767}, int16_t{-32768}, int16_t{0}}) {
      BnTensorCase p = plain_case("gamma/beta extremes", {9, 2, 2, 2}, -14, g);
      for (auto& v : p.x.data) v = g() % 64 == 0 ? kMax32 / 4 : static_cast<int32_t>(g() % 7) - 3;
      for (auto& v : p.gamma.data) v = gm;
      for (auto& v : p.beta.data) v = bt;
      add(p);
    }
  // Exact ties: σ with M = t^2, t odd (x = {0, 2c+1}: σ = rhe((2c+1)/2)), mean rdiv ties.
  for (int ex : {-15, -14}) {
    BnTensorCase t = plain_case("sigma/mean ties", {2, 8}, ex, g);
    for (int64_t c = 0; c < 8; ++c) {
      t.x.data[static_cast<size_t>(c)] = 0;
      t.x.data[static_cast<size_t>(8 + c)] = static_cast<int32_t>(2 * c + 1);
    }
    add(t);
  }
  // Inference: σ_acc negative or below 2^7 (σ' clamps to 1), μ_acc extremes; decay shifts 0 and 63.
  {
    BnTensorCase r = plain_case("running extremes", {5, 4, 2, 1}, -14, g);
    for (auto& v : r.x.data) v = static_cast<int32_t>(g() % 20001) - 10000;
    const int64_t sig[] = {-(int64_t{1} << 40), 0, 127, 128};
    const int64_t mu[] = {int64_t{1} << 40, -(int64_t{1} << 40), 0, 129};
    for (int c = 0; c < 4; ++c) {
      r.infer_running.sigma_acc[c] = sig[c];
      r.infer_running.mean_acc[c] = mu[c];
      r.running.mean_acc[c] = mu[3 - c];
      r.running.sigma_acc[c] = -sig[c];
    }
    for (int decay : {0, 1, 63}) {
      r.decay = decay;
      add(r);
    }
  }
  // Backward: dy at the int8 limits, saturated x̂, all-zero dy, exponents that saturate or
  // round away the parameter gradients.
  for (int e1 : {-100, -60, -30, -14, -7, 0, 17, 30}) {
    BnTensorCase b = plain_case("backward e1=" + std::to_string(e1), {6, 3, 2, 2}, -14, g);
    for (auto& v : b.x.data) v = static_cast<int32_t>(g() % 4001) - 2000;
    b.dy.exp = e1;
    for (int64_t i = 0; i < b.dy.size(); ++i) b.dy.data[i] = i % 24 < 8 ? 127 : (i % 24 < 16 ? -127 : 0);
    b.xhat_bwd = golden::Tensor<int16_t>(b.x.shape, -7);
    for (auto& v : b.xhat_bwd.data) v = g() % 2 ? 32767 : -32767;
    add(b);
  }
  return chans;
}

TEST(OCTET_BN_SUITE, CornersVsGolden) {
  const uint64_t seed = test_seed(OCTET_BN_NAME("CornersVsGolden"), 0xB50 + kBnLanes);
  std::mt19937_64 g(seed);
  const std::vector<BnChannel> chans = corner_channels(g);
  const BnTiming t{0.2, 0.3, 0.3, 0.3, g()};
  const BnResult r = bn_check(chans, t, seed, 0);
  check_cycles(chans, r, t);
  // The corners must reach what they are named for.
  int64_t sigma_one = 0, xhat_sat = 0, g_sat = 0;
  for (const BnChannel& c : chans) {
    sigma_one += c.mode != kBnBackward && c.stat.sigma == 1;
    for (int16_t v : c.xhat) xhat_sat += v == 32767 || v == -32767;
    g_sat += c.mode == kBnBackward && (c.stat.g_gamma == kMax32 || c.stat.g_gamma == kMin32 ||
                                       c.stat.g_beta == kMax32 || c.stat.g_beta == kMin32);
  }
  EXPECT_GT(sigma_one, 20);
  EXPECT_GT(xhat_sat, 20);
  EXPECT_GT(g_sat, 0);
  std::printf("[   info   ] %lld corner commands, %lld element results, %lld statistics beats (sigma'=1: %lld, "
              "saturated xhat: %lld, saturated G: %lld)\n",
              static_cast<long long>(chans.size()), static_cast<long long>(r.elements), static_cast<long long>(r.stats),
              static_cast<long long>(sigma_one), static_cast<long long>(xhat_sat), static_cast<long long>(g_sat));
}

// Heavy back-pressure on both output streams and long input gaps: nothing lost or duplicated.
TEST(OCTET_BN_SUITE, BackPressure) {
  const uint64_t seed = test_seed(OCTET_BN_NAME("BackPressure"), 0xB60 + kBnLanes);
  std::mt19937_64 g(seed);
  const std::vector<BnChannel> chans = random_chunk(g, 3000, 100);
  for (int k = 0; k < 2; ++k) {
    const BnTiming t = k == 0 ? BnTiming{0.5, 0.7, 0.95, 0.95, g()} : BnTiming{0.9, 0.9, 0.5, 0.9, g()};
    const BnResult r = bn_check(chans, t, seed, k);
    check_cycles(chans, r, t);
  }
}

// No gaps, no stalls: every channel takes exactly the documented cycles.
TEST(OCTET_BN_SUITE, CycleFormula) {
  const uint64_t seed = test_seed(OCTET_BN_NAME("CycleFormula"), 0xB70 + kBnLanes);
  std::mt19937_64 g(seed);
  std::vector<BnChannel> chans;
  for (int64_t n : {int64_t{1}, int64_t{2}, int64_t{kBnLanes}, int64_t{kBnLanes + 1}, int64_t{64}, int64_t{1000}}) {
    BnTensorCase tc = plain_case("N=" + std::to_string(n), {n, 2}, -14, g);
    for (auto& v : tc.x.data) v = static_cast<int32_t>(g() % 1001) - 500;
    ASSERT_TRUE(bn_channels_from(tc, chans));
  }
  const BnTiming t{0, 0, 0, 0, g()};
  const BnResult r = bn_check(chans, t, seed, 0);
  check_cycles(chans, r, t);
  // The whole run: 3 reset edges, then the channels back to back.
  uint64_t expect_end = r.cycles[0].cmd;
  for (const BnChannel& c : chans) expect_end += channel_period(c.mode, c.n);
  EXPECT_EQ(r.cycles.back().last_out + kIdleAfterOut, expect_end);
}

// ---- slow: 10^6 results, larger channels ------------------------------------------------------
TEST(OCTET_BN_SLOW_SUITE, LongRandomVsGolden) {
  random_vs_golden("BnUnitSlowL" OCTET_BN_STR(OCTET_BN_LANES) ".LongRandomVsGolden", 0xB80 + kBnLanes, 1'000'000, 5000);
}

TEST(OCTET_BN_SLOW_SUITE, LargeChannel) {
  const uint64_t seed = test_seed("BnUnitSlowL" OCTET_BN_STR(OCTET_BN_LANES) ".LargeChannel", 0xB90 + kBnLanes);
  std::mt19937_64 g(seed);
  const int64_t n = int64_t{1} << 18;
  BnTensorCase tc = plain_case("N=2^18", {64, 1, 64, 64}, -14, g);
  for (auto& v : tc.x.data) v = static_cast<int32_t>(g() % 200001) - 90000;
  std::vector<BnChannel> chans;
  ASSERT_TRUE(bn_channels_from(tc, chans));
  ASSERT_EQ(chans[0].n, n);
  const BnTiming t{0, 0.05, 0, 0.05, g()};
  const BnResult r = bn_check(chans, t, seed, 0);
  check_cycles(chans, r, t);
  EXPECT_EQ(r.elements, 3 * n);
}

}  // namespace
}  // namespace octet::tb
