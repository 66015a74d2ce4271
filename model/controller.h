// The controller: executes the schedule of one training step on the units
// (docs/architecture.md, "Accelerator model", "Schedule"). It runs in its own SystemC thread,
// issues unit operations and DRAM transfers, and waits at the barriers the data needs
// (a tensor's quantization needs the whole tensor; a layer's next pass needs the previous).
#pragma once

#include <systemc>

#include <exception>
#include <functional>
#include <utility>
#include <memory>
#include <string>
#include <vector>

#include "golden/batch_norm.h"
#include "golden/network_desc.h"
#include "model/gemm_plan.h"
#include "octet_params.h"
#include "model/ledger.h"
#include "model/simulate.h"
#include "model/units.h"

namespace octet::model {

// The training state the model carries in functional mode (as golden::IntNetwork's).
struct FunctionalState {
  std::vector<golden::ParamDesc> params;
  std::vector<int> first_param;                 // per node, or -1
  std::vector<golden::ParamState> states;
  std::vector<golden::BnRunning> running;       // per node
  std::vector<golden::Tensor<int8_t>> weight8;  // per parameter (weights)
  std::vector<golden::Tensor<int16_t>> affine;  // per parameter (gamma / beta)
  std::vector<golden::Tensor<int32_t>> bias;    // per parameter (bias)
  uint64_t seed = 0, step = 0;
  int weight_decay_lambda = params::kDefaultWeightDecayLog2, bn_decay_shift = golden::kBnDecayShift;
  // The batch of the step.
  golden::Tensor<uint8_t> images;
  std::vector<golden::Label> labels;
  int lr_q = 0, gscale_log2 = 0;
};

// One request to the controller.
struct StepJob {
  const golden::NetworkDesc* network = nullptr;  // exactly one of network / topology
  const Topology* topology = nullptr;
  const GemmShape* gemm = nullptr;        // or a single forward GEMM (tests, octet-sim --gemm)
  int64_t* gemm_span = nullptr;           // with `gemm`: first beat .. last result of the array
  AccelConfig config;
  int batch = 1;
  FunctionalState* state = nullptr;  // functional mode (network only)
  std::function<void(const std::string&, int, int)> progress;
};

struct Units {
  SystolicArray* array;
  ShiftQuantizer* sq;
  BnUnit* bn;
  OptimizerUnit* opt;
  Dram* dram;
  OpArena* arena;
};

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
  struct Impl;
  void thread();

  Units u_;
  std::unique_ptr<StepJob> job_;
  Ledger* ledger_ = nullptr;
  sc_core::sc_event job_ev_;
  std::exception_ptr error_;
};

}  // namespace octet::model
