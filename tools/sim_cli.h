// octet-sim's command line (tools/octet_sim.cpp), separated from main so that every input
// check is unit-tested without the SystemC model: options, then a plan that has every
// input file parsed and every output path checked before anything is simulated or written.
#pragma once

#include "golden/input_error.h"
#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "golden/network_desc.h"
#include "model/simulate.h"
#include "model/topology.h"
#include "tools/sim_budget.h"

namespace octet::tools {

struct SimCliArgs {
  std::string network;                  // .net file; empty = the embedded default
  std::string topology;                 // SCALE-Sim CSV instead of a network
  std::string topology_format = "auto"; // conv | gemm | auto
  std::string config;                   // SCALE-Sim .cfg
  std::string array;                    // "RxC", overrides the cfg
  int lanes = 0;                        // lanes of each streaming unit (0: the configuration's)
  std::string energy;                   // energy table override (JSON)
  int batch = 1;
  uint64_t seed = 1;
  int weight_decay_log2 = octet::params::kDefaultWeightDecayLog2;
  int threads = 2;
  bool functional = false, cosim = false, quiet = false;
  std::string schedule = "concurrent";  // serial | concurrent (model/scheduler.h)
  double max_memory_gib = 0;            // 0: default_max_memory_gib() (tools/sim_budget.h)
  std::string json, csv, plot;          // outputs
  std::string trace;                    // Chrome trace-event JSON of the step (model/trace_writer.h)
};

// Registers the options on `app` (CLI11 checks ranges and exclusions).
void add_sim_options(CLI::App& app, SimCliArgs& args);

// A bad input: what() is one line naming the file or option and the field.
class CliError : public InputError {
 public:
  using InputError::InputError;
};

struct SimPlan {
  std::optional<golden::NetworkDesc> network;  // exactly one of network / topology
  std::optional<model::Topology> topology;
  model::SimOptions options;
  std::string python;  // interpreter with matplotlib, when --plot is given
  RunEstimate estimate;  // what the run will cost (checked against the limits)
};

// Parses every input, checks every output path, and estimates the run against its limits. Throws CliError, golden::DescError,
// model::TopologyError or model::EnergyError (each a one-line message) on bad input.
// `embedded_network` is the text of the default network (networks/small_resnet.net).
// `plot_script` is tools/plot_sim_report.py (checked only with --plot).
SimPlan plan_simulation(const SimCliArgs& args, std::string_view embedded_network, const std::string& plot_script);

// "RxC" -> rows, cols in 1..4096; CliError("--array: ...") otherwise.
std::pair<int, int> parse_array_size(const std::string& text);

// The first of /usr/bin/python3, python3 that imports matplotlib; empty if none does.
std::string find_python_with_matplotlib();

// The occupancy plot written beside --plot's: "step.png" -> "step-occupancy.png", drawn by
// tools/plot_sim_trace.py (beside the report's plot script) from the trace.
std::string occupancy_png_path(const std::string& plot);
std::string occupancy_script_path(const std::string& plot_script);

// Runs the plot script on a JSON report; returns a one-line error, or empty on success.
std::string run_plot_script(const std::string& python, const std::string& script, const std::string& json_path,
                            const std::string& png_path);

}  // namespace octet::tools
