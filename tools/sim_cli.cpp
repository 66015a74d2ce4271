// octet-sim's options and input checks (tools/sim_cli.h).
#include "tools/sim_cli.h"

#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <tuple>

namespace octet::tools {

namespace {

// A path as one shell word.
std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// An output path is usable if its temporary can be created (then removed again), so a run
// that would fail to write its report stops before simulating.
// A directory or a device is refused: the temporary beside it can be created, but the final
// rename would fail after the run (a directory) or replace the device node (run as root).
void check_writable(const std::string& path, const char* option) {
  const std::string shown = printable(path, 200);
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (std::filesystem::is_directory(status)) throw CliError(fmt::format("{}: field '{}': is a directory", shown, option));
  if (std::filesystem::exists(status) && !std::filesystem::is_regular_file(status))
    throw CliError(fmt::format("{}: field '{}': exists and is not a regular file", shown, option));
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) throw CliError(fmt::format("{}: field '{}': cannot write here: {}", shown, option, std::strerror(errno)));
  }
  std::remove(tmp.c_str());
}

}  // namespace

void add_sim_options(CLI::App& app, SimCliArgs& a) {
  auto* net = app.add_option("--network", a.network, "network description (.net); default: embedded small_resnet");
  auto* topo = app.add_option("--topology", a.topology, "SCALE-Sim topology CSV instead of a network");
  net->excludes(topo);
  app.add_option("--topology-format", a.topology_format, "topology format")
      ->check(CLI::IsMember({"conv", "gemm", "auto"}))
      ->capture_default_str()
      ->needs(topo);
  app.add_option("--config", a.config, "SCALE-Sim .cfg: ArrayHeight/Width, SRAM sizes, Dataflow, Bandwidth");
  app.add_option("--array", a.array, "array size RxC (overrides --config)");
  app.add_option("--lanes", a.lanes,
                 "lanes of each streaming unit (shift-quantizer, BN, optimizer, vector unit), values per cycle; default 4")
      ->check(CLI::Range(1, 256));
  app.add_option("--batch", a.batch, "samples per training step")->capture_default_str()->check(CLI::Range(1, 4096));
  app.add_option("--energy", a.energy, "energy table JSON overriding actions of the embedded one");
  app.add_option("--schedule", a.schedule,
                 "how the step's operations are issued: concurrent (each as soon as its inputs are final and its "
                 "unit is free; units overlap and share the DRAM channel) or serial (one operation at a time)")
      ->check(CLI::IsMember({"serial", "concurrent"}))
      ->capture_default_str();
  app.add_flag("--functional", a.functional, "compute every value and check the step against the golden model");
  app.add_flag("--cosim", a.cosim, "bind the Verilator-compiled RTL units in place of their SystemC twins");
  app.add_option("--seed", a.seed, "seed of the initial weights, batch and stochastic rounding")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--weight-decay-log2", a.weight_decay_log2,
                 "weight decay W8 * 2^-(7+λ) on the weight gradients, added on the shift-quantizer's input (-1: off)")
      ->check(CLI::Range(-1, 30))
      ->capture_default_str();
  app.add_option("--threads", a.threads, "host threads for the golden kernels")->capture_default_str()->check(CLI::Range(1, 256));
  app.add_option("--json", a.json, "write the report as JSON");
  app.add_option("--csv", a.csv, "write the report as CSV (one row per layer and pass)");
  app.add_option("--plot", a.plot, "write a PNG of cycles and energy per layer (python3-matplotlib)");
  app.add_option("--trace", a.trace,
                 "write the step's timeline as Chrome trace-event JSON (Perfetto, chrome://tracing): one track per "
                 "unit and for the DRAM channel; time axis in cycles");
  app.add_flag("--quiet", a.quiet, "no progress lines and no table on the terminal");
  app.add_option("--max-memory", a.max_memory_gib,
                 fmt::format("refuse a run estimated to need more memory than this many GiB (default: half the "
                             "physical memory, {:.1f})", default_max_memory_gib()))
      ->check(CLI::Range(0.001, 1e6));
}

std::pair<int, int> parse_array_size(const std::string& text) {
  const auto bad = [&text] {
    return CliError(fmt::format("--array: field 'array': '{}' is not ROWSxCOLS with sides 1..4096 (e.g. 16x16)", printable(text)));
  };
  const size_t x = text.find_first_of("xX");
  if (x == std::string::npos) throw bad();
  int rows = 0, cols = 0;
  const char* end = text.data() + text.size();
  const auto r = std::from_chars(text.data(), text.data() + x, rows);
  const auto c = std::from_chars(text.data() + x + 1, end, cols);
  if (r.ec != std::errc{} || r.ptr != text.data() + x || c.ec != std::errc{} || c.ptr != end) throw bad();
  if (rows < 1 || cols < 1 || rows > 4096 || cols > 4096) throw bad();
  return {rows, cols};
}

SimPlan plan_simulation(const SimCliArgs& a, std::string_view embedded_network, const std::string& plot_script) {
  SimPlan plan;
  if (!a.topology.empty()) {
    if (a.functional)
      throw CliError(fmt::format("{}: field '--functional': values are computed for network descriptions only",
                                 printable(a.topology, 200)));
    plan.topology = model::parse_scalesim_topology(a.topology, a.topology_format);
  } else if (!a.network.empty()) {
    plan.network = golden::parse_network_file(a.network);
  } else {
    plan.network = golden::parse_network_text(std::string(embedded_network), "embedded:networks/small_resnet.net");
  }
  model::SimOptions& o = plan.options;
  if (!a.config.empty()) o.config = model::parse_scalesim_cfg(a.config, o.config);
  if (!a.array.empty()) std::tie(o.config.array_rows, o.config.array_cols) = parse_array_size(a.array);
  if (a.lanes > 0) o.config.sq_lanes = o.config.bn_lanes = o.config.opt_lanes = o.config.vector_lanes = a.lanes;
  if (!a.energy.empty()) o.energy = model::load_energy_table(a.energy, o.energy);
  o.batch = a.batch;
  o.seed = a.seed;
  o.weight_decay_lambda = a.weight_decay_log2;
  o.threads = a.threads;
  o.functional = a.functional;
  o.cosim = a.cosim;
  o.schedule = a.schedule == "serial" ? model::Schedule::kSerial : model::Schedule::kConcurrent;
  o.record_timeline = !a.trace.empty() || !a.plot.empty();  // --plot also draws the occupancy
  // Before any output check: the estimate uses only the parsed inputs and options.
  model::SimOptions budget_options = o;
  budget_options.functional = o.functional || (o.cosim && plan.network);  // co-simulation computes values
  plan.estimate = plan.network ? estimate_network_run(*plan.network, budget_options)
                               : estimate_topology_run(*plan.topology, budget_options);
  check_run_budget(plan.estimate, a.max_memory_gib > 0 ? a.max_memory_gib : default_max_memory_gib(),
                   plan.network ? plan.network->origin : plan.topology->origin);
  if (!a.json.empty()) check_writable(a.json, "--json");
  if (!a.csv.empty()) check_writable(a.csv, "--csv");
  if (!a.trace.empty()) check_writable(a.trace, "--trace");
  if (!a.plot.empty()) {
    check_writable(a.plot, "--plot");
    check_writable(occupancy_png_path(a.plot), "--plot");
    for (const std::string& script : {plot_script, occupancy_script_path(plot_script)})
      if (!std::ifstream(script)) throw CliError(fmt::format("{}: field '--plot': plot script not found", script));
    plan.python = find_python_with_matplotlib();
    if (plan.python.empty())
      throw CliError(fmt::format("{}: field '--plot': needs python3 with matplotlib (Debian: apt-get install "
                                 "python3-matplotlib); nothing was simulated",
                                 a.plot));
  }
  return plan;
}

std::string occupancy_png_path(const std::string& plot) {
  const bool png = plot.size() > 4 && plot.compare(plot.size() - 4, 4, ".png") == 0;
  return (png ? plot.substr(0, plot.size() - 4) : plot) + "-occupancy.png";
}

std::string occupancy_script_path(const std::string& plot_script) {
  return (std::filesystem::path(plot_script).parent_path() / "plot_sim_trace.py").string();
}

std::string find_python_with_matplotlib() {
  for (const char* py : {"/usr/bin/python3", "python3"}) {
    const std::string cmd = fmt::format("{} -c 'import matplotlib' >/dev/null 2>&1", py);
    if (std::system(cmd.c_str()) == 0) return py;
  }
  return {};
}

std::string run_plot_script(const std::string& python, const std::string& script, const std::string& json_path,
                            const std::string& png_path) {
  const std::string cmd = fmt::format("{} {} {} {}", shell_quote(python), shell_quote(script), shell_quote(json_path),
                                      shell_quote(png_path));
  const int rc = std::system(cmd.c_str());
  if (rc != 0) return fmt::format("{}: field '--plot': {} exited with status {}", png_path, script, rc);
  return {};
}

}  // namespace octet::tools
