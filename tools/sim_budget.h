// What an octet-sim run will cost, estimated before anything is simulated, from the workload,
// the array and the batch alone: the array blocks the controller issues (each is a few
// SystemC operations: time and memory grow with their number), the memory of the run, and in
// functional mode the MACs the golden kernels compute. plan_simulation refuses a run over the
// limits with a one-line error instead of running for minutes and dying with bad_alloc.
#pragma once

#include <cstdint>
#include <string>

#include "tools/cli_common.h"  // default_max_memory_gib

namespace octet::golden {
struct NetworkDesc;
}
namespace octet::model {
struct SimOptions;
struct Topology;
}  // namespace octet::model

namespace octet::tools {

struct RunEstimate {
  int64_t blocks = 0;            // array blocks of every training GEMM of the step
  int64_t memory_bytes = 0;      // estimated peak memory of the run
  int64_t functional_macs = 0;   // MACs the golden kernels compute (functional mode; 0 otherwise)
};

// Bytes of memory per array block in a timing run (measured, tools/sim_budget.cpp), and per
// tensor element and parameter in a functional run (upper bounds).
inline constexpr int64_t kBytesPerBlock = 4 << 10;
inline constexpr int64_t kFunctionalBytesPerElement = 64;
inline constexpr int64_t kFunctionalBytesPerParam = 64;
inline constexpr int64_t kBaseMemoryBytes = int64_t{64} << 20;
// Work bound of functional mode: the golden kernels compute every MAC twice (model and
// reference) at a few GMAC/s, so 2^40 MACs is tens of minutes.
inline constexpr int64_t kMaxFunctionalMacs = int64_t{1} << 40;

// Every product is checked in int64 (CliError naming `origin` and the field when it leaves).
RunEstimate estimate_network_run(const golden::NetworkDesc& net, const model::SimOptions& options);
RunEstimate estimate_topology_run(const model::Topology& topology, const model::SimOptions& options);

// CliError when the run is over the memory limit (--max-memory, GiB) or the functional work bound.
void check_run_budget(const RunEstimate& estimate, double max_memory_gib, const std::string& origin);

}  // namespace octet::tools
