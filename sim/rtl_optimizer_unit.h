// The optimizer backend of the co-simulation: rtl/optimizer_unit.sv verilated with --sc
// (4 lanes), one parameter tensor per job streamed through the three-stage pipeline.
#pragma once

#include <systemc>

#include <cstdint>
#include <memory>

#include "model/golden_backends.h"
#include "model/unit_backends.h"
#include "sim/cosim_check.h"
#include "sim/rtl_unit.h"

class Vsc_optimizer_unit;

namespace octet::sim {

inline constexpr int kOptLanes = OCTET_COSIM_LANES;

class RtlOptimizerUnit : public RtlUnit, public model::OptimizerBackend {
 public:
  static constexpr unsigned kDataBits = 32;  // octet_pkg::OptDataW
  explicit RtlOptimizerUnit(const sc_core::sc_module_name& name);
  ~RtlOptimizerUnit() override;

  // M', V' and the working copy from the RTL (checked against the golden update); cycles
  // from the first accepted beat to the last output beat, inclusive (documented:
  // ceil(n/L) + 3).
  model::OptOutcome run(const model::OptJob& job) override;
  const UnitStats& stats() const { return stats_; }
  void reset_stats() { stats_ = {}; }

 private:
  void trace_model(VerilatedFstC* fst) override;
  using Bus = sc_dt::sc_bv<kOptLanes * kDataBits>;

  std::unique_ptr<Vsc_optimizer_unit> rtl_;
  sc_core::sc_signal<uint32_t> lr_q_{"lr_q"}, kind_{"kind"};
  sc_core::sc_signal<bool> in_valid_{"in_valid"}, in_ready_{"in_ready"}, out_valid_{"out_valid"}, out_ready_{"out_ready"};
  sc_core::sc_signal<Bus> grad_{"grad"}, mom_{"mom"}, master_{"master"};
  sc_core::sc_signal<Bus> master_out_{"master_out"}, mom_out_{"mom_out"}, work_out_{"work_out"};

  model::GoldenOptimizerBackend golden_;
  UnitStats stats_;
};

}  // namespace octet::sim
