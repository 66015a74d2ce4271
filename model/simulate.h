// Entry points of the SystemC accelerator model (docs/architecture.md, "Accelerator model"):
// simulate one full training step of a workload and return the per-layer, per-pass report.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "golden/network_desc.h"
#include "model/accel_config.h"
#include "model/energy_table.h"
#include "model/step_report.h"
#include "model/topology.h"

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
  // Called as layers complete: (layer name, layers done, layers total).
  std::function<void(const std::string&, int, int)> progress;
};

// A training step of a golden network description (docs/network-format.md).
StepReport simulate_network_step(const golden::NetworkDesc& desc, const SimOptions& options);
// A training step of a SCALE-Sim topology: each row is a conv (or GEMM) layer with its three
// training GEMMs and quantization passes; timing and energy only (no values, no BN).
StepReport simulate_topology_step(const Topology& topology, const SimOptions& options);

}  // namespace octet::model
