#include "sim/rtl_optimizer_unit.h"

#include <verilated_fst_c.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "Vsc_optimizer_unit.h"
#include "sim/port_bits.h"

namespace octet::sim {

namespace {
const char* kind_name(model::OptKind k) {
  switch (k) {
    case model::OptKind::kWeight8: return "weight8";
    case model::OptKind::kBnAffine: return "bn_affine";
    case model::OptKind::kBias: return "bias";
  }
  return "?";
}
}  // namespace

RtlOptimizerUnit::RtlOptimizerUnit(const sc_core::sc_module_name& name)
    : RtlUnit(name), rtl_(std::make_unique<Vsc_optimizer_unit>("rtl")) {
  auto& m = *rtl_;
  m.clk_i(clk_);
  m.rst_ni(rst_n_);
  m.lr_q_i(lr_q_);
  m.kind_i(kind_);
  m.in_valid_i(in_valid_);
  m.in_ready_o(in_ready_);
  m.grad_i(grad_);
  m.mom_i(mom_);
  m.master_i(master_);
  m.out_valid_o(out_valid_);
  m.out_ready_i(out_ready_);
  m.master_o(master_out_);
  m.mom_o(mom_out_);
  m.work_o(work_out_);
}

RtlOptimizerUnit::~RtlOptimizerUnit() = default;

void RtlOptimizerUnit::trace_model(VerilatedFstC* fst) { rtl_->trace(fst, 99); }

model::OptOutcome RtlOptimizerUnit::run(const model::OptJob& job) {
  const int64_t n = job.grad.size();
  if (n < 1 || job.state.master.size() != n || job.state.momentum.size() != n)
    throw std::invalid_argument("optimizer_unit cosim: gradient, master and momentum sizes differ");
  if (job.lr_q < 0 || job.lr_q > 1023) throw std::invalid_argument("optimizer_unit cosim: lr_q outside the 10-bit port");
  const int64_t beats = (n + kOptLanes - 1) / kOptLanes;
  std::vector<int32_t> master(static_cast<size_t>(n)), mom(static_cast<size_t>(n)), work(static_cast<size_t>(n));
  int64_t cycles = -1;
  auto drive = [&] {
    reset();
    lr_q_.write(static_cast<uint32_t>(job.lr_q));
    kind_.write(static_cast<uint32_t>(job.kind));
    out_ready_.write(true);
    std::vector<uint32_t> g(kOptLanes), v(kOptLanes), m(kOptLanes);
    const uint64_t limit = 100 + 2 * static_cast<uint64_t>(beats);
    int64_t in_beat = 0, out_beat = 0;
    uint64_t start = 0;
    for (;;) {
      if (cycle() > limit) throw std::runtime_error("optimizer_unit cosim: the tensor did not finish (timeout)");
      const bool presenting = in_beat < beats;
      in_valid_.write(presenting);
      if (presenting) {
        for (int j = 0; j < kOptLanes; ++j) {  // lanes past n carry zeros
          const int64_t i = in_beat * kOptLanes + j;
          const bool on = i < n;
          g[j] = on ? static_cast<uint32_t>(job.grad.data[i]) : 0;
          v[j] = on ? static_cast<uint32_t>(job.state.momentum.data[i]) : 0;
          m[j] = on ? static_cast<uint32_t>(job.state.master.data[i]) : 0;
        }
        Bus gb, vb, mb;
        write_words(gb, g);
        write_words(vb, v);
        write_words(mb, m);
        grad_.write(gb);
        mom_.write(vb);
        master_.write(mb);
      }
      clock_low();
      if (presenting && in_ready_.read()) {
        if (in_beat == 0) start = cycle();
        ++in_beat;
      }
      if (out_valid_.read()) {
        if (out_beat >= beats) throw std::runtime_error("optimizer_unit cosim: output beat beyond the tensor");
        read_words(master_out_.read(), m);
        read_words(mom_out_.read(), v);
        read_words(work_out_.read(), g);
        for (int j = 0; j < kOptLanes; ++j) {
          const int64_t i = out_beat * kOptLanes + j;
          if (i >= n) break;
          master[i] = static_cast<int32_t>(m[j]);
          mom[i] = static_cast<int32_t>(v[j]);
          work[i] = static_cast<int32_t>(g[j]);
        }
        if (++out_beat == beats) {
          cycles = static_cast<int64_t>(cycle() - start + 1);
          clock_high();
          break;
        }
      }
      clock_high();
    }
    in_valid_.write(false);
    stats_.rtl_cycles += static_cast<int64_t>(cycle());
  };
  execute(drive);

  const model::OptOutcome want = golden_.run(job);
  model::OptOutcome got;
  got.state.master = golden::Tensor<int32_t>(job.state.master.shape, master, want.state.master.exp);
  got.state.momentum = golden::Tensor<int32_t>(job.state.momentum.shape, mom, want.state.momentum.exp);
  got.work = golden::Tensor<int32_t>(want.work.shape, work, want.work.exp);
  got.cycles = cycles;
  ++stats_.jobs;
  const std::string what = std::string(kind_name(job.kind)) + " n=" + std::to_string(n) + " lr_q=" +
                           std::to_string(job.lr_q) + " (job " + std::to_string(stats_.jobs) + ")";
  const std::string tag = "optimizer_unit_job" + std::to_string(stats_.jobs);
  const struct {
    const char* name;
    const golden::Tensor<int32_t>& want;
    const golden::Tensor<int32_t>& got;
  } tensors[] = {{"master", want.state.master, got.state.master},
                 {"momentum", want.state.momentum, got.state.momentum},
                 {"work", want.work, got.work}};
  for (const auto& t : tensors) {
    const int64_t bad = first_difference(t.want.data, t.got.data);
    if (bad >= 0) mismatch(drive, mismatch_line(where, "optimizer_unit", what, t.name, t.want.shape, bad, t.want.data, t.got.data), tag);
  }
  stats_.values += 3 * n;
  return got;
}

}  // namespace octet::sim
