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

UnitModule::UnitModule(const sc_core::sc_module_name& name, OpArena& arena) : sc_module(name), arena_(arena) {
  SC_THREAD(serve);
}

void UnitModule::submit(Op* op) {
  op->submitted = sc_core::sc_time_stamp();
  queue_.push_back(op);
  wake_.notify(sc_core::SC_ZERO_TIME);
}

Op* UnitModule::next_ready() {
  while (queue_.empty()) sc_core::wait(wake_);
  Op* op = queue_.front();
  queue_.pop_front();
  for (const Op* d : op->deps) wait_done(d);
  for (const Op* d : op->release_deps) wait_released(d);
  return op;
}

void UnitModule::serve() {
  for (;;) {
    Op* op = next_ready();
    op->started = sc_core::sc_time_stamp();
    Op* transfer = nullptr;
    if (op->dram_bytes > 0 && dram_ != nullptr) {
      // The op's own DRAM traffic, from its start; its read / write split when the issuer gave it.
      const int64_t rd = op->span.read_bytes + op->span.write_bytes == op->dram_bytes ? op->span.read_bytes : op->dram_bytes;
      transfer = dram_->transfer(op->span.record, rd, op->dram_bytes - rd, {}, {}, track_);
    }
    try {
      op->busy_cycles = op->start ? op->start() : 0;
    } catch (...) {
      if (!arena_.error) arena_.error = std::current_exception();
      op->busy_cycles = 0;
    }
    // A unit co-simulated in SystemC time (sim/rtl_unit.h) spent the RTL's cycles inside
    // start(): those are the operation's (its formula was compared with them there). In timing
    // mode start() takes no time and the formula's cycles are waited here.
    const int64_t spent = time_to_cycles(sc_core::sc_time_stamp() - op->started);
    if (spent > 0) op->busy_cycles = spent;
    else if (op->busy_cycles > 0) sc_core::wait(cycles_to_time(op->busy_cycles));
    if (transfer) wait_done(transfer);
    const int64_t took = time_to_cycles(sc_core::sc_time_stamp() - op->started);
    op->stall_cycles = took - op->busy_cycles;
    if (transfer) op->contention = std::min(op->stall_cycles, transfer->contention);
    busy_ += took;
    op->finished = true;
    op->released_at = sc_core::sc_time_stamp();
    op->done_at = op->released_at + cycles_to_time(op->after_cycles);
    if (arena_.timeline) {
      op->span.unit = track_;
      op->span.start = time_to_cycles(op->started);
      op->span.busy = op->busy_cycles;
      op->span.wait_after = op->stall_cycles;
      // The part of the wait its transfer lost to other units' bursts on the shared channel.
      op->span.contention = op->contention;
      arena_.timeline->ops.push_back(op->span);
    }
    op->released_ev.notify(sc_core::SC_ZERO_TIME);
    op->done_ev.notify(cycles_to_time(op->after_cycles));
  }
}

Dram::Dram(const sc_core::sc_module_name& name, OpArena& arena) : sc_module(name), arena_(arena) { SC_THREAD(serve); }

Op* Dram::transfer(int record, int64_t read, int64_t write, std::vector<Op*> deps, std::vector<Op*> release_deps,
                   Unit source) {
  const int64_t bytes = read + write;
  Op* t = arena_.make();
  t->span.record = record;
  t->span.read_bytes = read;
  t->span.write_bytes = write;
  t->span.source = source;
  t->span.unit = Unit::kDram;
  t->deps = std::move(deps);
  t->release_deps = std::move(release_deps);
  t->after_cycles = latency_;
  t->start = [this, bytes] {
    bytes_ += bytes;
    return timing::dram_channel_cycles(bytes, bytes_per_cycle_);
  };
  t->submitted = sc_core::sc_time_stamp();
  streams_[static_cast<size_t>(source)].queue.push_back(t);
  wake_.notify(sc_core::SC_ZERO_TIME);
  return t;
}

void Dram::finish(Stream& s) {
  Op* op = s.active;
  s.active = nullptr;
  const int64_t took = time_to_cycles(sc_core::sc_time_stamp() - op->started);
  op->stall_cycles = took - op->busy_cycles;  // bursts the other units had
  op->contention = op->stall_cycles;
  op->finished = true;
  op->released_at = sc_core::sc_time_stamp();
  op->done_at = op->released_at + cycles_to_time(op->after_cycles);
  if (arena_.timeline) {
    op->span.unit = Unit::kDram;
    op->span.start = time_to_cycles(op->started);
    op->span.busy = op->busy_cycles;
    op->span.contention = op->stall_cycles;
    arena_.timeline->ops.push_back(op->span);
  }
  op->released_ev.notify(sc_core::SC_ZERO_TIME);
  op->done_ev.notify(cycles_to_time(op->after_cycles));
}

void Dram::serve() {
  for (;;) {
    // Idle: wait on the one event (a thread left waiting on an event list when the simulation
    // ends leaks the list's storage).
    bool idle = true;
    for (const Stream& s : streams_) idle = idle && !s.active && s.queue.empty();
    if (idle) {
      sc_core::wait(wake_);
      continue;
    }
    // Each idle unit's DMA engine takes its first ready transfer among its oldest queued.
    sc_core::sc_event_or_list any;
    any |= wake_;
    bool have_time = false;
    sc_core::sc_time soonest;
    const sc_core::sc_time now = sc_core::sc_time_stamp();
    int active = 0;
    for (Stream& s : streams_) {
      while (!s.active && !s.queue.empty()) {
        const size_t window = std::min(s.queue.size(), static_cast<size_t>(kReorderWindow));
        bool started = false;
        for (size_t i = 0; i < window && !started; ++i) {
          Op* op = s.queue[i];
          bool timed = false, by_release = false;
          sc_core::sc_time at;
          const Op* b = blocker(op, timed, at, by_release);
          if (b) {
            if (timed) {
              if (!have_time || at < soonest) soonest = at;
              have_time = true;
            } else {
              any |= by_release ? const_cast<Op*>(b)->released_ev : const_cast<Op*>(b)->done_ev;
            }
            continue;
          }
          s.queue.erase(s.queue.begin() + static_cast<std::ptrdiff_t>(i));
          op->started = now;
          try {
            op->busy_cycles = op->start ? op->start() : 0;
          } catch (...) {
            if (!arena_.error) arena_.error = std::current_exception();
            op->busy_cycles = 0;
          }
          s.active = op;
          s.left = static_cast<double>(op->busy_cycles);
          started = true;
        }
        if (!started) break;
        if (s.left <= 0) finish(s);  // an empty transfer: done at once, take the next
      }
      active += s.active != nullptr;
    }
    if (active == 0) {
      if (have_time)
        sc_core::wait(soonest - now, any);
      else
        sc_core::wait(any);
      continue;
    }
    // k units share the channel: the first of them to finish does so after k x its need.
    double least = -1;
    for (const Stream& s : streams_)
      if (s.active && (least < 0 || s.left < least)) least = s.left;
    const auto k = static_cast<double>(active);
    sc_core::sc_time until = cycles_to_time(static_cast<int64_t>(std::ceil(least * k - 1e-9)));
    if (have_time && soonest - now < until) until = soonest - now;
    sc_core::wait(until, any);
    const double served = static_cast<double>(time_to_cycles(sc_core::sc_time_stamp() - now)) / k;
    for (Stream& s : streams_)
      if (s.active) {
        s.left -= served;
        if (s.left <= 1e-9) finish(s);
      }
  }
}

}  // namespace octet::model
