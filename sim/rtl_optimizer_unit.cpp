#include "sim/rtl_optimizer_unit.h"

#include <verilated_fst_c.h>

#include <stdexcept>
#include <string>
#include <vector>

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

RtlOptimizerUnit::RtlOptimizerUnit(const sc_core::sc_module_name& name, int lanes,
                                   const std::function<void(RtlOptimizerUnit&)>& bind)
    : RtlUnit(name), lanes_(lanes) {
  bind(*this);
}

RtlOptimizerUnit::~RtlOptimizerUnit() = default;

model::OptOutcome RtlOptimizerUnit::run(const model::OptJob& job) {
  const int64_t n = job.grad.size();
  if (n < 1 || job.state.master.size() != n || job.state.momentum.size() != n)
    throw std::invalid_argument("optimizer_unit cosim: gradient, master and momentum sizes differ");
  if (job.lr_q < 0 || job.lr_q > 1023) throw std::invalid_argument("optimizer_unit cosim: lr_q outside the 10-bit port");
  const int lanes = lanes_;
  const int64_t beats = (n + lanes - 1) / lanes;
  std::vector<int32_t> master(static_cast<size_t>(n)), mom(static_cast<size_t>(n)), work(static_cast<size_t>(n));
  int64_t cycles = -1;
  auto drive = [&] {
    Pins& p = pins_;
    reset_if_needed();
    const uint64_t begin = cycle();
    p.lr_q.write(static_cast<uint32_t>(job.lr_q));
    p.kind.write(static_cast<uint32_t>(job.kind));
    p.out_ready.write(true);
    std::vector<uint32_t> g(lanes), v(lanes), m(lanes);
    const uint64_t limit = 100 + 2 * static_cast<uint64_t>(beats);
    int64_t in_beat = 0, out_beat = 0;
    uint64_t start = 0;
    for (;;) {
      if (cycle() - begin > limit) throw std::runtime_error("optimizer_unit cosim: the tensor did not finish (timeout)");
      const bool presenting = in_beat < beats;
      p.in_valid.write(presenting);
      if (presenting) {
        for (int j = 0; j < lanes; ++j) {  // lanes past n carry zeros
          const int64_t i = in_beat * lanes + j;
          const bool on = i < n;
          g[j] = on ? static_cast<uint32_t>(job.grad.data[i]) : 0;
          v[j] = on ? static_cast<uint32_t>(job.state.momentum.data[i]) : 0;
          m[j] = on ? static_cast<uint32_t>(job.state.master.data[i]) : 0;
        }
        p.grad->write(g);
        p.mom->write(v);
        p.master->write(m);
      }
      clock_low();
      if (presenting && p.in_ready.read()) {
        if (in_beat == 0) {
          start = cycle();
          time_window_begin();  // the job's cycles, first accepted beat .. last output beat, inclusive
        }
        ++in_beat;
      }
      if (p.out_valid.read()) {
        if (out_beat >= beats) throw std::runtime_error("optimizer_unit cosim: output beat beyond the tensor");
        p.master_out->read(m);
        p.mom_out->read(v);
        p.work_out->read(g);
        for (int j = 0; j < lanes; ++j) {
          const int64_t i = out_beat * lanes + j;
          if (i >= n) break;
          master[i] = static_cast<int32_t>(m[j]);
          mom[i] = static_cast<int32_t>(v[j]);
          work[i] = static_cast<int32_t>(g[j]);
        }
        if (++out_beat == beats) {
          cycles = static_cast<int64_t>(cycle() - start + 1);
          clock_high();  // the last output beat's cycle is the job's
          if (time_window_end() != cycles) throw std::logic_error("optimizer_unit cosim: timed window");
          break;
        }
      }
      clock_high();
    }
    p.in_valid.write(false);
    stats_.rtl_cycles += static_cast<int64_t>(cycle() - begin);
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
