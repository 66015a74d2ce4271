// A request to the controller (one training step of a network, of a SCALE-Sim topology, or a
// single GEMM) and the training state functional mode carries through it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "golden/batch_norm.h"
#include "golden/label.h"
#include "golden/network_desc.h"
#include "golden/optimizer.h"
#include "golden/quantizers.h"
#include "model/accel_config.h"
#include "model/gemm_plan.h"
#include "model/ledger.h"
#include "model/scheduler.h"
#include "model/topology.h"
#include "model/units.h"
#include "octet_params.h"

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
  int bn_decay_shift = golden::kBnDecayShift;
  // The batch of the step.
  golden::Tensor<uint8_t> images;
  std::vector<golden::Label> labels;
  int lr_q = 0, gscale_log2 = 0;
};

// The modules a job runs on.
struct Units {
  SystolicArray* array;
  ShiftQuantizer* sq;
  BnUnit* bn;
  OptimizerUnit* opt;
  VectorUnit* vu;
  Dram* dram;
  OpArena* arena;
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
  Schedule schedule = Schedule::kSerial;  // network and topology steps (a single GEMM: one stage)
  // Weight decay W8 * 2^-(7+λ) on every conv / linear weight gradient, added by the
  // shift-quantizer before CQ (docs/numerics.md §7.5); < 0: none.
  int weight_decay_lambda = params::kDefaultWeightDecayLog2;
  std::function<void(const std::string&, int, int)> progress;
  // Or anything else run on the controller's thread with the units (tests: hand-built
  // schedules, simulate_units in model/accelerator.h).
  std::function<void(Units, Ledger&)> custom;
};


}  // namespace octet::model
