// A hardware unit of the transaction-level model: an sc_module whose thread takes
// operations in submission order, waits for their dependencies, occupies the unit for the
// cycles the operation's start() returns (one wait() per operation) and publishes the
// result `after_cycles` later. DRAM traffic of streaming operations goes through the Dram
// module and the operation ends when both the unit and its transfer are done.
#pragma once

#include <systemc>

#include <deque>
#include <string>

#include "model/sim_op.h"

namespace octet::model {

class Dram;

class UnitModule : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(UnitModule);
  // `reorder_window` > 1: serve the first ready operation among the oldest ones (a DMA
  // engine's reordering); 1: strictly in order.
  UnitModule(const sc_core::sc_module_name& name, OpArena& arena, int reorder_window = 1);

  void submit(Op* op);
  void set_dram(Dram* dram) { dram_ = dram; }
  // The track its operations appear on in the timeline (StepReport::timeline).
  void set_track(Unit unit) { track_ = unit; }
  // Cycles the unit was occupied since the last reset (for reports and tests).
  int64_t busy_cycles() const { return busy_; }
  void reset_counters() { busy_ = 0; }

 protected:
  OpArena& arena_;

 private:
  void serve();
  Op* next_ready();
  int reorder_window_;

  std::deque<Op*> queue_;
  sc_core::sc_event wake_;
  Dram* dram_ = nullptr;
  int64_t busy_ = 0;
  Unit track_ = Unit::kCount;
};

// The DRAM channel: a transfer holds it for ceil(bytes / bandwidth) cycles and its data is
// usable `latency` cycles later. Reads and writes share the channel; the DMA serves the
// first transfer whose dependencies are met among the oldest kReorderWindow queued ones.
class Dram : public UnitModule {
 public:
  static constexpr int kReorderWindow = 8;
  Dram(const sc_core::sc_module_name& name, OpArena& arena) : UnitModule(name, arena, kReorderWindow) {}
  void configure(double bytes_per_cycle, int64_t latency) { bytes_per_cycle_ = bytes_per_cycle; latency_ = latency; }
  // Submits a transfer of `bytes` that starts once `deps` are done.
  // `record`, `read` / `write`: what the timeline shows of it (read + write bytes are moved).
  Op* transfer(int record, int64_t read, int64_t write, std::vector<Op*> deps = {}, std::vector<Op*> release_deps = {});
  int64_t bytes_moved() const { return bytes_; }

 private:
  double bytes_per_cycle_ = 16;
  int64_t latency_ = 0;
  int64_t bytes_ = 0;
};

}  // namespace octet::model
