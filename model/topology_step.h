// The controller's jobs other than a network's step: a SCALE-Sim topology's training step
// (timing only) and a single forward GEMM (docs/architecture.md, "Schedule of a training step").
#pragma once

#include "model/ledger.h"
#include "model/scheduler.h"
#include "model/step_job.h"

namespace octet::model {

void run_topology_step(Units units, StepJob& job, Ledger& ledger);
void run_single_gemm(Units units, StepJob& job, Ledger& ledger);

}  // namespace octet::model
