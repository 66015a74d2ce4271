// Optimizer unit (rtl/optimizer_unit.sv) against the golden update path: momentum_update on
// whole parameter tensors, then derive_weight8 / derive_bn_affine / derive_bias
// (docs/numerics.md §8, docs/architecture.md "Optimizer unit").
//
// Random tensors mix uniform values with extremes (INT32_MIN / MAX for G, V and M; lr_q 0, 1,
// 511), crafted round-half-even ties of both roundings and clamp / saturation boundaries,
// streamed with random input gaps and output back-pressure. The seed is printed;
// OCTET_SEED=<n> replays it. On a mismatch the failing chunk is re-run with an FST trace
// into <build>/waves.
#include <gtest/gtest.h>
#include <unistd.h>
#include <verilated.h>
#include <verilated_fst_c.h>

#include <cstdint>
#include <cstdio>
#include <deque>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include OCTET_OPT_HEADER
#include "golden/optimizer.h"
#include "sim/port_bits.h"
#include "testbench/rtl/rtl_env.h"

namespace octet::tb {

using sim::get_bits;
using sim::put_bits;
namespace {

// Suite OptimizerUnitL<Lanes>: each lane count's executable registers distinct CTest names.
#define OCTET_OPT_STR2(x) #x
#define OCTET_OPT_STR(x) OCTET_OPT_STR2(x)
#define OCTET_OPT_LANES_STR OCTET_OPT_STR(OCTET_OPT_LANES)
#define OCTET_OPT_CAT2(a, b) a##b
#define OCTET_OPT_CAT(a, b) OCTET_OPT_CAT2(a, b)
#define OCTET_OPT_SUITE OCTET_OPT_CAT(OptimizerUnitL, OCTET_OPT_LANES)

using Model = OCTET_OPT_MODEL;
constexpr int kLanes = OCTET_OPT_LANES;
// Documented latency (docs/architecture.md "Optimizer unit"): an element accepted at rising
// edge t leaves at rising edge t + kLatency at the earliest.
constexpr uint64_t kLatency = 3;

constexpr int32_t kMin = std::numeric_limits<int32_t>::min();
constexpr int32_t kMax = std::numeric_limits<int32_t>::max();

enum Kind : int { kWeight8 = 0, kBnAffine = 1, kBias = 2 };
const char* kind_name(int k) { return k == kWeight8 ? "weight8" : k == kBnAffine ? "bn_affine" : "bias"; }

struct In {
  int32_t g, v, m;
};
struct Out {
  int32_t m, v, w;
  bool operator==(const Out&) const = default;
};

// One parameter tensor: its configuration, inputs and the golden's results.
struct Job {
  int lr = 0;
  int kind = kWeight8;
  std::vector<In> in;
  std::vector<Out> expect;
};

void golden_expect(Job& j) {
  const int64_t n = static_cast<int64_t>(j.in.size());
  golden::Tensor<int32_t> master({n}, -23), grad({n}, -14);
  for (int64_t i = 0; i < n; ++i) {
    master.data[i] = j.in[i].m;
    grad.data[i] = j.in[i].g;
  }
  golden::ParamState s = golden::make_param_state(master);
  for (int64_t i = 0; i < n; ++i) s.momentum.data[i] = j.in[i].v;
  golden::momentum_update(s, grad, j.lr);
  std::vector<int32_t> w(n);
  if (j.kind == kWeight8) {
    const auto t = golden::derive_weight8(s.master);
    for (int64_t i = 0; i < n; ++i) w[i] = t.data[i];
  } else if (j.kind == kBnAffine) {
    const auto t = golden::derive_bn_affine(s.master);
    for (int64_t i = 0; i < n; ++i) w[i] = t.data[i];
  } else {
    const auto t = golden::derive_bias(s.master);
    for (int64_t i = 0; i < n; ++i) w[i] = t.data[i];
  }
  j.expect.resize(n);
  for (int64_t i = 0; i < n; ++i) j.expect[i] = {s.master.data[i], s.momentum.data[i], w[i]};
}

// ---- stimulus -------------------------------------------------------------------------------
int32_t extreme(std::mt19937_64& g) {
  static constexpr int32_t v[] = {kMin, kMin + 1, kMin + 2, -2, -1, 0, 1, 2, kMax - 2, kMax - 1, kMax};
  return v[g() % std::size(v)];
}

int32_t value(std::mt19937_64& g) {
  switch (g() % 6) {
    case 0: return extreme(g);
    case 1: return static_cast<int32_t>(g());                                          // uniform
    case 2: return static_cast<int32_t>(static_cast<int64_t>(g() >> 40) - (1 << 23));  // small
    case 3: {                                                                          // ±2^k ± small
      const int64_t x = (int64_t{1} << (g() % 31)) + static_cast<int64_t>(g() % 5) - 2;
      return static_cast<int32_t>(g() & 1 ? -x : x);
    }
    default: return static_cast<int32_t>(static_cast<int64_t>(g() >> 48) - (1 << 15));  // tiny
  }
}

// M' = target exactly when M = target + lr * (V + G) fits int32 (no saturation).
In aim(std::mt19937_64& g, int lr, int64_t target) {
  for (int tries = 0; tries < 4; ++tries) {
    const int32_t gg = value(g), vv = value(g);
    const int64_t m = target + int64_t{lr} * (int64_t{gg} + vv);
    if (m >= kMin && m <= kMax) return {gg, vv, static_cast<int32_t>(m)};
  }
  return {0, 0, static_cast<int32_t>(std::clamp<int64_t>(target, kMin, kMax))};
}

In element(std::mt19937_64& g, int lr) {
  switch (g() % 10) {
    case 0: {  // a tie of rhe(M' / 2^16) or rhe(M' / 2^9), either parity
      const int s = g() & 1 ? 16 : 9;
      const int64_t q = static_cast<int64_t>(g() % (uint64_t{1} << (32 - s))) - (int64_t{1} << (31 - s));
      return aim(g, lr, q * (int64_t{1} << s) + (int64_t{1} << (s - 1)));
    }
    case 1: {  // around the weight8 / bn_affine clamp bounds
      const int64_t b = (g() & 1 ? 127 : 32767) * (int64_t{1} << 16);
      const int64_t t = (g() & 1 ? b : -b) + static_cast<int64_t>(g() % (1 << 18)) - (1 << 17);
      return aim(g, lr, t);
    }
    case 2: {  // acc = V + G a tie of rhe(acc / 4), either parity
      const int32_t gg = value(g);
      int64_t v = static_cast<int64_t>(value(g) & ~3) + 2 - (static_cast<int64_t>(gg) & 3);
      if (v > kMax) v -= 4;
      if (v < kMin) v += 4;
      return {gg, static_cast<int32_t>(v), value(g)};
    }
    case 3: return {extreme(g), extreme(g), extreme(g)};  // saturation both ends
    default: return {value(g), value(g), value(g)};
  }
}

int learning_rate(std::mt19937_64& g) {
  switch (g() % 6) {
    case 0: return 0;
    case 1: return 1;
    case 2: return 511;
    default: return static_cast<int>(g() % 512);
  }
}

Job random_job(std::mt19937_64& g, int max_beats) {
  Job j;
  j.lr = learning_rate(g);
  j.kind = static_cast<int>(g() % 3);
  const int n = kLanes * (1 + static_cast<int>(g() % max_beats));
  for (int i = 0; i < n; ++i) j.in.push_back(element(g, j.lr));
  golden_expect(j);
  return j;
}

// How often the stimulus reaches the cases that matter (checked, so that a generator change
// cannot silently stop covering them).
struct Hits {
  int64_t v_tie = 0, w_tie = 0, b_tie = 0, m_sat_hi = 0, m_sat_lo = 0, w_clamp_hi = 0, w_clamp_lo = 0;
  void add(const Job& j) {
    for (size_t i = 0; i < j.in.size(); ++i) {
      const In& x = j.in[i];
      const Out& e = j.expect[i];
      const int64_t acc = int64_t{x.g} + x.v;
      const int64_t m = int64_t{x.m} - int64_t{j.lr} * acc;
      v_tie += (acc & 3) == 2;
      w_tie += j.kind != kBias && (e.m & 0xFFFF) == 0x8000;
      b_tie += j.kind == kBias && (e.m & 0x1FF) == 0x100;
      m_sat_hi += m > kMax;
      m_sat_lo += m < kMin;
      const int32_t bound = j.kind == kWeight8 ? 127 : 32767;
      w_clamp_hi += j.kind != kBias && e.w == bound && (e.m >> 16) >= bound;
      w_clamp_lo += j.kind != kBias && e.w == -bound && (e.m >> 16) < -bound;
    }
  }
};

// ---- harness ------------------------------------------------------------------------------
struct Timing {
  double in_gap = 0;     // probability of an idle input cycle before a beat
  double out_stall = 0;  // probability of out_ready_i low in a cycle
  uint64_t seed = 1;
};

struct Result {
  int64_t compared = 0;
  int64_t mismatches = 0;
  std::string first_mismatch;
  std::string protocol_error;
  uint64_t min_latency = ~uint64_t{0}, max_latency = 0;
  uint64_t first_in = 0, last_out = 0;  // rising edges of the first input / last output transfer
};

Result run(const std::vector<Job>& jobs, const Timing& timing, uint64_t seed, int64_t chunk,
           const std::string& trace_path = "") {
  Result res;
  auto ctx = std::make_unique<VerilatedContext>();
  if (!trace_path.empty()) ctx->traceEverOn(true);
  auto dut = std::make_unique<Model>(ctx.get(), "dut");
  std::unique_ptr<VerilatedFstC> trace;
  if (!trace_path.empty()) {
    trace = std::make_unique<VerilatedFstC>();
    dut->trace(trace.get(), 99);
    trace->open(trace_path.c_str());
  }
  uint64_t cycle = 0;
  auto& d = *dut;
  auto edge = [&] {
    d.clk_i = 0;
    d.eval();
    if (trace) trace->dump(2 * cycle);
    d.clk_i = 1;
    d.eval();
    if (trace) trace->dump(2 * cycle + 1);
    ++cycle;
  };
  d.rst_ni = 0;
  d.in_valid_i = 0;
  d.out_ready_i = 0;
  for (int i = 0; i < 3; ++i) edge();
  d.rst_ni = 1;
  edge();

  // Flatten into beats.
  struct Beat {
    int job, first;
  };
  std::vector<Beat> beats;
  int64_t total = 0;
  for (int j = 0; j < static_cast<int>(jobs.size()); ++j) {
    for (int i = 0; i < static_cast<int>(jobs[j].in.size()); i += kLanes) beats.push_back({j, i});
    total += static_cast<int64_t>(jobs[j].in.size());
  }

  std::mt19937_64 g(timing.seed);
  std::bernoulli_distribution gap(timing.in_gap), stall(timing.out_stall);
  std::deque<uint64_t> accepted;  // acceptance edges of beats in flight
  size_t next_in = 0, next_out = 0;
  bool presenting = false, prev_stalled = false;
  Out prev_out[kLanes] = {};
  const uint64_t timeout = 100 + 50 * beats.size();
  auto junk = [&] { return static_cast<uint32_t>(g() & 1 ? extreme(g) : static_cast<int32_t>(g())); };

  for (uint64_t waited = 0; next_out < beats.size(); ++waited) {
    if (waited > timeout) {
      res.protocol_error = "timeout: " + std::to_string(next_in) + " beats in, " + std::to_string(next_out) + " out";
      break;
    }
    d.clk_i = 0;
    if (!presenting && next_in < beats.size()) presenting = !gap(g);
    d.in_valid_i = presenting;
    if (presenting) {
      const Job& j = jobs[beats[next_in].job];
      d.lr_q_i = static_cast<uint16_t>(j.lr);
      d.kind_i = static_cast<uint8_t>(j.kind);
    } else {
      d.lr_q_i = static_cast<uint16_t>(g() % 1024);
      d.kind_i = static_cast<uint8_t>(g() % 4);
    }
    for (int l = 0; l < kLanes; ++l) {
      uint32_t gg = junk(), vv = junk(), mm = junk();
      if (presenting) {
        const In& e = jobs[beats[next_in].job].in[beats[next_in].first + l];
        gg = static_cast<uint32_t>(e.g), vv = static_cast<uint32_t>(e.v), mm = static_cast<uint32_t>(e.m);
      }
      put_bits(d.grad_i, 32 * l, 32, gg);
      put_bits(d.mom_i, 32 * l, 32, vv);
      put_bits(d.master_i, 32 * l, 32, mm);
    }
    d.out_ready_i = !stall(g);
    d.eval();
    if (trace) trace->dump(2 * cycle);

    Out got[kLanes];
    for (int l = 0; l < kLanes; ++l)
      got[l] = {static_cast<int32_t>(get_bits(d.master_o, 32 * l, 32)),
                static_cast<int32_t>(get_bits(d.mom_o, 32 * l, 32)),
                static_cast<int32_t>(get_bits(d.work_o, 32 * l, 32))};
    // A stalled output beat must stay put.
    if (prev_stalled) {
      bool same = d.out_valid_o;
      for (int l = 0; l < kLanes; ++l) same = same && got[l] == prev_out[l];
      if (!same && res.protocol_error.empty())
        res.protocol_error = "output changed while stalled at cycle " + std::to_string(cycle);
    }
    prev_stalled = d.out_valid_o && !d.out_ready_i;
    for (int l = 0; l < kLanes; ++l) prev_out[l] = got[l];

    // Capacity kLatency beats, no bubbles: the unit takes a beat whenever it holds fewer.
    if (accepted.size() < kLatency && !d.in_ready_o && res.protocol_error.empty())
      res.protocol_error = "in_ready_o low with " + std::to_string(accepted.size()) + " beats in flight at cycle " +
                           std::to_string(cycle);
    if (d.in_valid_i && d.in_ready_o) {
      if (next_in == 0) res.first_in = cycle;
      accepted.push_back(cycle);
      ++next_in;
      presenting = false;
    }
    if (d.out_valid_o && d.out_ready_i) {
      if (accepted.empty()) {
        if (res.protocol_error.empty()) res.protocol_error = "output beat without input at cycle " + std::to_string(cycle);
        break;
      }
      const uint64_t lat = cycle - accepted.front();
      accepted.pop_front();
      res.min_latency = std::min(res.min_latency, lat);
      res.max_latency = std::max(res.max_latency, lat);
      res.last_out = cycle;
      const Beat& b = beats[next_out];
      const Job& j = jobs[b.job];
      for (int l = 0; l < kLanes; ++l) {
        const int i = b.first + l;
        const Out& e = j.expect[i];
        ++res.compared;
        if (!(got[l] == e)) {
          if (res.mismatches++ == 0) {
            char buf[512];
            std::snprintf(buf, sizeof buf,
                          "seed %llu chunk %lld tensor %d element %d (lane %d): G=%d V=%d M=%d lr_q=%d kind=%s\n"
                          "  expected M'=%d V'=%d W=%d\n  rtl      M'=%d V'=%d W=%d",
                          static_cast<unsigned long long>(seed), static_cast<long long>(chunk), b.job, i, l,
                          j.in[i].g, j.in[i].v, j.in[i].m, j.lr, kind_name(j.kind), e.m, e.v, e.w, got[l].m,
                          got[l].v, got[l].w);
            res.first_mismatch = buf;
          }
        }
      }
      ++next_out;
    }
    d.clk_i = 1;
    d.eval();
    if (trace) trace->dump(2 * cycle + 1);
    ++cycle;
  }
  if (res.compared != total && res.protocol_error.empty())
    res.protocol_error = "compared " + std::to_string(res.compared) + " of " + std::to_string(total);
  // Nothing extra may come out.
  for (int i = 0; i < 2 * static_cast<int>(kLatency) && res.protocol_error.empty(); ++i) {
    d.in_valid_i = 0;
    d.out_ready_i = 1;
    d.clk_i = 0;
    d.eval();
    if (d.out_valid_o) res.protocol_error = "extra output beat (duplicate)";
    edge();
  }
  d.final();
  if (trace) trace->close();
#if VM_COVERAGE
  // One file per run; tools/rtl_coverage.sh merges them.
  static int instance = 0;
  const std::string path = std::string(OCTET_COVERAGE_DIR) + "/optimizer_l" + std::to_string(kLanes) + "_" +
                           std::to_string(getpid()) + "_" + std::to_string(instance++) + ".dat";
  ctx->coveragep()->write(path.c_str());
#endif
  return res;
}

// Runs one chunk; on failure prints the details and re-runs it with an FST trace.
Result check_chunk(const std::vector<Job>& jobs, const Timing& timing, uint64_t seed, int64_t chunk) {
  Result r = run(jobs, timing, seed, chunk);
  if (r.mismatches || !r.protocol_error.empty()) {
    const std::string wave =
        wave_path("optimizer_l" + std::to_string(kLanes) + "_seed" + std::to_string(seed) + "_chunk" + std::to_string(chunk));
    run(jobs, timing, seed, chunk, wave);
    ADD_FAILURE() << r.mismatches << " mismatches of " << r.compared << "; first: " << r.first_mismatch
                  << (r.protocol_error.empty() ? "" : "\n  protocol: " + r.protocol_error) << "\n  waveform: " << wave
                  << "\n  replay: OCTET_SEED=" << base_seed();
  }
  return r;
}

// ---- tests ---------------------------------------------------------------------------------

// >= 10^5 random updates, all kinds, random gaps and back-pressure.
TEST(OCTET_OPT_SUITE, RandomVsGolden) {
  const uint64_t seed = test_seed("OptimizerUnitL" OCTET_OPT_LANES_STR ".RandomVsGolden", 0x0971 + kLanes);
  std::mt19937_64 g(seed);
  constexpr int64_t kTarget = 100'000;
  int64_t compared = 0, chunk = 0;
  uint64_t min_lat = ~uint64_t{0};
  int kinds_seen[3] = {};
  Hits hits;
  while (compared < kTarget) {
    std::vector<Job> jobs;
    int64_t n = 0;
    while (n < 4000) {
      jobs.push_back(random_job(g, 300));
      n += static_cast<int64_t>(jobs.back().in.size());
      ++kinds_seen[jobs.back().kind];
      hits.add(jobs.back());
    }
    static constexpr double kProb[] = {0.0, 0.1, 0.5, 0.9};
    const Timing t{kProb[g() % 4], kProb[g() % 4], g()};
    const Result r = check_chunk(jobs, t, seed, chunk++);
    if (r.mismatches || !r.protocol_error.empty()) return;
    EXPECT_GE(r.min_latency, kLatency);
    if (t.out_stall == 0) {
      EXPECT_EQ(r.max_latency, kLatency) << "unstalled latency";
    }
    min_lat = std::min(min_lat, r.min_latency);
    compared += r.compared;
  }
  EXPECT_EQ(min_lat, kLatency);
  for (int k = 0; k < 3; ++k) EXPECT_GT(kinds_seen[k], 0) << kind_name(k);
  std::printf("[   info   ] ties: V %lld, W %lld, bias %lld; M' saturated: high %lld, low %lld; W clamped: "
              "high %lld, low %lld\n",
              static_cast<long long>(hits.v_tie), static_cast<long long>(hits.w_tie),
              static_cast<long long>(hits.b_tie), static_cast<long long>(hits.m_sat_hi),
              static_cast<long long>(hits.m_sat_lo), static_cast<long long>(hits.w_clamp_hi),
              static_cast<long long>(hits.w_clamp_lo));
  for (int64_t h : {hits.v_tie, hits.w_tie, hits.b_tie, hits.m_sat_hi, hits.m_sat_lo, hits.w_clamp_hi, hits.w_clamp_lo})
    EXPECT_GT(h, 100);
  std::printf("[   info   ] %lld updates compared (Lanes=%d) in %lld chunks\n", static_cast<long long>(compared),
              kLanes, static_cast<long long>(chunk));
}

// Every combination of extreme G, V, M with lr_q in {0, 1, 2, 256, 511} and all kinds.
TEST(OCTET_OPT_SUITE, ExtremesVsGolden) {
  const uint64_t seed = test_seed("OptimizerUnitL" OCTET_OPT_LANES_STR ".ExtremesVsGolden", 0x0972 + kLanes);
  static constexpr int32_t v[] = {kMin, kMin + 1, kMin + 2, -65536 - 32768, -32768, -256, -1, 0, 1, 256,
                                  32768, 98304, kMax - 2, kMax - 1, kMax};
  std::vector<Job> jobs;
  for (int lr : {0, 1, 2, 256, 511})
    for (int kind = 0; kind < 3; ++kind) {
      Job j;
      j.lr = lr;
      j.kind = kind;
      for (int32_t a : v)
        for (int32_t b : v)
          for (int32_t c : v) j.in.push_back({a, b, c});
      while (j.in.size() % kLanes) j.in.push_back({0, 0, 0});
      golden_expect(j);
      jobs.push_back(std::move(j));
    }
  const Result r = check_chunk(jobs, Timing{0.2, 0.2, seed}, seed, 0);
  EXPECT_GT(r.compared, 50'000);
}

// Unstalled, gap-free stream: every beat takes exactly kLatency edges, one beat per cycle,
// so n beats finish kLatency + n - 1 edges after the first is accepted.
TEST(OCTET_OPT_SUITE, LatencyAndThroughput) {
  const uint64_t seed = test_seed("OptimizerUnitL" OCTET_OPT_LANES_STR ".LatencyAndThroughput", 0x0973 + kLanes);
  std::mt19937_64 g(seed);
  std::vector<Job> jobs;
  int64_t n = 0;
  for (int i = 0; i < 20; ++i) {
    jobs.push_back(random_job(g, 50));
    n += static_cast<int64_t>(jobs.back().in.size());
  }
  const Result r = check_chunk(jobs, Timing{0, 0, seed}, seed, 0);
  const uint64_t beats = static_cast<uint64_t>(n / kLanes);
  EXPECT_EQ(r.min_latency, kLatency);
  EXPECT_EQ(r.max_latency, kLatency);
  EXPECT_EQ(r.last_out - r.first_in, kLatency + beats - 1);
}

// A single beat through an empty pipeline, output always ready: latency is kLatency.
TEST(OCTET_OPT_SUITE, SingleBeatLatency) {
  const uint64_t seed = test_seed("OptimizerUnitL" OCTET_OPT_LANES_STR ".SingleBeatLatency", 0x0974 + kLanes);
  std::mt19937_64 g(seed);
  for (int i = 0; i < 20; ++i) {
    std::vector<Job> jobs{random_job(g, 1)};
    const Result r = check_chunk(jobs, Timing{0.5, 0, g()}, seed, i);
    EXPECT_EQ(r.min_latency, kLatency);
    EXPECT_EQ(r.max_latency, kLatency);
  }
}

}  // namespace
}  // namespace octet::tb
