#include "sim/rtl_shift_quantizer.h"

#include <verilated_fst_c.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "golden/quantizers.h"
#include "sim/port_bits.h"
#include "sim/stream_key_inverse.h"

namespace octet::sim {

namespace {
constexpr unsigned kShiftBits = 8;  // octet_pkg::SqShiftW
constexpr unsigned kExpBits = 10;   // octet_pkg::SqExpW

const char* mode_name(model::SqMode m) {
  switch (m) {
    case model::SqMode::kDirect: return "Q";
    case model::SqMode::kShift: return "SQ";
    case model::SqMode::kConstant: return "CQ";
    case model::SqMode::kFlag: return "E2";
  }
  return "?";
}
}  // namespace

RtlShiftQuantizer::RtlShiftQuantizer(const sc_core::sc_module_name& name, int lanes,
                                     const std::function<void(RtlShiftQuantizer&)>& bind)
    : RtlUnit(name), lanes_(lanes) {
  bind(*this);
}

RtlShiftQuantizer::~RtlShiftQuantizer() = default;

model::SqOutcome RtlShiftQuantizer::run(const model::SqJob& job) {
  const int64_t n = job.in.size();
  if (n < 1 || n > int64_t{0xFFFFFFFF}) throw std::invalid_argument("shift_quantizer cosim: tensor size out of range");
  const int64_t lim = int64_t{1} << (kInBits - 1);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t v = job.in.data[static_cast<size_t>(i)];
    if (v < -lim || v >= lim)
      throw std::invalid_argument("shift_quantizer cosim: input " + std::to_string(v) + " at index " +
                                  std::to_string(i) + " exceeds the verilated unit's " + std::to_string(kInBits) + "-bit input");
  }
  const bool direct = job.mode == model::SqMode::kDirect;
  const int shift = job.in.exp - job.out_exp;
  if (direct && (shift < -128 || shift > 127))
    throw std::invalid_argument("shift_quantizer cosim: Q shift " + std::to_string(shift) + " outside the 8-bit port");

  const int64_t L = lanes_;
  const int64_t beats = (n + L - 1) / L;
  // Fused: max |x| comes with the configuration, as the array's drain-path maximum delivers
  // it (that register is checked against golden on every array tile), and pass 1 is skipped.
  const bool fused = job.fused && !direct;
  const bool decay = job.decay_lambda >= 0;
  if (decay && fused)
    throw std::logic_error("shift_quantizer cosim: a fused job with weight decay (the drain-path maximum does not include it)");
  if (decay && job.decay_w8.shape != job.in.shape)
    throw std::invalid_argument("shift_quantizer cosim: the weight-decay W8 has another shape than the input");
  // The adder's shift, -7 - λ - in.exp, on the 8-bit port: right shifts by 8 or more round
  // every int8 to 0 and left shifts by 48 or more flag every nonzero W8 (sq_addend), so the
  // clamp changes nothing.
  const int decay_shift = decay ? std::clamp(-7 - job.decay_lambda - job.in.exp, -128, 127) : 0;
  const uint64_t max_abs = fused ? golden::tensor_max_magnitude(job.in.data.data(), n) : 0;
  const int64_t total_beats = (direct || fused ? 1 : 2) * beats;
  std::vector<int32_t> data;
  int exp_offset = 0;
  int64_t cycles = -1;
  auto drive = [&] {
    Pins& p = pins_;
    std::vector<uint32_t> keep(static_cast<size_t>((L + 31) / 32));
    std::vector<uint32_t> in_words(static_cast<size_t>((L * kInBits + 31) / 32)), addend_words(static_cast<size_t>((L * 8 + 31) / 32));
    std::vector<uint32_t> out_words(static_cast<size_t>(L));
    reset_if_needed();
    const uint64_t begin = cycle();
    data.clear();
    data.reserve(static_cast<size_t>(n));
    p.cfg_mode.write(static_cast<uint32_t>(job.mode));
    p.cfg_count.write(static_cast<uint32_t>(n));
    p.cfg_bits.write(static_cast<uint32_t>(job.bits));
    p.cfg_shift.write(static_cast<uint32_t>(low_bits(shift, kShiftBits)));
    p.cfg_lo.write(static_cast<uint32_t>(job.lo));
    p.cfg_hi.write(static_cast<uint32_t>(job.hi));
    p.cfg_log2_scale.write(static_cast<uint32_t>(job.cq.log2_scale));
    p.cfg_seed.write(seed_for_key(job.cq.key));
    p.cfg_step.write(0);
    p.cfg_tensor.write(0);
    p.cfg_max_valid.write(fused);
    p.cfg_max.write(max_abs);
    p.cfg_addend_en.write(decay);
    p.cfg_addend_shift.write(static_cast<uint32_t>(low_bits(decay_shift, kShiftBits)));
    p.out_ready.write(true);
    const uint64_t limit = 100 + 4 * static_cast<uint64_t>(total_beats);
    bool cfg_done = false;
    uint64_t t0 = 0;
    int64_t next_beat = 0, out_beats = 0;
    for (;;) {
      if (cycle() - begin > limit) throw std::runtime_error("shift_quantizer cosim: the tensor did not finish (timeout)");
      p.cfg_valid.write(!cfg_done);
      const bool presenting = cfg_done && next_beat < total_beats;
      p.in_valid.write(presenting);
      for (int j = 0; j < L; ++j) {
        const int64_t i = (next_beat % beats) * L + j;
        const auto lane = static_cast<unsigned>(j);
        put_bits(in_words, lane * kInBits, kInBits, presenting && i < n ? low_bits(job.in.data[static_cast<size_t>(i)], kInBits) : 0);
        put_bits(addend_words, lane * 8, 8, presenting && i < n && decay ? low_bits(job.decay_w8.data[static_cast<size_t>(i)], 8) : 0);
      }
      p.in_data->write(in_words);
      p.in_addend->write(addend_words);
      clock_low();
      if (!cfg_done && p.cfg_ready.read()) {
        cfg_done = true;
        t0 = cycle();
        time_window_begin();  // the job's cycles, configuration accepted .. last output beat
      }
      if (presenting && p.in_ready.read()) ++next_beat;
      if (p.out_valid.read()) {
        const int64_t base = out_beats * L;
        const int lanes = static_cast<int>(std::min<int64_t>(L, n - base));
        if (lanes <= 0) throw std::runtime_error("shift_quantizer cosim: output beat beyond the tensor");
        p.out_keep->read(keep);
        bool keep_ok = true;
        for (int j = 0; j < L; ++j) keep_ok &= get_bits(keep, static_cast<unsigned>(j), 1) == (j < lanes ? 1u : 0u);
        if (!keep_ok)
          throw std::runtime_error("shift_quantizer cosim: wrong lane mask on output beat " + std::to_string(out_beats));
        p.out_data->read(out_words);
        for (int j = 0; j < lanes; ++j) data.push_back(static_cast<int32_t>(out_words[static_cast<size_t>(j)]));
        exp_offset = static_cast<int>(sign_extend(p.out_exp_offset.read(), kExpBits));
        ++out_beats;
        if (p.out_last.read() != (out_beats == beats))
          throw std::runtime_error("shift_quantizer cosim: wrong last flag on output beat " + std::to_string(out_beats - 1));
        if (out_beats == beats) {
          cycles = static_cast<int64_t>(cycle() - t0);
          if (time_window_end() != cycles) throw std::logic_error("shift_quantizer cosim: timed window");
          clock_high();
          break;
        }
      }
      clock_high();
    }
    p.cfg_valid.write(false);
    p.in_valid.write(false);
    stats_.rtl_cycles += static_cast<int64_t>(cycle() - begin);
  };
  execute(drive);
  if (pins_.err_overflow.read())
    throw std::runtime_error("shift_quantizer cosim: " + where + ": an input plus its weight-decay term leaves the unit's " +
                             std::to_string(kInBits) + "-bit input (err_overflow_o)");

  const model::SqOutcome want = golden_.run(job);
  model::SqOutcome got;
  // CQ's output grid is the job's constant exponent (golden::CqParams::out_exp); the other
  // modes' exponent is the input's plus the offset the RTL reports.
  const int exp = job.mode == model::SqMode::kConstant ? job.cq.out_exp : job.in.exp + exp_offset;
  got.out = golden::Tensor<int32_t>(job.in.shape, std::move(data), exp);
  got.cycles = cycles;
  ++stats_.jobs;
  const std::string what = std::string(mode_name(job.mode)) + (decay ? " with weight decay" : "") + " n=" + std::to_string(n) + " (job " +
                           std::to_string(stats_.jobs) + ")";
  const std::string tag = "shift_quantizer_job" + std::to_string(stats_.jobs);
  const int64_t bad = first_difference(want.out.data, got.out.data);
  if (bad >= 0) mismatch(drive, mismatch_line(where, "shift_quantizer", what, "out", want.out.shape, bad, want.out.data, got.out.data), tag);
  if (got.out.exp != want.out.exp)
    mismatch(drive, mismatch_prefix(where, "shift_quantizer", what) + "out exponent: golden " +
                        std::to_string(want.out.exp) + ", RTL " + std::to_string(got.out.exp), tag);
  stats_.values += n;
  return got;
}

}  // namespace octet::sim
