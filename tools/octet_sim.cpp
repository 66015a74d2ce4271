// octet-sim: simulates one full training step of a network description (default: the
// embedded small ResNet) or a SCALE-Sim topology on the SystemC accelerator model and
// reports cycles, utilisation, memory traffic and energy (terminal table, JSON, CSV, PNG).
// Every input is parsed and every output path checked before simulating (tools/sim_cli.h):
// bad input is one line naming the file and field, exit status 2, nothing written.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include <unistd.h>

#include "golden/data_path.h"
#include "model/report_writers.h"
#include "model/simulate.h"
#include "model/trace_writer.h"
#include "sim/rtl_backends.h"
#include "tools/cli_common.h"
#include "tools/default_network.h"
#include "tools/sim_cli.h"

using namespace octet;

// SystemC's entry points (extern "C" in SystemC's headers): sc_elab_and_sim prints the
// banner, then calls sc_main.
extern "C" int sc_elab_and_sim(int argc, char** argv);
extern "C" int sc_main(int argc, char** argv);

// Our own main replaces libsystemc's only to keep SystemC's banner off stdout, ahead of the
// report (a user's own SYSTEMC_DISABLE_COPYRIGHT_MESSAGE setting wins).
int main(int argc, char** argv) {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
  return sc_elab_and_sim(argc, argv);
}

namespace {

int simulate(const tools::SimCliArgs& args) {
  const std::string plot_script = octet::data_path("tools/plot_sim_report.py");
  // Every input parsed, every output path checked and the run estimated before any work.
  tools::SimPlan plan = tools::plan_simulation(args, kDefaultNetworkNet, plot_script);
  if (plan.options.cosim) {
    // The RTL units compute values: co-simulation runs in functional mode, on a network.
    if (!plan.network)
      throw tools::CliError(fmt::format("{}: field '--cosim': needs a network description (a topology has no values)",
                                        printable(args.topology, 200)));
    plan.options.functional = true;
    try {
      plan.options.backends = sim::make_rtl_backends(plan.options.config);
    } catch (const std::invalid_argument& e) {  // a configuration the verilated units were not built for
      throw tools::CliError(e.what());
    }
  }
  if (!args.quiet) {
    // Progress for long runs only: a ResNet timing step takes milliseconds, a functional or
    // co-simulated one seconds to minutes. At most one line a second (on a terminal: one
    // line rewritten in place), and the last one.
    const bool tty = isatty(STDERR_FILENO);
    auto last = std::chrono::steady_clock::now();
    plan.options.progress = [tty, last](const std::string& layer, int done, int total) mutable {
      const auto now = std::chrono::steady_clock::now();
      if (done != total && now - last < std::chrono::seconds(1)) return;
      last = now;
      fmt::print(stderr, "{}octet-sim: [{}/{}] {}{}", tty ? "\r\033[K" : "", done, total, layer,
                 tty && done != total ? "" : "\n");
    };
  }
  const auto start = std::chrono::steady_clock::now();
  // Anything the simulation throws is an internal error (exit status 1): its inputs are checked.
  model::StepReport report = plan.network ? model::simulate_network_step(*plan.network, plan.options)
                                          : model::simulate_topology_step(*plan.topology, plan.options);
  if (report.wall_seconds == 0)
    report.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (plan.options.cosim) report.cosim_units = sim::cosim_stats();
  if (!args.quiet) fmt::print("{}simulated in {:.2f} s\n", model::report_table_text(report), report.wall_seconds);
  if (!args.quiet && plan.options.cosim)
    fmt::print("co-simulation: RTL cycles equal to the model's on {} of {} unit operations{}\n{}",
               report.cycle_checks - report.cycle_mismatches, report.cycle_checks,
               report.first_cycle_mismatch.empty() ? "" : " (first difference: " + report.first_cycle_mismatch + ")",
               sim::cosim_summary());
  if (!args.quiet && !report.cycle_differences.empty()) {
    fmt::print("operations whose RTL cycles differ from the model's ({} of {}; each unit's first ones):\n",
               report.cycle_mismatches, report.cycle_checks);
    for (const std::string& d : report.cycle_differences) fmt::print("  {}\n", d);
  }
  // Each report is written through a temporary and a rename (never half-written).
  if (!args.json.empty()) model::write_report_json(report, args.json);
  if (!args.csv.empty()) model::write_report_csv(report, args.csv);
  if (!args.trace.empty()) model::write_trace_json(report, args.trace);
  if (!args.plot.empty()) {
    // The script reads the JSON report; without --json it gets a temporary one.
    const std::string json = args.json.empty() ? args.plot + ".report.json.tmp" : args.json;
    if (args.json.empty()) model::write_report_json(report, json);
    const std::string err = tools::run_plot_script(plan.python, plot_script, json, args.plot);
    if (args.json.empty()) std::remove(json.c_str());
    if (!err.empty()) throw std::runtime_error(err);
    // Unit occupancy over time, from the trace (a temporary one without --trace).
    const std::string trace = args.trace.empty() ? args.plot + ".trace.json.tmp" : args.trace;
    if (args.trace.empty()) model::write_trace_json(report, trace);
    const std::string occ = tools::run_plot_script(plan.python, tools::occupancy_script_path(plot_script), trace,
                                                   tools::occupancy_png_path(args.plot));
    if (args.trace.empty()) std::remove(trace.c_str());
    if (!occ.empty()) throw std::runtime_error(occ);
  }
  // A failed check is a failed run (the reports above say where it differs).
  if (!report.functional_mismatch.empty() || report.cycle_mismatches > 0) {
    std::fprintf(stderr, "octet-sim: check failed: %s\n",
                 !report.functional_mismatch.empty() ? report.functional_mismatch.c_str()
                                                     : report.first_cycle_mismatch.c_str());
    return 1;
  }
  return 0;
}

}  // namespace

int sc_main(int argc, char** argv) {
  CLI::App app{"octet-sim: cycles, utilisation, memory traffic and energy of one training step on the Octet accelerator model"};
  tools::SimCliArgs args;
  tools::add_sim_options(app, args);
  tools::add_version_flag(app, "octet-sim");
  if (const auto status = tools::parse_command_line(app, argc, argv, "octet-sim")) return *status;
  return tools::run_guarded("octet-sim", [&] { return simulate(args); });
}
