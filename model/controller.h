// The controller: the SystemC thread that takes a job (one training step, a topology's step
// or a single GEMM) and runs it on the units through the Scheduler (model/scheduler.h).
#pragma once

#include <systemc>

#include <exception>
#include <functional>
#include <utility>
#include <memory>
#include <string>
#include <vector>

#include "model/ledger.h"
#include "model/step_job.h"

namespace octet::model {

class Controller : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(Controller);
  Controller(const sc_core::sc_module_name& name, Units units);

  // Sets the job the thread runs at the next sc_start(); the ledger receives the records.
  void post(StepJob job, Ledger* ledger);
  bool busy() const { return job_ != nullptr; }
  // The exception the last job ended with, if any (taken: reset to null).
  std::exception_ptr take_error() { return std::exchange(error_, nullptr); }

 private:
  void thread();

  Units u_;
  std::unique_ptr<StepJob> job_;
  Ledger* ledger_ = nullptr;
  sc_core::sc_event job_ev_;
  std::exception_ptr error_;
};

}  // namespace octet::model
