// Issues the operations of a step to the units (docs/architecture.md, "Schedule of a
// training step"). Two schedules:
// - serial: one operation of the step graph at a time, each a stage the scheduler waits for
//   to the end before issuing the next; only inside an operation (a GEMM's blocks, loads and
//   write-backs) do units overlap;
// - concurrent: dependency-driven list scheduling. An operation is issued as soon as every
//   operation it depends on (model/step_graph.h: read after write, write after write, write
//   after read) has completed, its unit can take it and the accumulator SRAM has room for
//   what it keeps there; ready operations are taken in graph order. Independent operations
//   then run on different units at once and share the DRAM channel (model/unit_module.h).
#pragma once

#include <systemc>

#include <functional>
#include <vector>

#include "model/ledger.h"
#include "model/schedule.h"
#include "model/sim_op.h"
#include "model/step_graph.h"

namespace octet::model {


// What an operation does with the accumulator SRAM, which holds either a GEMM's
// double-buffered partial sums or tensors handed from a producer to its streaming readers
// ("Tensor residency"), never both: under the concurrent schedule a GEMM that uses the
// halves waits until no handed-over tensor is left, an operation that leaves one waits until
// no such GEMM is in flight and until its bytes fit beside the tensors already there (those
// it reads itself excepted: streaming passes work in place).
struct AccumUse {
  enum Kind : int { kNone, kHalves, kHolds };
  Kind kind = kNone;
  TensorRef tensor;   // kHolds: the tensor left for its readers (released when they are done)
  int64_t bytes = 0;  // kHolds: its bytes at the accumulator width
};

// One operation of the step as issued to its unit(s): the unit operations to wait for, and
// what follows once they are done (functional mode: the values' post-processing), may be null.
struct Issued {
  std::vector<Op*> ops;
  std::function<void()> then;
  // The operation whose release lets the unit take the next operation (concurrent schedule):
  // a streaming unit's operation itself; for the array, its second-to-last block. Null: at once.
  const Op* frees_unit = nullptr;
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

  // Opens the graph's records and runs its operations concurrently (above). `accum` says
  // what an operation will do with the accumulator SRAM (asked before it is issued);
  // `capacity`: the accumulator SRAM's bytes. `group_done` once all of a group's operations
  // have completed (in completion order). Each record's cycles are the step's cycles
  // attributed to it (attribute_cycles), so they add up to the step's makespan.
  void run_concurrent(const StepGraph& graph, const std::function<Issued(const StepOp&)>& issue,
                      const std::function<AccumUse(const StepOp&)>& accum, int64_t capacity,
                      const std::function<void(const StepGroup&)>& group_done);

  // Times the accumulator rule had to be broken to make progress (a ready operation issued
  // although the rule held it back while nothing else was in flight); 0 on the shipped networks.
  int accum_overrides() const { return accum_overrides_; }

 private:
  Ledger& ledger_;
  OpArena& arena_;
  int accum_overrides_ = 0;
};

// Where the cycles of an overlapped step go (concurrent schedule): every cycle from `t0` to
// the last result belongs to exactly one record, the record of the operation that occupies
// the highest-ranked busy unit then (array > shift-quantizer > BN unit > optimizer > DRAM
// channel; among equals the earliest issued). A cycle in which nothing runs (waiting for a
// DRAM latency, say) goes to the next operation to start. Each op is [started, done_at).
struct AttributedSpan {
  int record;
  int64_t start, end;
};
struct TimedOp {
  int record;
  int rank;      // lower wins
  int64_t seq;   // issue order
  int64_t start, end;
};
std::vector<AttributedSpan> attribute_cycles(std::vector<TimedOp> ops, int64_t t0);

}  // namespace octet::model
