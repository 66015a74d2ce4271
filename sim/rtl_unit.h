// The SystemC side of one Verilator --sc unit: its clock and reset signals and the stepping of
// the clock, shared by the per-unit wrappers (sim/rtl_*.h).
//
// The model calls a backend from a unit's SystemC thread at the moment the operation starts,
// and then occupies the unit for the documented cycles itself (model/unit_module.h). So that
// co-simulation leaves the model's timeline untouched, the RTL is clocked in delta cycles:
// each clock edge is a signal write plus two delta cycles (the verilated model's eval method
// runs in the first, its outputs are visible in the second), all at the current SystemC time.
// The driver counts the RTL's cycles itself. Called from outside any SystemC thread (tests,
// tools), the same driver runs in this module's own thread under sc_start().
//
// For a waveform, a job is replayed in timed mode: each half cycle is 1 ns of SystemC time
// and Verilator's VerilatedFstSc records it (this moves the model's time, so it is only
// done when the run stops on a mismatch).
#pragma once

#include <systemc>

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sim/cosim_check.h"

class VerilatedFstC;

namespace octet::sim {

class RtlUnit : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(RtlUnit);
  explicit RtlUnit(const sc_core::sc_module_name& name);
  ~RtlUnit() override;

  // For the binder of a verilated configuration (sim/rtl_bind.h), called from the wrapper's
  // constructor so that the model is this module's child: the clock and reset it binds, and
  // the model itself with the way to attach it to a waveform.
  sc_core::sc_signal<bool>& clock_signal() { return clk_; }
  sc_core::sc_signal<bool>& reset_signal() { return rst_n_; }
  void adopt_model(std::shared_ptr<sc_core::sc_module> model, std::function<void(VerilatedFstC*)> trace) {
    model_ = std::move(model);
    trace_ = std::move(trace);
  }

  // What this unit's co-simulation has checked and run so far (reports, tests).
  const UnitStats& stats() const { return stats_; }
  void reset_stats() { stats_ = {}; }

 protected:
  // Runs `drive` (which steps the RTL with clock_low()/clock_high()) to completion: in the
  // calling SystemC thread if there is one, else in this module's thread under sc_start().
  void execute(const std::function<void()>& drive);
  // Replays `drive` in timed mode with an FST waveform at `path` (see above).
  void execute_with_wave(const std::function<void()>& drive, const std::string& path);

  // One half of a clock cycle: clk_ takes the level, the inputs written before the call are
  // applied, and on return the RTL's outputs have settled.
  void clock_low() { half_cycle(false); }
  void clock_high() { half_cycle(true); ++cycle_; }
  // Two cycles with rst_n_ low, then high; the cycle counter restarts at 0.
  void reset();
  uint64_t cycle() const { return cycle_; }

  // Stops the run on a value mismatch: replays the job with a waveform named after `tag`
  // and throws CosimMismatch(`line` + the waveform's path).
  [[noreturn]] void mismatch(const std::function<void()>& drive, const std::string& line, const std::string& tag);

  sc_core::sc_signal<bool> clk_{"clk"};
  sc_core::sc_signal<bool> rst_n_{"rst_n"};
  UnitStats stats_;  // jobs, values and cycles are counted by the wrapper; seconds by execute()

 private:
  void half_cycle(bool level);
  void thread();

  std::shared_ptr<sc_core::sc_module> model_;  // the verilated model
  std::function<void(VerilatedFstC*)> trace_;
  uint64_t cycle_ = 0;
  bool timed_ = false;
  std::vector<std::unique_ptr<VerilatedFstC>> waves_;  // registered with the kernel: kept alive
  // The job handed to this module's thread (calls from outside a SystemC thread).
  const std::function<void()>* pending_ = nullptr;
  std::exception_ptr error_;
  sc_core::sc_event start_;
};

// The directory mismatch waveforms are written to (OCTET_COSIM_WAVE_DIR unless overridden
// by the environment variable of the same name), created on demand.
std::string wave_path(const std::string& name);

}  // namespace octet::sim
