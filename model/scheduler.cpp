#include "model/scheduler.h"

namespace octet::model {

void Scheduler::stage(int rec, const std::function<std::vector<Op*>()>& issue) {
  const int64_t t0 = time_to_cycles(sc_core::sc_time_stamp());
  for (Op* op : issue()) {
    wait_done(op);
    ledger_.record(rec).stall_cycles += op->stall_cycles;
  }
  if (arena_.error) std::rethrow_exception(arena_.error);
  const int64_t t1 = time_to_cycles(sc_core::sc_time_stamp());
  ledger_.record(rec).cycles += t1 - t0;
  ledger_.stage(rec, t0, t1);
}

void Scheduler::run(const StepGraph& graph, const std::function<Issued(const StepOp&)>& issue,
                    const std::function<void(const StepGroup&)>& group_done) {
  for (const RecordDesc& r : graph.records) ledger_.open(r.layer, r.kind, r.pass);
  for (const StepGroup& g : graph.groups) {
    for (int k = g.first_op; k < g.end_op; ++k) {
      const StepOp& op = graph.ops[static_cast<size_t>(k)];
      Issued done;
      if (step_op_unit(op.kind) == Unit::kCount)
        done = issue(op);
      else
        stage(op.record, [&] {
          done = issue(op);
          return done.ops;
        });
      if (done.then) done.then();
    }
    if (group_done) group_done(g);
  }
}

}  // namespace octet::model
