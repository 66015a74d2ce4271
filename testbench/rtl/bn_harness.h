// Cycle-level driver of rtl/bn_unit.sv for one lane count (OCTET_BN_* definitions): streams
// channel commands, pass-1 / pass-2 input beats, and takes statistics and output beats with
// random gaps and back-pressure; compares every beat with the golden's expectation, checks
// the handshake (stalled beats hold still, nothing lost or duplicated) and records the
// rising edge of every event per channel for the cycle formulas.
#pragma once

#include <gtest/gtest.h>
#include <verilated.h>
#include <verilated_fst_c.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include OCTET_BN_HEADER
#include "testbench/rtl/bn_channels.h"
#include "sim/port_bits.h"
#include "testbench/rtl/rtl_env.h"

namespace octet::tb {

using sim::get_bits;
using sim::put_bits;

using BnModel = OCTET_BN_MODEL;
constexpr int kBnLanes = OCTET_BN_LANES;

struct BnTiming {
  double cmd_gap = 0;     // probability of an idle command cycle before a command
  double in_gap = 0;      // ... before an input beat
  double stat_stall = 0;  // probability of stat_ready_i low in a cycle
  double out_stall = 0;   // ... of out_ready_i low
  uint64_t seed = 1;
};

// Rising edges (cycle numbers) of one channel's events.
struct BnChannelCycles {
  uint64_t cmd = 0, first_pass1 = 0, last_pass1 = 0, stat_offered = 0, stat = 0, first_pass2 = 0,
           last_pass2 = 0, last_out = 0;
  uint64_t min_latency = ~uint64_t{0}, max_latency = 0;  // pass-2 beat in -> its output beat out
};

struct BnResult {
  int64_t elements = 0;  // element results compared (x̂ and y, or dx)
  int64_t stats = 0;     // statistics beats compared
  int64_t mismatches = 0;
  std::string first_mismatch, protocol_error;
  std::vector<BnChannelCycles> cycles;
  uint64_t total_cycles = 0;
};

inline int64_t bn_beats(int64_t n) { return (n + kBnLanes - 1) / kBnLanes; }

inline BnResult bn_run(const std::vector<BnChannel>& chans, const BnTiming& timing, uint64_t seed, int64_t chunk,
                       const std::string& trace_path = "") {
  BnResult res;
  res.cycles.resize(chans.size());
  auto ctx = std::make_unique<VerilatedContext>();
  if (!trace_path.empty()) ctx->traceEverOn(true);
  auto dut = std::make_unique<BnModel>(ctx.get(), "dut");
  std::unique_ptr<VerilatedFstC> trace;
  if (!trace_path.empty()) {
    trace = std::make_unique<VerilatedFstC>();
    dut->trace(trace.get(), 99);
    trace->open(trace_path.c_str());
  }
  auto& d = *dut;
  uint64_t cycle = 0;
  auto rise = [&] {
    d.clk_i = 1;
    d.eval();
    if (trace) trace->dump(2 * cycle + 1);
    ++cycle;
  };
  d.rst_ni = 0;
  d.cmd_valid_i = 0;
  d.in_valid_i = 0;
  d.stat_ready_i = 0;
  d.out_ready_i = 0;
  for (int i = 0; i < 3; ++i) {
    d.clk_i = 0;
    d.eval();
    rise();
  }
  d.rst_ni = 1;

  struct Beat {
    int ch;
    int pass;
    int64_t first;
  };
  std::vector<Beat> beats, outs;
  for (int c = 0; c < static_cast<int>(chans.size()); ++c) {
    const int64_t n = chans[c].n;
    if (chans[c].has_pass1())
      for (int64_t i = 0; i < n; i += kBnLanes) beats.push_back({c, 1, i});
    for (int64_t i = 0; i < n; i += kBnLanes) {
      beats.push_back({c, 2, i});
      outs.push_back({c, 2, i});
    }
  }

  std::mt19937_64 g(timing.seed);
  std::bernoulli_distribution cmd_gap(timing.cmd_gap), in_gap(timing.in_gap), stat_stall(timing.stat_stall),
      out_stall(timing.out_stall);
  size_t next_cmd = 0, next_beat = 0, next_stat = 0, next_out = 0;
  bool cmd_on = false, in_on = false;
  std::deque<uint64_t> inflight;  // acceptance edges of pass-2 beats
  bool stat_held = false, out_held = false;
  BnStat prev_stat;
  std::vector<uint64_t> prev_out(3 * kBnLanes);
  const uint64_t timeout = 20 * (2000 + 20 * beats.size() + 600 * chans.size());

  auto fail = [&](const std::string& what) {
    if (res.protocol_error.empty()) res.protocol_error = what + " at cycle " + std::to_string(cycle);
  };
  auto read_stat = [&] {
    BnStat s;
    s.mean = static_cast<int64_t>(d.stat_mean_o);
    s.sigma = static_cast<int64_t>(d.stat_sigma_o);
    s.recip = static_cast<int64_t>(d.stat_recip_o);
    s.shift = static_cast<int>(d.stat_recip_shift_o);
    s.mean_acc = static_cast<int64_t>(d.stat_mean_acc_o);
    s.sigma_acc = static_cast<int64_t>(d.stat_sigma_acc_o);
    s.g_gamma = static_cast<int32_t>(d.stat_g_gamma_o);
    s.g_beta = static_cast<int32_t>(d.stat_g_beta_o);
    return s;
  };
  auto same_stat = [](const BnStat& a, const BnStat& b) {
    return a.mean == b.mean && a.sigma == b.sigma && a.recip == b.recip && a.shift == b.shift &&
           a.mean_acc == b.mean_acc && a.sigma_acc == b.sigma_acc && a.g_gamma == b.g_gamma && a.g_beta == b.g_beta;
  };
  auto report = [&](const BnChannel& ch, size_t idx, const std::string& what) {
    if (res.mismatches++ > 0) return;
    char buf[256];
    std::snprintf(buf, sizeof buf, "seed %llu chunk %lld command %zu (%s channel %d, %s, N=%lld, a=%d): ",
                  static_cast<unsigned long long>(seed), static_cast<long long>(chunk), idx, ch.origin.c_str(),
                  ch.channel, bn_mode_name(ch.mode), static_cast<long long>(ch.n), ch.in_shift);
    res.first_mismatch = buf + what;
  };

  for (uint64_t waited = 0; next_out < outs.size() || next_stat < chans.size(); ++waited) {
    if (waited > timeout) {
      fail("timeout: " + std::to_string(next_cmd) + " commands, " + std::to_string(next_beat) + " beats in, " +
           std::to_string(next_stat) + " statistics and " + std::to_string(next_out) + " beats out");
      break;
    }
    d.clk_i = 0;
    // command
    if (!cmd_on && next_cmd < chans.size()) cmd_on = !cmd_gap(g);
    d.cmd_valid_i = cmd_on;
    {
      const bool real = cmd_on;
      const BnChannel* ch = real ? &chans[next_cmd] : nullptr;
      d.cmd_mode_i = static_cast<uint8_t>(real ? ch->mode : g() % 4);
      d.cmd_count_i = static_cast<uint32_t>(real ? ch->n : g() & 0x1FFFFFF);
      d.cmd_in_shift_i = static_cast<uint8_t>(real ? ch->in_shift : g() & 15);
      d.cmd_gamma_i = static_cast<uint16_t>(real ? ch->gamma : g());
      d.cmd_beta_i = static_cast<uint16_t>(real ? ch->beta : g());
      d.cmd_mean_acc_i = static_cast<uint64_t>(real ? ch->mean_acc : g());
      d.cmd_sigma_acc_i = static_cast<uint64_t>(real ? ch->sigma_acc : g());
      d.cmd_decay_i = static_cast<uint8_t>(real ? ch->decay : g() & 63);
      d.cmd_sigma_i = static_cast<uint64_t>(real ? ch->sigma : g() & ((uint64_t{1} << 56) - 1));
      d.cmd_e1_i = static_cast<uint8_t>(real ? ch->e1 : g());
    }
    // input beat; lanes past N carry junk
    if (!in_on && next_beat < beats.size()) in_on = !in_gap(g);
    d.in_valid_i = in_on;
    for (int l = 0; l < kBnLanes; ++l) {
      uint64_t v = g(), xh = g();
      if (in_on) {
        const Beat& b = beats[next_beat];
        const BnChannel& ch = chans[b.ch];
        const int64_t i = b.first + l;
        if (i < ch.n) {
          v = static_cast<uint32_t>(ch.data[i]);
          if (ch.mode == kBnBackward) xh = static_cast<uint16_t>(ch.xhat_in[i]);
        }
      }
      put_bits(d.in_data_i, 32 * l, 32, v);
      put_bits(d.in_xhat_i, 16 * l, 16, xh);
    }
    d.stat_ready_i = !stat_stall(g);
    d.out_ready_i = !out_stall(g);
    d.eval();
    if (trace) trace->dump(2 * cycle);

    // stalled beats must hold still
    const BnStat st = read_stat();
    if (stat_held && (!d.stat_valid_o || !same_stat(st, prev_stat))) fail("statistics beat changed while stalled");
    stat_held = d.stat_valid_o && !d.stat_ready_i;
    prev_stat = st;
    std::vector<uint64_t> got(3 * kBnLanes);
    for (int l = 0; l < kBnLanes; ++l) {
      got[3 * l] = get_bits(d.out_xhat_o, 16 * l, 16);
      got[3 * l + 1] = get_bits(d.out_y_o, 32 * l, 32);
      got[3 * l + 2] = get_bits(d.out_dx_o, 64 * l, 64);
    }
    if (out_held && (!d.out_valid_o || got != prev_out)) fail("output beat changed while stalled");
    out_held = d.out_valid_o && !d.out_ready_i;
    prev_out = got;

    if (d.cmd_valid_i && d.cmd_ready_o) {
      res.cycles[next_cmd].cmd = cycle;
      ++next_cmd;
      cmd_on = false;
    }
    if (d.in_valid_i && d.in_ready_o) {
      const Beat& b = beats[next_beat];
      BnChannelCycles& cc = res.cycles[b.ch];
      if (b.ch >= static_cast<int>(next_cmd)) fail("input beat taken before its command");
      const bool first = b.first == 0, last = b.first + kBnLanes >= chans[b.ch].n;
      if (b.pass == 1) {
        if (first) cc.first_pass1 = cycle;
        if (last) cc.last_pass1 = cycle;
      } else {
        if (b.ch >= static_cast<int>(next_stat)) fail("pass-2 beat taken before the statistics beat");
        if (first) cc.first_pass2 = cycle;
        if (last) cc.last_pass2 = cycle;
        inflight.push_back(cycle);
      }
      ++next_beat;
      in_on = false;
    }
    if (d.stat_valid_o && next_stat < chans.size() && res.cycles[next_stat].stat_offered == 0)
      res.cycles[next_stat].stat_offered = cycle;
    if (d.stat_valid_o && d.stat_ready_i) {
      if (next_stat >= chans.size() || next_stat >= next_cmd) {
        fail("statistics beat without a command");
        break;
      }
      const BnChannel& ch = chans[next_stat];
      const BnStat& e = ch.stat;
      res.cycles[next_stat].stat = cycle;
      bool ok = st.recip == e.recip && st.shift == e.shift && st.sigma == e.sigma;
      if (ch.mode != kBnBackward) ok = ok && st.mean == e.mean && st.mean_acc == e.mean_acc && st.sigma_acc == e.sigma_acc;
      else ok = ok && st.g_gamma == e.g_gamma && st.g_beta == e.g_beta;
      ++res.stats;
      if (!ok) {
        char buf[512];
        std::snprintf(buf, sizeof buf,
                      "statistics\n  expected mu=%lld sigma'=%lld rho=%lld L=%d mu_acc=%lld sigma_acc=%lld "
                      "G_gamma=%d G_beta=%d\n  rtl      mu=%lld sigma'=%lld rho=%lld L=%d mu_acc=%lld "
                      "sigma_acc=%lld G_gamma=%d G_beta=%d",
                      static_cast<long long>(e.mean), static_cast<long long>(e.sigma), static_cast<long long>(e.recip),
                      e.shift, static_cast<long long>(e.mean_acc), static_cast<long long>(e.sigma_acc), e.g_gamma,
                      e.g_beta, static_cast<long long>(st.mean), static_cast<long long>(st.sigma),
                      static_cast<long long>(st.recip), st.shift, static_cast<long long>(st.mean_acc),
                      static_cast<long long>(st.sigma_acc), st.g_gamma, st.g_beta);
        report(ch, next_stat, buf);
      }
      ++next_stat;
    }
    if (d.out_valid_o && d.out_ready_i) {
      if (next_out >= outs.size() || inflight.empty()) {
        fail("output beat without input (duplicate)");
        break;
      }
      const Beat& b = outs[next_out];
      const BnChannel& ch = chans[b.ch];
      BnChannelCycles& cc = res.cycles[b.ch];
      const uint64_t lat = cycle - inflight.front();
      inflight.pop_front();
      cc.min_latency = std::min(cc.min_latency, lat);
      cc.max_latency = std::max(cc.max_latency, lat);
      cc.last_out = cycle;
      for (int l = 0; l < kBnLanes && b.first + l < ch.n; ++l) {
        const int64_t i = b.first + l;
        ++res.elements;
        char buf[256] = "";
        if (ch.mode == kBnBackward) {
          const int64_t dx = static_cast<int64_t>(got[3 * l + 2]);
          if (dx != ch.dx[i])
            std::snprintf(buf, sizeof buf, "element %lld (lane %d): dy=%d xhat=%d expected dx=%lld, rtl dx=%lld",
                          static_cast<long long>(i), l, ch.data[i], ch.xhat_in[i], static_cast<long long>(ch.dx[i]),
                          static_cast<long long>(dx));
        } else {
          const int16_t xh = static_cast<int16_t>(got[3 * l]);
          const int32_t y = static_cast<int32_t>(got[3 * l + 1]);
          if (xh != ch.xhat[i] || y != ch.y[i])
            std::snprintf(buf, sizeof buf, "element %lld (lane %d): x=%d expected xhat=%d y=%d, rtl xhat=%d y=%d",
                          static_cast<long long>(i), l, ch.data[i], ch.xhat[i], ch.y[i], xh, y);
        }
        if (buf[0]) report(ch, b.ch, buf);
      }
      ++next_out;
    }
    rise();
  }
  // Nothing extra may come out, and the unit returns to idle.
  for (int i = 0; i < 8 && res.protocol_error.empty(); ++i) {
    d.clk_i = 0;
    d.cmd_valid_i = 0;
    d.in_valid_i = 0;
    d.stat_ready_i = 1;
    d.out_ready_i = 1;
    d.eval();
    if (d.out_valid_o) fail("extra output beat (duplicate)");
    if (d.stat_valid_o) fail("extra statistics beat (duplicate)");
    rise();
  }
  if (res.protocol_error.empty() && !d.cmd_ready_o) fail("not idle after the last channel");
  if (res.protocol_error.empty() && next_beat != beats.size()) fail("input beats left over");
  res.total_cycles = cycle;
  d.final();
  if (trace) trace->close();
#if VM_COVERAGE
  static int instance = 0;
  const std::string path = std::string(OCTET_COVERAGE_DIR) + "/bn_l" + std::to_string(kBnLanes) + "_" +
                           std::to_string(getpid()) + "_" + std::to_string(instance++) + ".dat";
  ctx->coveragep()->write(path.c_str());
#endif
  return res;
}

// Runs one chunk; on a failure prints the details and re-runs it with an FST trace.
inline BnResult bn_check(const std::vector<BnChannel>& chans, const BnTiming& timing, uint64_t seed, int64_t chunk) {
  BnResult r = bn_run(chans, timing, seed, chunk);
  if (r.mismatches || !r.protocol_error.empty()) {
    const std::string wave = wave_path("bn_l" + std::to_string(kBnLanes) + "_seed" + std::to_string(seed) + "_chunk" +
                                       std::to_string(chunk));
    bn_run(chans, timing, seed, chunk, wave);
    ADD_FAILURE() << r.mismatches << " mismatches in " << r.elements << " elements and " << r.stats
                  << " statistics beats; first: " << r.first_mismatch
                  << (r.protocol_error.empty() ? "" : "\n  protocol: " + r.protocol_error) << "\n  waveform: " << wave
                  << "\n  replay: OCTET_SEED=" << base_seed();
  }
  return r;
}

}  // namespace octet::tb
