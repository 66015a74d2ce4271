// The accelerator's module hierarchy (docs/architecture.md, "Accelerator model"): the units,
// the DRAM channel and the controller. SystemC elaborates one hierarchy per process, so it is
// built once, on first use, and reconfigured for each run; runs are sequential.
#pragma once

#include <systemc>

#include <memory>

#include "model/controller.h"
#include "model/simulate.h"
#include "model/ledger.h"
#include "model/sram_buffer.h"
#include "model/unit_backends.h"

namespace octet::model {

struct RunChecks {
  int64_t checked = 0, mismatches = 0;
  std::string first_mismatch;  // unit and both cycle counts
  std::vector<std::string> differences;  // each unit's first CycleCheck::kListed
};

class Accelerator : public sc_core::sc_module {
 public:
  Accelerator(const sc_core::sc_module_name& name);

  // Runs one job to completion (sc_start until the controller is idle again).
  RunChecks run(StepJob job, Ledger& ledger, const UnitBackends& backends);

  // The process's hierarchy, elaborated on the first call.
  static Accelerator& instance();

 private:
  OpArena arena_;
  SramBuffer ifmap_spad_, filter_spad_, accum_sram_;
  Dram dram_;
  SystolicArray array_;
  ShiftQuantizer sq_;
  BnUnit bn_;
  OptimizerUnit opt_;
  VectorUnit vu_;
  Controller controller_;
};

// Runs `body` on the controller's thread with the accelerator's units configured from
// `options` (tests: schedules built by hand on the units); the report holds the records
// `body` opened in the ledger, finished with options.energy.
StepReport simulate_units(const std::function<void(Units, Ledger&)>& body, const SimOptions& options);

}  // namespace octet::model
