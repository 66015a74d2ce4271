#include "model/accelerator.h"

#include <stdexcept>

namespace octet::model {

Accelerator::Accelerator(const sc_core::sc_module_name& name)
    : sc_module(name),
      ifmap_spad_("ifmap_spad"),
      filter_spad_("filter_spad"),
      accum_sram_("accum_sram"),
      dram_("dram", arena_),
      array_("systolic_array", arena_),
      sq_("shift_quantizer", arena_),
      bn_("bn_unit", arena_),
      opt_("optimizer_unit", arena_),
      vu_("vector_unit", arena_),
      controller_("controller", Units{&array_, &sq_, &bn_, &opt_, &vu_, &dram_, &arena_}) {
  array_.set_track(Unit::kSystolicArray);
  sq_.set_track(Unit::kShiftQuantizer);
  bn_.set_track(Unit::kBnUnit);
  opt_.set_track(Unit::kOptimizerUnit);
  vu_.set_track(Unit::kVectorUnit);
  dram_.set_track(Unit::kDram);
  array_.set_dram(&dram_);
  sq_.set_dram(&dram_);
  bn_.set_dram(&dram_);
  opt_.set_dram(&dram_);
  vu_.set_dram(&dram_);
}

Accelerator& Accelerator::instance() {
  static Accelerator* top = new Accelerator("octet_accelerator");  // lives as long as the simulation kernel
  return *top;
}

RunChecks Accelerator::run(StepJob job, Ledger& ledger, const UnitBackends& backends) {
  const AccelConfig& c = job.config;
  if (c.ifmap_sram_kib < 1 || c.filter_sram_kib < 1 || c.accum_sram_kib < 1 || c.sram_banks < 1)
    throw std::invalid_argument("accelerator config: buffer sizes (KiB) and banks must be >= 1");
  if (c.array_rows < 1 || c.array_cols < 1 || c.sq_lanes < 1 || c.bn_lanes < 1 || c.opt_lanes < 1 || c.vector_lanes < 1 ||
      c.dram_bytes_per_cycle <= 0 || c.dram_latency_cycles < 0)
    throw std::invalid_argument("accelerator config: sizes, lanes and DRAM bandwidth must be positive");
  if (c.dataflow != "os") throw std::invalid_argument("accelerator config: only the output-stationary dataflow (os) is modelled");
  arena_.clear();
  arena_.timeline = ledger.timeline();
  ifmap_spad_.configure(c.ifmap_sram_kib, c.sram_banks);
  filter_spad_.configure(c.filter_sram_kib, c.sram_banks);
  accum_sram_.configure(c.accum_sram_kib, c.sram_banks);
  ledger.bind_buffers(&ifmap_spad_, &filter_spad_, &accum_sram_);
  dram_.configure(c.dram_bytes_per_cycle, c.dram_latency_cycles);
  array_.configure(c.array_rows, c.array_cols, &ledger, backends.array.get());
  array_.reset_timing();
  sq_.configure(c.sq_lanes, &ledger, backends.shift_quantizer.get());
  bn_.configure(c.bn_lanes, &ledger, backends.bn.get());
  opt_.configure(c.opt_lanes, &ledger, backends.optimizer.get());
  vu_.configure(c.vector_lanes, &ledger, backends.vector.get());
  array_.check() = {};
  sq_.check() = {};
  bn_.check() = {};
  opt_.check() = {};
  vu_.check() = {};
  controller_.post(std::move(job), &ledger);
  const int64_t t0 = time_to_cycles(sc_core::sc_time_stamp());  // SystemC time goes on across runs
  sc_core::sc_start();
  // The timeline counts from the start of this step.
  for (OpSpan& o : ledger.timeline_data().ops) o.start -= t0;
  for (StageSpan& s : ledger.timeline_data().stages) s.start -= t0, s.end -= t0;
  const bool stuck = controller_.busy();
  std::exception_ptr e = controller_.take_error();
  arena_.clear();
  arena_.timeline = nullptr;
  if (e) std::rethrow_exception(e);
  if (stuck) throw std::logic_error("accelerator model: the controller stopped before the end of the step");
  RunChecks r;
  for (const CycleCheck* k : {&array_.check(), &sq_.check(), &bn_.check(), &opt_.check(), &vu_.check()}) {
    r.checked += k->checked;
    r.mismatches += k->mismatches;
    if (r.first_mismatch.empty()) r.first_mismatch = k->first_mismatch;
    r.differences.insert(r.differences.end(), k->differences.begin(), k->differences.end());
  }
  return r;
}

}  // namespace octet::model
