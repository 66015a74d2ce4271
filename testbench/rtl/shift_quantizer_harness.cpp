#include "testbench/rtl/shift_quantizer_harness.h"

#include <verilated.h>
#include <verilated_fst_c.h>
#if OCTET_RTL_COVERAGE
#include <verilated_cov.h>
#endif

#include <algorithm>
#include <atomic>
#include <deque>
#include <random>
#include <unistd.h>

#include "Vshift_quantizer.h"
#include "golden/quantizers.h"
#include "sim/port_bits.h"

namespace octet::tb {

namespace {
using sim::get_bits;
using sim::put_bits;
constexpr uint64_t kInMask = kInW == 64 ? ~uint64_t{0} : (uint64_t{1} << kInW) - 1;

// Unused lanes and idle cycles carry junk, including the extremes, so that a unit that
// reads them shows up as a mismatch.
uint64_t junk(std::mt19937_64& g) {
  switch (g() % 4) {
    case 0: return kInMask >> 1;        // most positive
    case 1: return (kInMask >> 1) + 1;  // most negative
    default: return g() & kInMask;
  }
}

template <typename T>
int sign_extend(T v, int width) {
  const int64_t x = static_cast<int64_t>(v) & ((int64_t{1} << width) - 1);
  return static_cast<int>(x >= (int64_t{1} << (width - 1)) ? x - (int64_t{1} << width) : x);
}

constexpr int kExpW = 10;  // octet_pkg::SqExpW
}  // namespace

const char* mode_name(SqMode m) {
  switch (m) {
    case SqMode::kDirect: return "Q";
    case SqMode::kShift: return "SQ";
    case SqMode::kConst: return "CQ";
    case SqMode::kFlag: return "E2";
  }
  return "?";
}

SqHarness::SqHarness(const std::string& trace_path) : ctx_(std::make_unique<VerilatedContext>()) {
  if (!trace_path.empty()) ctx_->traceEverOn(true);
  dut_ = std::make_unique<Vshift_quantizer>(ctx_.get(), "dut");
  if (!trace_path.empty()) {
    trace_ = std::make_unique<VerilatedFstC>();
    dut_->trace(trace_.get(), 99);
    trace_->open(trace_path.c_str());
  }
  dut_->rst_ni = 0;
  dut_->cfg_valid_i = 0;
  dut_->in_valid_i = 0;
  dut_->out_ready_i = 0;
  for (int i = 0; i < 3; ++i) {
    clock_low();
    clock_high();
  }
  dut_->rst_ni = 1;
}

SqHarness::~SqHarness() {
  dut_->final();
  if (trace_) trace_->close();
#if OCTET_RTL_COVERAGE
  // One file per harness; tools/rtl_coverage.sh merges them.
  static std::atomic<int> serial{0};
  const std::string file = std::string(OCTET_RTL_COVERAGE_DIR) + "/sq_" + std::to_string(kLanes) + "l_" +
                           std::to_string(getpid()) + "_" + std::to_string(serial++) + ".dat";
  ctx_->coveragep()->write(file.c_str());
#endif
}

void SqHarness::clock_low() {
  dut_->clk_i = 0;
  dut_->eval();
  if (trace_) trace_->dump(2 * cycle_);
}

void SqHarness::clock_high() {
  dut_->clk_i = 1;
  dut_->eval();
  if (trace_) trace_->dump(2 * cycle_ + 1);
  ++cycle_;
}

SqRun SqHarness::run(const SqConfig& cfg, const std::vector<int64_t>& x, const SqTiming& timing,
                     const std::vector<int8_t>& w) {
  SqRun out;
  std::mt19937_64 g(timing.seed);
  std::bernoulli_distribution gap(timing.in_gap), stall(timing.out_stall);
  const int64_t n = static_cast<int64_t>(x.size());
  const int64_t beats = (n + kLanes - 1) / kLanes;
  const bool fused = cfg.fused && cfg.mode != SqMode::kDirect;
  const int passes = cfg.mode == SqMode::kDirect || fused ? 1 : 2;
  const uint64_t max_abs =
      cfg.fused_max >= 0 ? static_cast<uint64_t>(cfg.fused_max) : golden::tensor_max_magnitude(x.data(), n);
  const int64_t total_beats = passes * beats;
  const uint64_t timeout = 100 + 50 * static_cast<uint64_t>(total_beats);
  auto error = [&](const std::string& what) {
    if (out.protocol_error.empty()) out.protocol_error = what + " (cycle " + std::to_string(cycle_) + ")";
  };

  auto& d = *dut_;
  d.cfg_mode_i = static_cast<uint8_t>(cfg.mode);
  d.cfg_count_i = static_cast<uint32_t>(n);
  d.cfg_bits_i = static_cast<uint8_t>(cfg.bits);
  d.cfg_shift_i = static_cast<uint8_t>(cfg.shift);
  d.cfg_lo_i = static_cast<uint32_t>(cfg.lo);
  d.cfg_hi_i = static_cast<uint32_t>(cfg.hi);
  d.cfg_log2_scale_i = static_cast<uint8_t>(cfg.log2_scale);
  d.cfg_seed_i = cfg.seed;
  d.cfg_step_i = cfg.step;
  d.cfg_tensor_i = cfg.tensor;
  d.cfg_max_valid_i = cfg.fused;
  d.cfg_max_i = max_abs & kInMask;
  d.cfg_addend_en_i = cfg.addend;
  d.cfg_addend_shift_i = static_cast<uint8_t>(cfg.addend_shift);

  bool cfg_done = false, presenting = false, got_last = false;
  uint64_t t0 = 0;
  int64_t next_beat = 0, out_beats = 0;
  std::deque<uint64_t> accepted;  // acceptance cycles of pass-2 beats still in flight
  out.min_latency = ~uint64_t{0};

  for (uint64_t waited = 0;; ++waited) {
    if (waited > timeout) {
      error("timeout: " + std::to_string(next_beat) + " of " + std::to_string(total_beats) + " beats accepted, " +
            std::to_string(out_beats) + " output beats");
      break;
    }
    d.clk_i = 0;
    d.cfg_valid_i = !cfg_done;
    if (!presenting && cfg_done && next_beat < total_beats) presenting = !gap(g);
    d.in_valid_i = presenting;
    for (int j = 0; j < kLanes; ++j) {
      const int64_t i = (next_beat % beats) * kLanes + j;
      put_bits(d.in_data_i, j * kInW, kInW, presenting && i < n ? static_cast<uint64_t>(x[i]) & kInMask : junk(g));
      put_bits(d.in_addend_i, j * 8, 8, presenting && i < n && !w.empty() ? static_cast<uint8_t>(w[i]) : g());
    }
    d.out_ready_i = !stall(g);
    d.eval();
    if (trace_) trace_->dump(2 * cycle_);

    const uint64_t now = cycle_ - t0;
    if (cfg_done && got_last && d.cfg_ready_o) {
      out.next_cfg = now;
      break;
    }
    if (d.cfg_valid_i && d.cfg_ready_o) {
      cfg_done = true;
      t0 = cycle_;
    } else if (!cfg_done && waited > 4) {
      error("configuration not accepted");
    }
    if (d.in_valid_i && d.in_ready_o) {
      if (next_beat >= beats * (passes - 1)) {
        if (accepted.empty() && next_beat == beats * (passes - 1)) out.first_pass2_in = now;
        out.last_pass2_in = now;
        accepted.push_back(now);
      }
      ++next_beat;
      presenting = false;
    }
    if (d.out_valid_o && d.out_ready_i) {
      if (got_last) error("output beat after the last one");
      if (accepted.empty()) {
        error("output beat without an input beat");
      } else {
        const uint64_t lat = now - accepted.front();
        accepted.pop_front();
        out.min_latency = std::min(out.min_latency, lat);
        out.max_latency = std::max(out.max_latency, lat);
      }
      if (out_beats == 0) out.first_out = now;
      out.last_out = now;
      const int64_t base = out_beats * kLanes;
      const int in_beat = static_cast<int>(std::min<int64_t>(kLanes, n - base));
      const unsigned want_keep = in_beat >= 0 ? (1u << in_beat) - 1 : 0;
      if (d.out_keep_o != want_keep) error("lane mask " + std::to_string(d.out_keep_o) + " != " + std::to_string(want_keep));
      const bool want_last = out_beats == beats - 1;
      if (static_cast<bool>(d.out_last_o) != want_last) error("last flag wrong on output beat " + std::to_string(out_beats));
      const int r = d.out_scale_log2_o, e = sign_extend(d.out_exp_offset_o, kExpW);
      if (out_beats == 0) {
        out.scale_log2 = r;
        out.exp_offset = e;
      } else if (r != out.scale_log2 || e != out.exp_offset) {
        error("scale changed within the tensor");
      }
      for (int j = 0; j < in_beat; ++j) {
        out.data.push_back(static_cast<int32_t>(get_bits(d.out_data_o, j * 32, 32)));
        out.code.push_back(static_cast<int16_t>(get_bits(d.out_code_o, j * 16, 16)));
        out.fine.push_back((d.out_fine_o >> j) & 1);
        out.rand.push_back(get_bits(d.out_rand_o, j * 64, 64));
      }
      got_last = got_last || d.out_last_o;
      ++out_beats;
    }
    clock_high();
  }
  d.cfg_valid_i = 0;
  d.in_valid_i = 0;
  out.overflow = d.err_overflow_o;
  if (out_beats != beats && out.protocol_error.empty())
    error(std::to_string(out_beats) + " output beats, expected " + std::to_string(beats));
  if (!accepted.empty() && out.protocol_error.empty()) error("input beats without output");
  return out;
}

}  // namespace octet::tb
