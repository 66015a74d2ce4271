// One unit operation or memory transfer of the transaction-level model: the units it waits
// for, what it does when it starts, and when its result is usable. A unit's thread serves
// its operations in order, one wait() per operation (model/unit_module.h).
#pragma once

#include <systemc>

#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <vector>

#include "model/step_report.h"

namespace octet::model {

// The model's clock: one cycle is one nanosecond of SystemC time (cycle counts are what is
// reported; the clock frequency only converts them to seconds).
inline sc_core::sc_time cycles_to_time(int64_t cycles) {
  return sc_core::sc_time(static_cast<double>(cycles), sc_core::SC_NS);
}
inline int64_t time_to_cycles(const sc_core::sc_time& t) {
  return static_cast<int64_t>(t.to_seconds() * 1e9 + 0.5);
}

struct Op {
  std::vector<Op*> deps;          // wait until their results are usable
  std::vector<Op*> release_deps;  // wait until their units released them (e.g. a buffer half consumed)
  // Called when the unit starts the operation: computes values (functional mode), counts
  // actions and returns the cycles the unit is occupied.
  std::function<int64_t()> start;
  int64_t after_cycles = 0;   // result usable this long after the unit is released (drain, DRAM latency)
  int64_t dram_bytes = 0;     // a streaming operation's own DRAM traffic (unit waits for it too)
  // Set by the unit.
  bool finished = false;  // the unit released it: released_at and done_at are valid
  sc_core::sc_time submitted, started, released_at, done_at;
  int64_t busy_cycles = 0;    // from start(); the formula's duration
  int64_t stall_cycles = 0;   // cycles beyond busy_cycles the operation took (DRAM)
  // Of the stall, cycles lost to other units' bursts on the shared DRAM channel (a transfer:
  // all of its stall_cycles; a unit: the share of its wait caused by its transfers' losses).
  int64_t contention = 0;
  sc_core::sc_event done_ev, released_ev;
  // What the timeline shows of it (OpSpan): the issuer fills record, bytes and block; the
  // unit fills track, start, busy and waits when it releases the operation.
  OpSpan span;
};

// Owns every operation of a job (pointers stay valid: deque never moves elements).
class OpArena {
 public:
  Op* make() { return &ops_.emplace_back(); }
  void clear() {
    ops_.clear();
    error = nullptr;
  }
  // The first exception an operation's start() threw in this job; the operation still
  // finishes (with no cycles) so that nothing waits forever, and the controller rethrows it.
  std::exception_ptr error;
  // Where units append the spans of finished operations; null: no timeline recorded.
  Timeline* timeline = nullptr;

 private:
  std::deque<Op> ops_;
};

// Blocks the calling SystemC thread until `op`'s result is usable / its unit released it.
void wait_done(const Op* op);
void wait_released(const Op* op);

}  // namespace octet::model
