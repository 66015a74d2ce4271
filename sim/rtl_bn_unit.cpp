#include "sim/rtl_bn_unit.h"

#include <verilated_fst_c.h>

#include <algorithm>
#include <stdexcept>
#include <string>

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

RtlBnUnit::RtlBnUnit(const sc_core::sc_module_name& name, int lanes, const std::function<void(RtlBnUnit&)>& bind)
    : RtlUnit(name), lanes_(lanes) {
  bind(*this);
}

RtlBnUnit::~RtlBnUnit() = default;

int64_t RtlBnUnit::run_channels(std::vector<Channel>& chans) {
  Pins& p = pins_;
  const int L = lanes_;
  reset_if_needed();
  const uint64_t begin = cycle();
  p.stat_ready.write(true);
  p.out_ready.write(true);
  const int C = static_cast<int>(chans.size());
  int64_t total_beats = 0;
  for (const Channel& ch : chans) total_beats += 2 * ((ch.n + L - 1) / L);
  const uint64_t limit = 1000 + 300 * static_cast<uint64_t>(C) + 4 * static_cast<uint64_t>(total_beats);
  std::vector<uint32_t> words32(L), words64(2 * L), words16((L + 1) / 2);
  int next_cmd = 0, active = -1;
  int phase = 0;  // of the active channel: 1 pass 1, 2 waiting for the statistics beat, 3 pass 2, 4 done
  int64_t in_beat = 0, out_beat = 0, beats = 0;
  uint64_t t0 = 0;
  for (;;) {
    if (cycle() - begin > limit) throw std::runtime_error("bn_unit cosim: the channels did not finish (timeout)");
    const bool all_done = next_cmd == C && (active < 0 || phase == 4);
    // Command of the next channel, presented until the unit (idle again) takes it.
    const bool cmd_on = next_cmd < C;
    p.cmd_valid.write(cmd_on);
    if (cmd_on) {
      const Channel& ch = chans[static_cast<size_t>(next_cmd)];
      p.cmd_mode.write(static_cast<uint32_t>(ch.mode));
      p.cmd_count.write(static_cast<uint32_t>(ch.n));
      p.cmd_in_shift.write(static_cast<uint32_t>(ch.in_shift));
      p.cmd_gamma.write(static_cast<uint16_t>(ch.gamma));
      p.cmd_beta.write(static_cast<uint16_t>(ch.beta));
      p.cmd_sigma.write(static_cast<uint64_t>(ch.sigma));
      p.cmd_mean_acc.write(static_cast<uint64_t>(ch.mean_acc));
      p.cmd_sigma_acc.write(static_cast<uint64_t>(ch.sigma_acc));
      p.cmd_decay.write(static_cast<uint32_t>(ch.decay));
      p.cmd_e1.write(static_cast<uint32_t>(low_bits(ch.e1, kExpBits)));
    }
    // Element beats of the active channel (pass 1 and pass 2 replay the same beats).
    const bool presenting = active >= 0 && (phase == 1 || phase == 3) && in_beat < beats;
    p.in_valid.write(presenting);
    if (presenting) {
      const Channel& ch = chans[static_cast<size_t>(active)];
      std::fill(words16.begin(), words16.end(), 0);
      for (int j = 0; j < L; ++j) {  // lanes past N carry zeros
        const int64_t i = in_beat * L + j;
        words32[j] = i < ch.n ? static_cast<uint32_t>(ch.data[i]) : 0;
        if (ch.mode == kModeBackward && i < ch.n)
          put_bits(words16, 16 * static_cast<unsigned>(j), 16, static_cast<uint16_t>(ch.xhat[i]));
      }
      p.in_data->write(words32);
      p.in_xhat->write(words16);
    }
    clock_low();
    if (all_done && p.cmd_ready.read()) {
      const int64_t cycles = static_cast<int64_t>(cycle() - t0);
      if (time_window_end() != cycles) throw std::logic_error("bn_unit cosim: timed window");
      stats_.rtl_cycles += static_cast<int64_t>(cycle() - begin);
      return cycles;
    }
    if (cmd_on && p.cmd_ready.read()) {
      if (next_cmd == 0) {
        t0 = cycle();
        time_window_begin();  // the job's cycles, first command accepted .. the next one accepted
      }
      active = next_cmd++;
      const Channel& ch = chans[static_cast<size_t>(active)];
      beats = (ch.n + L - 1) / L;
      in_beat = out_beat = 0;
      phase = 1;
    }
    if (active >= 0) {
      Channel& ch = chans[static_cast<size_t>(active)];
      if (presenting && p.in_ready.read() && ++in_beat == beats && phase == 1) phase = 2;
      if (p.stat_valid.read()) {
        if (phase != 2) throw std::runtime_error("bn_unit cosim: statistics beat outside its phase");
        ch.mean = static_cast<int64_t>(p.stat_mean.read());
        ch.sigma_out = static_cast<int64_t>(p.stat_sigma.read() & ((uint64_t{1} << kSigmaBits) - 1));
        ch.recip = static_cast<int64_t>(p.stat_recip.read() & ((uint32_t{1} << kRecipBits) - 1));
        ch.recip_shift = static_cast<int>(p.stat_recip_shift.read() & ((1u << kLogBits) - 1));
        ch.mean_acc_out = static_cast<int64_t>(p.stat_mean_acc.read());
        ch.sigma_acc_out = static_cast<int64_t>(p.stat_sigma_acc.read());
        ch.g_gamma = static_cast<int32_t>(p.stat_g_gamma.read());
        ch.g_beta = static_cast<int32_t>(p.stat_g_beta.read());
        phase = 3;
        in_beat = 0;
      }
      if (p.out_valid.read()) {
        if (phase != 3 || out_beat >= beats) throw std::runtime_error("bn_unit cosim: output beat outside pass 2");
        p.out_xhat->read(words16);
        if (ch.mode == kModeBackward) p.out_dx->read(words64);
        else p.out_y->read(words32);
        for (int j = 0; j < L; ++j) {
          const int64_t i = out_beat * L + j;
          if (i >= ch.n) break;
          if (ch.mode == kModeBackward) {
            ch.dx.push_back(static_cast<int64_t>(get_bits(words64, 64 * j, 64)));
          } else {
            ch.xhat_out.push_back(static_cast<int16_t>(sign_extend(get_bits(words16, 16 * static_cast<unsigned>(j), 16), 16)));
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
