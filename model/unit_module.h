// A hardware unit of the transaction-level model: an sc_module whose thread takes
// operations in submission order, waits for their dependencies, occupies the unit for the
// cycles the operation's start() returns (one wait() per operation; or, when a co-simulated
// unit's RTL ran in SystemC time inside start(), for the cycles it took there) and publishes
// the result `after_cycles` later. DRAM traffic of streaming operations goes through the Dram
// module (under the unit's name) and the operation ends when both the unit and its transfer
// are done.
#pragma once

#include <systemc>

#include <array>
#include <deque>
#include <string>

#include "model/sim_op.h"

namespace octet::model {

class Dram;

class UnitModule : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(UnitModule);
  UnitModule(const sc_core::sc_module_name& name, OpArena& arena);

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

  std::deque<Op*> queue_;
  sc_core::sc_event wake_;
  Dram* dram_ = nullptr;
  int64_t busy_ = 0;
  Unit track_ = Unit::kCount;
};

// The DRAM channel, shared by every unit that moves data (docs/architecture.md, "Memory
// system"). Each unit has its own request queue (its DMA engine, served in order with a
// reorder window of kReorderWindow transfers: the first one whose dependencies are met among
// the oldest queued). The channel arbitrates between units per burst, round-robin: while k
// units have a transfer in flight each gets every k-th burst, so each moves at 1/k of the
// bandwidth (computed in closed form between arrivals and completions, not burst by burst;
// completion times are rounded up to whole cycles). A transfer alone on the channel holds it
// for ceil(bytes / bandwidth) cycles; its data is usable `latency` cycles after its last
// burst. A transfer's stall_cycles are the cycles it lost to other units' bursts.
class Dram : public sc_core::sc_module {
 public:
  static constexpr int kReorderWindow = 8;
  SC_HAS_PROCESS(Dram);
  Dram(const sc_core::sc_module_name& name, OpArena& arena);
  void configure(double bytes_per_cycle, int64_t latency) {
    bytes_per_cycle_ = bytes_per_cycle;
    latency_ = latency;
  }
  void set_track(Unit) {}
  // Submits a transfer of read + write bytes for unit `source` that starts once `deps` are
  // done and `release_deps` released. `record`, `read` / `write`: what the timeline shows.
  Op* transfer(int record, int64_t read, int64_t write, std::vector<Op*> deps = {}, std::vector<Op*> release_deps = {},
               Unit source = Unit::kSystolicArray);
  int64_t bytes_moved() const { return bytes_; }

 private:
  struct Stream {
    std::deque<Op*> queue;
    Op* active = nullptr;
    double left = 0;  // channel cycles of service the active transfer still needs
  };
  void serve();
  void finish(Stream& s);

  OpArena& arena_;
  std::array<Stream, kNumUnits> streams_;
  sc_core::sc_event wake_;
  double bytes_per_cycle_ = 16;
  int64_t latency_ = 0;
  int64_t bytes_ = 0;
};

}  // namespace octet::model
