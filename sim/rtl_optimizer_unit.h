// The optimizer backend of the co-simulation: rtl/optimizer_unit.sv verilated with --sc
// at each lane count of the build's list (OCTET_COSIM_LANES), one parameter tensor per job streamed through the three-stage pipeline.
#pragma once

#include <systemc>

#include <cstdint>
#include <functional>
#include <memory>

#include "model/golden_backends.h"
#include "model/unit_backends.h"
#include "sim/cosim_check.h"
#include "sim/rtl_unit.h"
#include "sim/word_signal.h"

namespace octet::sim {

class RtlOptimizerUnit : public RtlUnit, public model::OptimizerBackend {
 public:
  static constexpr unsigned kDataBits = 32;  // octet_pkg::OptDataW
  // The signals between the wrapper and the verilated model; the buses carry Lanes values.
  struct Pins {
    sc_core::sc_signal<uint32_t> lr_q{"lr_q"}, kind{"kind"};
    sc_core::sc_signal<bool> in_valid{"in_valid"}, in_ready{"in_ready"}, out_valid{"out_valid"}, out_ready{"out_ready"};
    std::unique_ptr<WordSignal> grad, mom, master, master_out, mom_out, work_out;
  };
  // `bind` creates the verilated model with this many lanes and binds it (sim/rtl_bind.h).
  RtlOptimizerUnit(const sc_core::sc_module_name& name, int lanes, const std::function<void(RtlOptimizerUnit&)>& bind);
  ~RtlOptimizerUnit() override;
  int lanes() const { return lanes_; }
  Pins& pins() { return pins_; }

  // M', V' and the working copy from the RTL (checked against the golden update); cycles
  // from the first accepted beat to the last output beat, inclusive (documented:
  // ceil(n/L) + 3).
  model::OptOutcome run(const model::OptJob& job) override;

 private:
  int lanes_;
  Pins pins_;
  model::GoldenOptimizerBackend golden_;
};

}  // namespace octet::sim
