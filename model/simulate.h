// Entry points of the SystemC accelerator model (docs/architecture.md, "Accelerator model"):
// simulate one full training step of a workload and return the per-layer, per-pass report.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "golden/label.h"
#include "golden/network_desc.h"
#include "model/accel_config.h"
#include "model/energy_table.h"
#include "model/schedule.h"
#include "model/step_report.h"
#include "model/topology.h"
#include "model/unit_backends.h"
#include "octet_params.h"

namespace octet::model {

struct SimOptions {
  AccelConfig config;
  EnergyTable energy = default_energy_table();
  int batch = 1;
  uint64_t seed = 1;
  int threads = 2;          // host threads for the golden kernels (results do not depend on it)
  bool functional = false;  // compute every value (network descriptions only) and check the
                            // end-of-step state against golden::IntNetwork::train_step
  bool cosim = false;       // bind the Verilator-compiled RTL units (sim/) in place of their twins
  bool record_timeline = false;  // fill StepReport::timeline (every operation's span; octet-sim --trace)
  // How a network's step is scheduled (model/scheduler.h). Serial here, so that the library's
  // hand-computed schedules keep their meaning; octet-sim defaults to concurrent. Topologies
  // and single GEMMs always run serially.
  Schedule schedule = Schedule::kSerial;
  // Called as layers complete: (layer name, layers done, layers total).
  std::function<void(const std::string&, int, int)> progress;
  // Added by the model core: the computation behind each unit (null members: the golden
  // reference; sim/ binds the RTL here), and the step's hyper-parameters in functional mode
  // (defaults as golden::SchedulePhase, params.def).
  UnitBackends backends;
  // Functional mode: edits the golden network's initial training state before the step, so a
  // step can start from a chosen state (tests: masters at the optimizer's clamps).
  std::function<void(std::vector<golden::ParamState>&)> edit_initial_state;
  int lr_q = params::kDefaultLrQ;
  int gscale_log2 = params::kDefaultGScaleLog2;
  // Weight decay W8 * 2^-(7+λ) on the conv / linear weight gradients (docs/numerics.md §7.5),
  // timing and values; < 0: none.
  int weight_decay_lambda = params::kDefaultWeightDecayLog2;
};

// A training step of a golden network description (docs/network-format.md).
// In functional mode the batch is synthetic and deterministic in `seed` (functional_batch).
StepReport simulate_network_step(const golden::NetworkDesc& desc, const SimOptions& options);
// A training step of a SCALE-Sim topology: each row is a conv (or GEMM) layer with its three
// training GEMMs and quantization passes; timing and energy only (no values, no BN).
StepReport simulate_topology_step(const Topology& topology, const SimOptions& options);

// One forward GEMM (array terms: Out{M,N} = X{M,D} * Y{D,N}, 1-byte operands, int32 results to
// DRAM) on the configured array, buffers and DRAM: its pass record, and the array's span from
// the first accepted beat to the last result row (the documented cycle formula when the
// operands arrive in time).
struct GemmRun {
  PassRecord record;
  int64_t array_span = 0;
};
GemmRun simulate_gemm(int64_t m, int64_t d, int64_t n, const SimOptions& options);

// The batch a functional run trains on: images uniform in [0, 255] on 2^-8 and labels
// uniform in [0, classes), from counter-based draws keyed by `seed`.
struct FunctionalBatch {
  golden::Tensor<uint8_t> images;
  std::vector<golden::Label> labels;
};
FunctionalBatch functional_batch(const golden::NetworkDesc& desc, int batch, uint64_t seed);

}  // namespace octet::model
