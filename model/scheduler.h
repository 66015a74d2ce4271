// Issues the operations of a step to the units (docs/architecture.md, "Schedule of a
// training step"). Today's scheduler is serial: one operation of the step graph at a time,
// each a stage the scheduler waits for to the end before issuing the next; only inside an
// operation (a GEMM's blocks, loads and write-backs) do units overlap.
#pragma once

#include <systemc>

#include <functional>
#include <vector>

#include "model/ledger.h"
#include "model/sim_op.h"
#include "model/step_graph.h"

namespace octet::model {

// One operation of the step as issued to its unit(s): the unit operations to wait for, and
// what follows once they are done (functional mode: the values' post-processing), may be null.
struct Issued {
  std::vector<Op*> ops;
  std::function<void()> then;
};

class Scheduler {
 public:
  Scheduler(Ledger& ledger, OpArena& arena) : ledger_(ledger), arena_(arena) {}

  // Runs `issue` (which submits unit operations), waits for all of them, and charges the
  // elapsed cycles and the streaming operations' DRAM stalls to `record`.
  void stage(int record, const std::function<std::vector<Op*>()>& issue);

  // Opens the graph's records and runs its operations in order, serially: one stage per
  // operation that occupies a unit (bookkeeping operations run at once); `group_done` after
  // each group (progress, freeing values).
  void run(const StepGraph& graph, const std::function<Issued(const StepOp&)>& issue,
           const std::function<void(const StepGroup&)>& group_done);

 private:
  Ledger& ledger_;
  OpArena& arena_;
};

}  // namespace octet::model
