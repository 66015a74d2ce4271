// The SystemC side of one Verilator --sc unit: its clock and reset signals and the stepping of
// the clock, shared by the per-unit wrappers (sim/rtl_*.h).
//
// The model calls a backend from a unit's SystemC thread at the moment the operation starts.
// A wrapper clocks its RTL there, in one of two ways per cycle:
//  - in SystemC time, inside the job's timed window (time_window_begin() .. _end()): each
//    rising edge takes one model cycle (cycles_to_time(1)), so the operation occupies the
//    unit for the RTL's own cycles, concurrently with the other units, and the model only
//    waits out what the RTL did not take (model/unit_module.cpp);
//  - in delta cycles, outside the window (the reset, a configuration handshake before the
//    counted span): a signal write plus two delta cycles (the verilated model's eval method
//    runs in the first, its outputs are visible in the second), at the current SystemC time.
// The window spans exactly the cycles the wrapper reports as the job's (its count from the
// first accepted input to the last output, as docs/architecture.md defines per unit), so a
// unit's cycles are SystemC time and the model's formula for them is checked, not used.
// Units keep their state between jobs: a wrapper resets the RTL before its first job and
// after a job that stopped (a mismatch, a timeout), not per job.
// Called from outside any SystemC thread (tests, tools), the same driver runs in this
// module's own thread under sc_start(), and its timed window moves that simulation's time.
//
// For a waveform, a job is replayed from reset in wave mode: each half cycle is 1 ns of
// SystemC time and Verilator's VerilatedFstSc records it (only done when the run stops on a
// mismatch).
#pragma once

#include <systemc>

#include <chrono>
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
  // applied, and on return the RTL's outputs have settled (inside the timed window the rising
  // edge returns one model cycle later).
  void clock_low() { half_cycle(false); }
  void clock_high() { half_cycle(true); ++cycle_; }
  // Two cycles with rst_n_ low, then high, if the unit needs it (before its first job, after
  // a job that stopped); the cycle counter restarts at 0 then.
  void reset_if_needed();
  uint64_t cycle() const { return cycle_; }
  // The job's timed window: from here, each rising edge takes one model cycle of SystemC
  // time, until time_window_end(), which returns the cycles the window took.
  void time_window_begin();
  int64_t time_window_end();
  // Inside the window, the edges may run ahead of SystemC time while nothing outside the
  // unit can change its inputs (temporal decoupling, as TLM-2.0's loosely-timed quantum): each
  // edge in delta cycles, counted; catch_up() then waits the counted cycles at once, so the
  // unit's time is still its RTL's cycles, synchronised where the model can act on it.
  void run_ahead() { ahead_ = true; }
  void catch_up();
  // A job stopped mid-way (a mismatch, a timeout, a protocol error): its window is dropped and
  // the next job starts from reset.
  void abandon_job();
  // Host time spent on this unit's RTL (stats().seconds): counted between begin and end, except
  // the waits of the timed window's edges, in which the other units run. execute() counts its
  // job; a unit with its own clock process counts its busy spans.
  void host_time_begin();
  void host_time_end();
  // A watchdog for jobs whose length no budget bounds well: note_progress() at each handshake;
  // check_progress() stops the job (std::runtime_error naming `unit`) once the RTL has made
  // none for more than `limit` cycles, i.e. hangs.
  void note_progress() { last_progress_ = cycle_; }
  void check_progress(uint64_t limit, const std::string& unit) const;
  // Called from a SystemC thread (the model's unit threads, a clock process), not a test.
  static bool in_systemc_thread();

  // Stops the run on a value mismatch: replays the job with a waveform named after `tag`
  // and throws CosimMismatch(`line` + the waveform's path).
  [[noreturn]] void mismatch(const std::function<void()>& drive, const std::string& line, const std::string& tag);

  sc_core::sc_signal<bool> clk_{"clk"};
  sc_core::sc_signal<bool> rst_n_{"rst_n"};
  UnitStats stats_;  // jobs, values and cycles are counted by the wrapper; seconds by host_time_*

 private:
  void half_cycle(bool level);
  void wait_model_cycles(int64_t cycles);
  void reset();
  void thread();

  std::shared_ptr<sc_core::sc_module> model_;  // the verilated model
  std::function<void(VerilatedFstC*)> trace_;
  uint64_t cycle_ = 0;
  bool timed_ = false;        // wave mode: every half cycle 1 ns
  bool in_window_ = false;    // inside a job's timed window
  bool needs_reset_ = true;   // before the first job and after one that stopped
  uint64_t window_start_ = 0;
  uint64_t last_progress_ = 0;
  bool ahead_ = false;
  int64_t ahead_cycles_ = 0;
  bool host_timing_ = false;
  std::chrono::steady_clock::time_point host_since_;
  sc_core::sc_time window_begun_;
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
