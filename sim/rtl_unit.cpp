#include "sim/rtl_unit.h"

#include "model/sim_op.h"
#include "sim/cosim_check.h"

#include <verilated.h>
#include <verilated_fst_sc.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace octet::sim {

namespace {
// Half a clock cycle of SystemC time in timed (waveform) mode.
const sc_core::sc_time kHalfPeriod(1, sc_core::SC_NS);

}  // namespace

bool RtlUnit::in_systemc_thread() {
  const sc_core::sc_process_b* p = sc_core::sc_get_current_process_b();
  return p != nullptr && p->proc_kind() == sc_core::SC_THREAD_PROC_;
}

RtlUnit::RtlUnit(const sc_core::sc_module_name& name) : sc_module(name) {
  // Tracing must be enabled before the verilated models exist (a waveform is only opened
  // on a mismatch, but then for a model that was built long before).
  Verilated::traceEverOn(true);
  SC_THREAD(thread);
}

RtlUnit::~RtlUnit() = default;

void RtlUnit::half_cycle(bool level) {
  clk_.write(level);
  if (timed_) {
    sc_core::wait(kHalfPeriod);
  } else if (in_window_ && level) {
    sc_core::wait(sc_core::SC_ZERO_TIME);  // the edge: the model's eval runs
    sc_core::wait(sc_core::SC_ZERO_TIME);  // its outputs are updated
    if (ahead_) ++ahead_cycles_;  // SystemC time catches up in catch_up()
    else wait_model_cycles(1);     // the rest of the model cycle
  } else {
    sc_core::wait(sc_core::SC_ZERO_TIME);  // signals updated; the model's eval runs
    sc_core::wait(sc_core::SC_ZERO_TIME);  // its outputs are updated
  }
}

void RtlUnit::reset() {
  rst_n_.write(false);
  for (int i = 0; i < 2; ++i) clock_low(), clock_high();
  rst_n_.write(true);
  cycle_ = 0;
}

void RtlUnit::host_time_begin() {
  host_timing_ = true;
  host_since_ = std::chrono::steady_clock::now();
}

void RtlUnit::host_time_end() {
  if (!host_timing_) return;
  host_timing_ = false;
  stats_.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - host_since_).count();
}

void RtlUnit::reset_if_needed() {
  if (!needs_reset_) return;
  reset();
  needs_reset_ = false;
}

void RtlUnit::time_window_begin() {
  if (in_window_) throw std::logic_error(std::string(name()) + ": a timed window inside another");
  in_window_ = true;
  window_start_ = cycle_;
  window_begun_ = sc_core::sc_time_stamp();
}

void RtlUnit::abandon_job() {
  needs_reset_ = true;
  in_window_ = false;
  ahead_ = false;
  ahead_cycles_ = 0;
}

void RtlUnit::wait_model_cycles(int64_t cycles) {
  // The other units run in this wait: not this unit's host time.
  const bool timing = host_timing_;
  if (timing) host_time_end();
  sc_core::wait(model::cycles_to_time(cycles));
  if (timing) host_time_begin();
}

void RtlUnit::catch_up() {
  ahead_ = false;
  if (ahead_cycles_ > 0) wait_model_cycles(ahead_cycles_);
  ahead_cycles_ = 0;
}

void RtlUnit::check_progress(uint64_t limit, const std::string& unit) const {
  if (cycle_ - last_progress_ > limit)
    throw std::runtime_error(unit + " cosim: the operation did not finish (no handshake for " + std::to_string(limit) +
                             " cycles)");
}

int64_t RtlUnit::time_window_end() {
  if (!in_window_) throw std::logic_error(std::string(name()) + ": a timed window ended that was not begun");
  catch_up();
  in_window_ = false;
  const int64_t cycles = static_cast<int64_t>(cycle_ - window_start_);
  // In wave mode every half cycle is 1 ns instead: only the normal run's time is checked.
  if (!timed_ && model::time_to_cycles(sc_core::sc_time_stamp() - window_begun_) != cycles)
    throw std::logic_error(std::string(name()) + ": the timed window's SystemC time differs from its cycles");
  return cycles;
}

void RtlUnit::thread() {
  for (;;) {
    while (pending_ == nullptr) sc_core::wait(start_);
    try {
      (*pending_)();
    } catch (...) {
      error_ = std::current_exception();
    }
    pending_ = nullptr;
  }
}

void RtlUnit::execute(const std::function<void()>& drive) {
  // Only the jobs themselves count towards the unit's speed, not a waveform replay.
  struct Timer {
    RtlUnit& unit;
    bool on;
    ~Timer() {
      if (on) unit.host_time_end();
    }
  } timer{*this, !timed_};
  if (!timed_) host_time_begin();
  // A job that stops (mismatch, timeout) leaves the RTL mid-job: the next one starts from reset.
  struct Stopped {
    RtlUnit& unit;
    int exceptions = std::uncaught_exceptions();
    ~Stopped() {
      if (std::uncaught_exceptions() > exceptions) unit.abandon_job();
    }
  } stopped{*this};
  if (in_systemc_thread()) {
    drive();
    return;
  }
  pending_ = &drive;
  error_ = nullptr;
  // Before the first sc_start() the thread finds the job when it is initialised.
  if (sc_core::sc_get_status() != sc_core::SC_ELABORATION) start_.notify(sc_core::SC_ZERO_TIME);
  sc_core::sc_start();
  if (pending_ != nullptr) {
    pending_ = nullptr;
    throw std::logic_error(std::string(name()) + ": the RTL job did not run to completion");
  }
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
}

void RtlUnit::execute_with_wave(const std::function<void()>& drive, const std::string& path) {
  auto fst = std::make_unique<VerilatedFstSc>();
  if (!trace_) throw std::logic_error(std::string(name()) + ": no verilated model to trace");
  trace_(fst.get());
  fst->open(path.c_str());
  timed_ = true;
  try {
    execute(drive);
  } catch (...) {
    timed_ = false;
    fst->close();
    waves_.push_back(std::move(fst));
    throw;
  }
  timed_ = false;
  fst->close();
  waves_.push_back(std::move(fst));
}

void RtlUnit::mismatch(const std::function<void()>& drive, const std::string& line, const std::string& tag) {
  const std::string path = wave_path(tag);
  std::string note = "; waveform " + path;
  abandon_job();  // the replay starts from reset, and so does the next job
  try {
    execute_with_wave(drive, path);
  } catch (const std::exception& e) {
    note += " (replay: " + std::string(e.what()) + ")";
  }
  needs_reset_ = true;
  throw CosimMismatch(line + note);
}

std::string wave_path(const std::string& name) {
  const char* env = std::getenv("OCTET_COSIM_WAVE_DIR");
  const std::filesystem::path dir = env ? env : OCTET_COSIM_WAVE_DIR;
  std::filesystem::create_directories(dir);
  return (dir / (name + ".fst")).string();
}

}  // namespace octet::sim
