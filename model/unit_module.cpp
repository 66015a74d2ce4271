#include "model/unit_module.h"

#include "model/unit_timing.h"

#include <algorithm>

namespace octet::model {

void wait_done(const Op* op) {
  using sc_core::sc_time_stamp;
  while (!op->finished || sc_time_stamp() < op->done_at) {
    if (op->finished)
      sc_core::wait(op->done_at - sc_time_stamp());
    else
      sc_core::wait(const_cast<Op*>(op)->done_ev);
  }
}

void wait_released(const Op* op) {
  using sc_core::sc_time_stamp;
  while (!op->finished || sc_time_stamp() < op->released_at) {
    if (op->finished)
      sc_core::wait(op->released_at - sc_time_stamp());
    else
      sc_core::wait(const_cast<Op*>(op)->released_ev);
  }
}

namespace {
// The first dependency of `op` that is not met yet, and the time it will be (if known).
const Op* blocker(const Op* op, bool& timed, sc_core::sc_time& at, bool& by_release) {
  const sc_core::sc_time now = sc_core::sc_time_stamp();
  for (const Op* d : op->deps)
    if (!d->finished || now < d->done_at) {
      timed = d->finished;
      at = d->done_at;
      by_release = false;
      return d;
    }
  for (const Op* d : op->release_deps)
    if (!d->finished || now < d->released_at) {
      timed = d->finished;
      at = d->released_at;
      by_release = true;
      return d;
    }
  return nullptr;
}
}  // namespace

UnitModule::UnitModule(const sc_core::sc_module_name& name, OpArena& arena, int reorder_window)
    : sc_module(name), arena_(arena), reorder_window_(reorder_window) {
  SC_THREAD(serve);
}

void UnitModule::submit(Op* op) {
  op->submitted = sc_core::sc_time_stamp();
  queue_.push_back(op);
  wake_.notify(sc_core::SC_ZERO_TIME);
}

Op* UnitModule::next_ready() {
  for (;;) {
    while (queue_.empty()) sc_core::wait(wake_);
    if (reorder_window_ <= 1) {
      Op* op = queue_.front();
      queue_.pop_front();
      for (const Op* d : op->deps) wait_done(d);
      for (const Op* d : op->release_deps) wait_released(d);
      return op;
    }
    sc_core::sc_event_or_list any;
    any |= wake_;
    bool have_time = false;
    sc_core::sc_time soonest;
    const size_t window = std::min(queue_.size(), static_cast<size_t>(reorder_window_));
    for (size_t i = 0; i < window; ++i) {
      Op* op = queue_[i];
      bool timed = false, by_release = false;
      sc_core::sc_time at;
      const Op* b = blocker(op, timed, at, by_release);
      if (!b) {
        queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(i));
        return op;
      }
      if (timed) {
        if (!have_time || at < soonest) soonest = at;
        have_time = true;
      } else {
        any |= by_release ? const_cast<Op*>(b)->released_ev : const_cast<Op*>(b)->done_ev;
      }
    }
    if (have_time)
      sc_core::wait(soonest - sc_core::sc_time_stamp(), any);
    else
      sc_core::wait(any);
  }
}

void UnitModule::serve() {
  for (;;) {
    Op* op = next_ready();
    op->started = sc_core::sc_time_stamp();
    try {
      op->busy_cycles = op->start ? op->start() : 0;
    } catch (...) {
      if (!arena_.error) arena_.error = std::current_exception();
      op->busy_cycles = 0;
    }
    Op* transfer = nullptr;
    if (op->dram_bytes > 0 && dram_ != nullptr) {
      // The op's own DRAM traffic; its read / write split when the issuer gave it.
      const int64_t rd = op->span.read_bytes + op->span.write_bytes == op->dram_bytes ? op->span.read_bytes : op->dram_bytes;
      transfer = dram_->transfer(op->span.record, rd, op->dram_bytes - rd);
    }
    if (op->busy_cycles > 0) sc_core::wait(cycles_to_time(op->busy_cycles));
    if (transfer) wait_done(transfer);
    const int64_t took = time_to_cycles(sc_core::sc_time_stamp() - op->started);
    op->stall_cycles = took - op->busy_cycles;
    busy_ += took;
    op->finished = true;
    op->released_at = sc_core::sc_time_stamp();
    op->done_at = op->released_at + cycles_to_time(op->after_cycles);
    if (arena_.timeline) {
      op->span.unit = track_;
      op->span.start = time_to_cycles(op->started);
      op->span.busy = op->busy_cycles;
      op->span.wait_after = op->stall_cycles;
      arena_.timeline->ops.push_back(op->span);
    }
    op->released_ev.notify(sc_core::SC_ZERO_TIME);
    op->done_ev.notify(cycles_to_time(op->after_cycles));
  }
}

Op* Dram::transfer(int record, int64_t read, int64_t write, std::vector<Op*> deps, std::vector<Op*> release_deps) {
  const int64_t bytes = read + write;
  Op* t = arena_.make();
  t->span.record = record;
  t->span.read_bytes = read;
  t->span.write_bytes = write;
  t->deps = std::move(deps);
  t->release_deps = std::move(release_deps);
  t->after_cycles = latency_;
  t->start = [this, bytes] {
    bytes_ += bytes;
    return timing::dram_channel_cycles(bytes, bytes_per_cycle_);
  };
  submit(t);
  return t;
}

}  // namespace octet::model
