#include "sim/rtl_bn_unit.h"

#include <verilated_fst_c.h>

#include <stdexcept>
#include <string>

#include "Vsc_bn_unit.h"
#include "golden/activation.h"
#include "sim/port_bits.h"

namespace octet::sim {

namespace {
constexpr int kModeTrain = 0, kModeBackward = 2;  // octet_pkg::bn_mode_e
constexpr unsigned kSigmaBits = 56, kRecipBits = 25, kLogBits = 6, kExpBits = 8, kDecayBits = 6;

// {N, C, H, W} or {N, C}: batch, channels, elements per channel and image.
struct Layout {
  int64_t batch = 0, channels = 0, hw = 1;
  int64_t count() const { return batch * hw; }
  size_t at(int64_t c, int64_t i) const {  // element i of channel c, in the golden's order (n, then h·w)
    return static_cast<size_t>((i / hw * channels + c) * hw + i % hw);
  }
};
Layout layout_of(const golden::Shape& s) {
  if (s.size() != 2 && s.size() != 4) throw std::invalid_argument("bn_unit cosim: x must be {N, C} or {N, C, H, W}");
  return {s[0], s[1], s.size() == 4 ? s[2] * s[3] : 1};
}
}  // namespace

RtlBnUnit::RtlBnUnit(const sc_core::sc_module_name& name) : RtlUnit(name), rtl_(std::make_unique<Vsc_bn_unit>("rtl")) {
  auto& m = *rtl_;
  m.clk_i(clk_);
  m.rst_ni(rst_n_);
  m.cmd_valid_i(cmd_valid_);
  m.cmd_ready_o(cmd_ready_);
  m.cmd_mode_i(cmd_mode_);
  m.cmd_in_shift_i(cmd_in_shift_);
  m.cmd_decay_i(cmd_decay_);
  m.cmd_e1_i(cmd_e1_);
  m.in_valid_i(in_valid_);
  m.in_ready_o(in_ready_);
  m.stat_valid_o(stat_valid_);
  m.stat_ready_i(stat_ready_);
  m.stat_recip_shift_o(stat_recip_shift_);
  m.out_valid_o(out_valid_);
  m.out_ready_i(out_ready_);
  m.cmd_gamma_i(cmd_gamma_);
  m.cmd_beta_i(cmd_beta_);
  m.cmd_count_i(cmd_count_);
  m.stat_recip_o(stat_recip_);
  m.stat_g_gamma_o(stat_g_gamma_);
  m.stat_g_beta_o(stat_g_beta_);
  m.cmd_mean_acc_i(cmd_mean_acc_);
  m.cmd_sigma_acc_i(cmd_sigma_acc_);
  m.cmd_sigma_i(cmd_sigma_);
  m.in_xhat_i(in_xhat_);
  m.stat_mean_o(stat_mean_);
  m.stat_sigma_o(stat_sigma_);
  m.stat_mean_acc_o(stat_mean_acc_);
  m.stat_sigma_acc_o(stat_sigma_acc_);
  m.out_xhat_o(out_xhat_);
  m.in_data_i(in_data_);
  m.out_y_o(out_y_);
  m.out_dx_o(out_dx_);
}

RtlBnUnit::~RtlBnUnit() = default;

void RtlBnUnit::trace_model(VerilatedFstC* fst) { rtl_->trace(fst, 99); }

int64_t RtlBnUnit::run_channels(std::vector<Channel>& chans) {
  reset();
  stat_ready_.write(true);
  out_ready_.write(true);
  const int C = static_cast<int>(chans.size());
  int64_t total_beats = 0;
  for (const Channel& ch : chans) total_beats += 2 * ((ch.n + kBnLanes - 1) / kBnLanes);
  const uint64_t limit = 1000 + 300 * static_cast<uint64_t>(C) + 4 * static_cast<uint64_t>(total_beats);
  std::vector<uint32_t> words32(kBnLanes), words64(2 * kBnLanes);
  int next_cmd = 0, active = -1;
  int phase = 0;  // of the active channel: 1 pass 1, 2 waiting for the statistics beat, 3 pass 2, 4 done
  int64_t in_beat = 0, out_beat = 0, beats = 0;
  uint64_t t0 = 0;
  for (;;) {
    if (cycle() > limit) throw std::runtime_error("bn_unit cosim: the channels did not finish (timeout)");
    const bool all_done = next_cmd == C && (active < 0 || phase == 4);
    // Command of the next channel, presented until the unit (idle again) takes it.
    const bool cmd_on = next_cmd < C;
    cmd_valid_.write(cmd_on);
    if (cmd_on) {
      const Channel& ch = chans[static_cast<size_t>(next_cmd)];
      cmd_mode_.write(static_cast<uint32_t>(ch.mode));
      cmd_count_.write(static_cast<uint32_t>(ch.n));
      cmd_in_shift_.write(static_cast<uint32_t>(ch.in_shift));
      cmd_gamma_.write(static_cast<uint16_t>(ch.gamma));
      cmd_beta_.write(static_cast<uint16_t>(ch.beta));
      cmd_sigma_.write(static_cast<uint64_t>(ch.sigma));
      cmd_mean_acc_.write(static_cast<uint64_t>(ch.mean_acc));
      cmd_sigma_acc_.write(static_cast<uint64_t>(ch.sigma_acc));
      cmd_decay_.write(static_cast<uint32_t>(ch.decay));
      cmd_e1_.write(static_cast<uint32_t>(low_bits(ch.e1, kExpBits)));
    }
    // Element beats of the active channel (pass 1 and pass 2 replay the same beats).
    const bool presenting = active >= 0 && (phase == 1 || phase == 3) && in_beat < beats;
    in_valid_.write(presenting);
    if (presenting) {
      const Channel& ch = chans[static_cast<size_t>(active)];
      uint64_t xh = 0;
      for (int j = 0; j < kBnLanes; ++j) {  // lanes past N carry zeros
        const int64_t i = in_beat * kBnLanes + j;
        words32[j] = i < ch.n ? static_cast<uint32_t>(ch.data[i]) : 0;
        if (ch.mode == kModeBackward && i < ch.n) xh |= static_cast<uint64_t>(static_cast<uint16_t>(ch.xhat[i])) << (16 * j);
      }
      sc_dt::sc_bv<kBnLanes * 32> bv;
      write_words(bv, words32);
      in_data_.write(bv);
      in_xhat_.write(xh);
    }
    clock_low();
    if (all_done && cmd_ready_.read()) return static_cast<int64_t>(cycle() - t0);
    if (cmd_on && cmd_ready_.read()) {
      if (next_cmd == 0) t0 = cycle();
      active = next_cmd++;
      const Channel& ch = chans[static_cast<size_t>(active)];
      beats = (ch.n + kBnLanes - 1) / kBnLanes;
      in_beat = out_beat = 0;
      phase = 1;
    }
    if (active >= 0) {
      Channel& ch = chans[static_cast<size_t>(active)];
      if (presenting && in_ready_.read() && ++in_beat == beats && phase == 1) phase = 2;
      if (stat_valid_.read()) {
        if (phase != 2) throw std::runtime_error("bn_unit cosim: statistics beat outside its phase");
        ch.mean = static_cast<int64_t>(stat_mean_.read());
        ch.sigma_out = static_cast<int64_t>(stat_sigma_.read() & ((uint64_t{1} << kSigmaBits) - 1));
        ch.recip = static_cast<int64_t>(stat_recip_.read() & ((uint32_t{1} << kRecipBits) - 1));
        ch.recip_shift = static_cast<int>(stat_recip_shift_.read() & ((1u << kLogBits) - 1));
        ch.mean_acc_out = static_cast<int64_t>(stat_mean_acc_.read());
        ch.sigma_acc_out = static_cast<int64_t>(stat_sigma_acc_.read());
        ch.g_gamma = static_cast<int32_t>(stat_g_gamma_.read());
        ch.g_beta = static_cast<int32_t>(stat_g_beta_.read());
        phase = 3;
        in_beat = 0;
      }
      if (out_valid_.read()) {
        if (phase != 3 || out_beat >= beats) throw std::runtime_error("bn_unit cosim: output beat outside pass 2");
        const uint64_t xh = out_xhat_.read();
        if (ch.mode == kModeBackward) read_words(out_dx_.read(), words64);
        else read_words(out_y_.read(), words32);
        for (int j = 0; j < kBnLanes; ++j) {
          const int64_t i = out_beat * kBnLanes + j;
          if (i >= ch.n) break;
          if (ch.mode == kModeBackward) {
            ch.dx.push_back(static_cast<int64_t>(get_bits(words64, 64 * j, 64)));
          } else {
            ch.xhat_out.push_back(static_cast<int16_t>(sign_extend(xh >> (16 * j), 16)));
            ch.y.push_back(static_cast<int32_t>(words32[j]));
          }
        }
        if (++out_beat == beats) phase = 4;
      }
    }
    clock_high();
  }
}

model::BnForwardOutcome RtlBnUnit::forward(const model::BnForwardJob& job) {
  const Layout lay = layout_of(job.x.shape);
  const int a = job.x.exp + 15;
  if (a < 0 || a > 15) throw std::invalid_argument("bn_unit cosim: x exponent outside -15 ... 0");
  if (job.decay_shift < 0 || job.decay_shift >= (1 << kDecayBits))
    throw std::invalid_argument("bn_unit cosim: decay shift outside 0 ... 63");
  if (static_cast<int64_t>(job.running.mean_acc.size()) != lay.channels ||
      static_cast<int64_t>(job.running.sigma_acc.size()) != lay.channels)
    throw std::invalid_argument("bn_unit cosim: running accumulators do not match the channel count");
  std::vector<Channel> chans(static_cast<size_t>(lay.channels));
  for (int64_t c = 0; c < lay.channels; ++c) {
    Channel& ch = chans[static_cast<size_t>(c)];
    ch.mode = kModeTrain;
    ch.n = lay.count();
    ch.in_shift = a;
    ch.gamma = job.gamma.data[static_cast<size_t>(c)];
    ch.beta = job.beta.data[static_cast<size_t>(c)];
    ch.mean_acc = job.running.mean_acc[static_cast<size_t>(c)];
    ch.sigma_acc = job.running.sigma_acc[static_cast<size_t>(c)];
    ch.decay = job.decay_shift;
    for (int64_t i = 0; i < ch.n; ++i) ch.data.push_back(job.x.data[lay.at(c, i)]);
  }
  std::vector<Channel> result;
  int64_t cycles = -1;
  auto drive = [&] {
    result = chans;
    cycles = run_channels(result);
    stats_.rtl_cycles += static_cast<int64_t>(cycle());
  };
  execute(drive);

  const model::BnForwardOutcome want = golden_.forward(job);
  model::BnForwardOutcome got;
  got.stats = want.stats;  // count and input shift; the per-channel fields from the RTL below
  got.running = want.running;
  got.xhat = golden::Tensor<int16_t>(job.x.shape, want.xhat.exp);
  got.y = golden::Tensor<int32_t>(job.x.shape, want.y.exp);
  for (int64_t c = 0; c < lay.channels; ++c) {
    const Channel& ch = result[static_cast<size_t>(c)];
    got.stats.mean[c] = ch.mean;
    got.stats.sigma[c] = ch.sigma_out;
    got.stats.recip[c] = ch.recip;
    got.stats.recip_shift[c] = ch.recip_shift;
    got.running.mean_acc[c] = ch.mean_acc_out;
    got.running.sigma_acc[c] = ch.sigma_acc_out;
    for (int64_t i = 0; i < ch.n; ++i) {
      got.xhat.data[lay.at(c, i)] = ch.xhat_out[static_cast<size_t>(i)];
      got.y.data[lay.at(c, i)] = ch.y[static_cast<size_t>(i)];
    }
  }
  golden::ReluForward r = golden::relu_quantize(got.y);
  got.act = std::move(r.a);
  got.mask = std::move(r.mask);
  got.cycles = cycles;
  ++stats_.jobs;
  const std::string what = "forward C=" + std::to_string(lay.channels) + " N=" + std::to_string(lay.count()) +
                           " (job " + std::to_string(stats_.jobs) + ")";
  const std::string tag = "bn_unit_job" + std::to_string(stats_.jobs);
  const golden::Shape per_channel{lay.channels};
  auto check = [&](const char* name, const golden::Shape& shape, const auto& w, const auto& g) {
    const int64_t bad = first_difference(w, g);
    if (bad >= 0) mismatch(drive, mismatch_line(where, "bn_unit", what, name, shape, bad, w, g), tag);
  };
  check("mean", per_channel, want.stats.mean, got.stats.mean);
  check("sigma", per_channel, want.stats.sigma, got.stats.sigma);
  check("recip", per_channel, want.stats.recip, got.stats.recip);
  check("recip_shift", per_channel, want.stats.recip_shift, got.stats.recip_shift);
  check("mean_acc", per_channel, want.running.mean_acc, got.running.mean_acc);
  check("sigma_acc", per_channel, want.running.sigma_acc, got.running.sigma_acc);
  check("xhat", job.x.shape, want.xhat.data, got.xhat.data);
  check("y", job.x.shape, want.y.data, got.y.data);
  stats_.values += 6 * lay.channels + 2 * job.x.size();
  return got;
}

model::BnBackwardOutcome RtlBnUnit::backward(const model::BnBackwardJob& job) {
  const Layout lay = layout_of(job.e1.shape);
  const golden::Tensor<int32_t> dy = golden::relu_backward(job.e1, job.mask);
  std::vector<Channel> chans(static_cast<size_t>(lay.channels));
  for (int64_t c = 0; c < lay.channels; ++c) {
    Channel& ch = chans[static_cast<size_t>(c)];
    ch.mode = kModeBackward;
    ch.n = lay.count();
    ch.e1 = dy.exp;
    ch.gamma = job.gamma.data[static_cast<size_t>(c)];
    ch.sigma = job.stats.sigma[static_cast<size_t>(c)];
    for (int64_t i = 0; i < ch.n; ++i) {
      ch.data.push_back(dy.data[lay.at(c, i)]);
      ch.xhat.push_back(job.xhat.data[lay.at(c, i)]);
    }
  }
  std::vector<Channel> result;
  int64_t cycles = -1;
  auto drive = [&] {
    result = chans;
    cycles = run_channels(result);
    stats_.rtl_cycles += static_cast<int64_t>(cycle());
  };
  execute(drive);

  const model::BnBackwardOutcome want = golden_.backward(job);
  model::BnBackwardOutcome got;
  got.dx = golden::Tensor<int64_t>(job.e1.shape, want.dx.exp);
  got.g_gamma = golden::Tensor<int32_t>({lay.channels}, want.g_gamma.exp);
  got.g_beta = golden::Tensor<int32_t>({lay.channels}, want.g_beta.exp);
  for (int64_t c = 0; c < lay.channels; ++c) {
    const Channel& ch = result[static_cast<size_t>(c)];
    got.g_gamma.data[static_cast<size_t>(c)] = ch.g_gamma;
    got.g_beta.data[static_cast<size_t>(c)] = ch.g_beta;
    for (int64_t i = 0; i < ch.n; ++i) got.dx.data[lay.at(c, i)] = ch.dx[static_cast<size_t>(i)];
  }
  got.cycles = cycles;
  ++stats_.jobs;
  const std::string what = "backward C=" + std::to_string(lay.channels) + " N=" + std::to_string(lay.count()) +
                           " (job " + std::to_string(stats_.jobs) + ")";
  const std::string tag = "bn_unit_job" + std::to_string(stats_.jobs);
  auto check = [&](const char* name, const golden::Shape& shape, const auto& w, const auto& g) {
    const int64_t bad = first_difference(w, g);
    if (bad >= 0) mismatch(drive, mismatch_line(where, "bn_unit", what, name, shape, bad, w, g), tag);
  };
  check("g_gamma", want.g_gamma.shape, want.g_gamma.data, got.g_gamma.data);
  check("g_beta", want.g_beta.shape, want.g_beta.data, got.g_beta.data);
  check("dx", job.e1.shape, want.dx.data, got.dx.data);
  stats_.values += 2 * lay.channels + job.e1.size();
  return got;
}

}  // namespace octet::sim
