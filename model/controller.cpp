#include "model/controller.h"

#include "model/network_step.h"
#include "model/topology_step.h"

namespace octet::model {

Controller::Controller(const sc_core::sc_module_name& name, Units units) : sc_module(name), u_(units) {
  SC_THREAD(thread);
}

void Controller::post(StepJob job, Ledger* ledger) {
  job_ = std::make_unique<StepJob>(std::move(job));
  ledger_ = ledger;
  job_ev_.notify(sc_core::SC_ZERO_TIME);
}

void Controller::thread() {
  for (;;) {
    while (!job_) sc_core::wait(job_ev_);
    try {
      if (job_->custom)
        job_->custom(u_, *ledger_);
      else if (job_->network)
        run_network_step(u_, *job_, *ledger_);
      else if (job_->topology)
        run_topology_step(u_, *job_, *ledger_);
      else
        run_single_gemm(u_, *job_, *ledger_);
    } catch (...) {
      error_ = std::current_exception();  // rethrown by the caller of sc_start (Accelerator::run)
    }
    job_.reset();
  }
}

}  // namespace octet::model
