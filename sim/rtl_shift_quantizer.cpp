#include "sim/rtl_shift_quantizer.h"

#include <verilated_fst_c.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "Vsc_shift_quantizer.h"
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

RtlShiftQuantizer::RtlShiftQuantizer(const sc_core::sc_module_name& name)
    : RtlUnit(name), rtl_(std::make_unique<Vsc_shift_quantizer>("rtl")) {
  auto& m = *rtl_;
  m.clk_i(clk_);
  m.rst_ni(rst_n_);
  m.cfg_valid_i(cfg_valid_);
  m.cfg_ready_o(cfg_ready_);
  m.cfg_mode_i(cfg_mode_);
  m.cfg_count_i(cfg_count_);
  m.cfg_bits_i(cfg_bits_);
  m.cfg_shift_i(cfg_shift_);
  m.cfg_lo_i(cfg_lo_);
  m.cfg_hi_i(cfg_hi_);
  m.cfg_log2_scale_i(cfg_log2_scale_);
  m.cfg_seed_i(cfg_seed_);
  m.cfg_step_i(cfg_step_);
  m.cfg_tensor_i(cfg_tensor_);
  m.cfg_max_valid_i(cfg_max_valid_);
  m.cfg_max_i(cfg_max_);
  m.in_valid_i(in_valid_);
  m.in_ready_o(in_ready_);
  m.out_valid_o(out_valid_);
  m.out_ready_i(out_ready_);
  m.out_fine_o(out_fine_);
  m.out_keep_o(out_keep_);
  m.out_last_o(out_last_);
  m.out_scale_log2_o(out_scale_log2_);
  m.out_exp_offset_o(out_exp_offset_);
  for (int j = 0; j < kSqLanes; ++j) {
    m.in_data_i[j](in_data_[j]);
    m.out_data_o[j](out_data_[j]);
    m.out_code_o[j](out_code_[j]);
    m.out_rand_o[j](out_rand_[j]);
  }
}

RtlShiftQuantizer::~RtlShiftQuantizer() = default;

void RtlShiftQuantizer::trace_model(VerilatedFstC* fst) { rtl_->trace(fst, 99); }

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

  const int64_t beats = (n + kSqLanes - 1) / kSqLanes;
  // Fused: max |x| comes with the configuration, as the array's drain-path maximum delivers
  // it (that register is checked against golden on every array tile), and pass 1 is skipped.
  const bool fused = job.fused && !direct;
  uint64_t max_abs = 0;
  for (const int64_t v : job.in.data) max_abs = std::max(max_abs, static_cast<uint64_t>(v < 0 ? -v : v));
  const int64_t total_beats = (direct || fused ? 1 : 2) * beats;
  std::vector<int32_t> data;
  int exp_offset = 0;
  int64_t cycles = -1;
  auto drive = [&] {
    reset();
    data.clear();
    data.reserve(static_cast<size_t>(n));
    cfg_mode_.write(static_cast<uint32_t>(job.mode));
    cfg_count_.write(static_cast<uint32_t>(n));
    cfg_bits_.write(static_cast<uint32_t>(job.bits));
    cfg_shift_.write(static_cast<uint32_t>(low_bits(shift, kShiftBits)));
    cfg_lo_.write(static_cast<uint32_t>(job.lo));
    cfg_hi_.write(static_cast<uint32_t>(job.hi));
    cfg_log2_scale_.write(static_cast<uint32_t>(job.cq.log2_scale));
    cfg_seed_.write(seed_for_key(job.cq.key));
    cfg_step_.write(0);
    cfg_tensor_.write(0);
    cfg_max_valid_.write(fused);
    cfg_max_.write(max_abs);
    out_ready_.write(true);
    const uint64_t limit = 100 + 4 * static_cast<uint64_t>(total_beats);
    bool cfg_done = false;
    uint64_t t0 = 0;
    int64_t next_beat = 0, out_beats = 0;
    for (;;) {
      if (cycle() > limit) throw std::runtime_error("shift_quantizer cosim: the tensor did not finish (timeout)");
      cfg_valid_.write(!cfg_done);
      const bool presenting = cfg_done && next_beat < total_beats;
      in_valid_.write(presenting);
      for (int j = 0; j < kSqLanes; ++j) {
        const int64_t i = (next_beat % beats) * kSqLanes + j;
        in_data_[j].write(presenting && i < n ? low_bits(job.in.data[static_cast<size_t>(i)], kInBits) : 0);
      }
      clock_low();
      if (!cfg_done && cfg_ready_.read()) {
        cfg_done = true;
        t0 = cycle();
      }
      if (presenting && in_ready_.read()) ++next_beat;
      if (out_valid_.read()) {
        const int64_t base = out_beats * kSqLanes;
        const int lanes = static_cast<int>(std::min<int64_t>(kSqLanes, n - base));
        if (lanes <= 0) throw std::runtime_error("shift_quantizer cosim: output beat beyond the tensor");
        if (out_keep_.read() != (1u << lanes) - 1)
          throw std::runtime_error("shift_quantizer cosim: wrong lane mask on output beat " + std::to_string(out_beats));
        for (int j = 0; j < lanes; ++j) data.push_back(static_cast<int32_t>(out_data_[j].read()));
        exp_offset = static_cast<int>(sign_extend(out_exp_offset_.read(), kExpBits));
        ++out_beats;
        if (out_last_.read() != (out_beats == beats))
          throw std::runtime_error("shift_quantizer cosim: wrong last flag on output beat " + std::to_string(out_beats - 1));
        if (out_beats == beats) {
          cycles = static_cast<int64_t>(cycle() - t0);
          clock_high();
          break;
        }
      }
      clock_high();
    }
    cfg_valid_.write(false);
    in_valid_.write(false);
    stats_.rtl_cycles += static_cast<int64_t>(cycle());
  };
  execute(drive);

  const model::SqOutcome want = golden_.run(job);
  model::SqOutcome got;
  // CQ's output grid is the job's constant exponent (golden::CqParams::out_exp); the other
  // modes' exponent is the input's plus the offset the RTL reports.
  const int exp = job.mode == model::SqMode::kConstant ? job.cq.out_exp : job.in.exp + exp_offset;
  got.out = golden::Tensor<int32_t>(job.in.shape, std::move(data), exp);
  got.cycles = cycles;
  ++stats_.jobs;
  const std::string what = std::string(mode_name(job.mode)) + " n=" + std::to_string(n) + " (job " +
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
