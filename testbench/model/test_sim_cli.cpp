// octet-sim's command line without the model (tools/sim_cli.h): option parsing, every
// input parsed and every output path checked before simulating, and the plot script.
#include <gtest/gtest.h>

#include <filesystem>

#include "model/report_writers.h"
#include "testbench/model/hand_report.h"
#include "testbench/model/temp_dir.h"
#include "tools/default_network.h"
#include "tools/sim_cli.h"

using namespace octet;
using octet::testing::TempDir;
using tools::SimCliArgs;

namespace {

const std::string kRoot = OCTET_SOURCE_DIR;
const std::string kScript = kRoot + "/tools/plot_sim_report.py";

SimCliArgs parse(const std::string& line) {
  CLI::App app;
  SimCliArgs a;
  tools::add_sim_options(app, a);
  app.parse(line, false);
  return a;
}

std::string plan_error(const SimCliArgs& a) {
  try {
    tools::plan_simulation(a, kDefaultNetworkNet, kScript);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(SimCli, DefaultsRunTheEmbeddedSmallResnet) {
  const tools::SimPlan p = tools::plan_simulation(parse(""), kDefaultNetworkNet, kScript);
  ASSERT_TRUE(p.network.has_value());
  EXPECT_FALSE(p.topology.has_value());
  EXPECT_EQ(p.network->name, "small_resnet");
  EXPECT_EQ(p.network->origin, "embedded:networks/small_resnet.net");
  // The embedded text is the shipped file.
  EXPECT_EQ(golden::count_macs_forward(*p.network, 1),
            golden::count_macs_forward(golden::parse_network_file(kRoot + "/networks/small_resnet.net"), 1));
  EXPECT_EQ(p.options.batch, 1);
  EXPECT_EQ(p.options.config.array_rows, 16);
  EXPECT_EQ(p.options.energy.origin, "embedded");
  EXPECT_FALSE(p.options.functional);
  EXPECT_TRUE(p.python.empty());
}

TEST(SimCli, OptionsReachTheSimOptionsAndArrayOverridesConfig) {
  const tools::SimPlan p = tools::plan_simulation(
      parse("--topology " + kRoot + "/topologies/resnet18.csv --config " + kRoot +
            "/topologies/octet16x16.cfg --array 8x4 --batch 3 --seed 9 --threads 1 --cosim"),
      kDefaultNetworkNet, kScript);
  ASSERT_TRUE(p.topology.has_value());
  EXPECT_EQ(p.topology->conv.size(), 21u);
  EXPECT_EQ(p.options.config.name, "octet16x16");
  EXPECT_EQ(p.options.config.array_rows, 8);
  EXPECT_EQ(p.options.config.array_cols, 4);
  EXPECT_EQ(p.options.batch, 3);
  EXPECT_EQ(p.options.seed, 9u);
  EXPECT_EQ(p.options.threads, 1);
  EXPECT_TRUE(p.options.cosim);
  const tools::SimPlan g = tools::plan_simulation(
      parse("--topology " + kRoot + "/topologies/small_resnet_gemm.csv --topology-format gemm --functional=false"),
      kDefaultNetworkNet, kScript);
  EXPECT_EQ(g.topology->gemm.size(), 16u);
}

TEST(SimCli, EnergyOverride) {
  TempDir dir("cli_energy");
  const std::string path = dir.write("e.json", R"({"actions": {"dram_byte": 1.5}})");
  const tools::SimPlan p = tools::plan_simulation(parse("--energy " + path), kDefaultNetworkNet, kScript);
  EXPECT_EQ(p.options.energy[model::Action::kDramByte], 1.5);
  EXPECT_EQ(p.options.energy.origin, path);
}

TEST(SimCli, CommandLineErrors) {
  EXPECT_THROW(parse("--network a.net --topology b.csv"), CLI::ExcludesError);
  EXPECT_THROW(parse("--topology-format gemm"), CLI::RequiresError);
  EXPECT_THROW(parse("--topology b.csv --topology-format fc"), CLI::ValidationError);
  EXPECT_THROW(parse("--batch 0"), CLI::ValidationError);
  EXPECT_THROW(parse("--threads 0"), CLI::ValidationError);
}

TEST(SimCli, ArraySize) {
  EXPECT_EQ(tools::parse_array_size("16x16"), (std::pair<int, int>{16, 16}));
  EXPECT_EQ(tools::parse_array_size("4X8"), (std::pair<int, int>{4, 8}));
  for (const char* bad : {"16", "16x", "x16", "16x16x", "0x4", "4x4097", "a x b", "99999999999x1", " 4x4"}) {
    try {
      tools::parse_array_size(bad);
      ADD_FAILURE() << bad;
    } catch (const tools::CliError& e) {
      EXPECT_EQ(std::string(e.what()),
                std::string("--array: field 'array': '") + bad + "' is not ROWSxCOLS with sides 1..4096 (e.g. 16x16)");
    }
  }
}

TEST(SimCli, BadInputsAreOneLineErrorsNamingFileAndField) {
  TempDir dir("cli_errors");
  const std::string csv = dir.write("t.csv", "Layer name, IFMAP Height\nc1, 8, 8, 3, 3, 4, 4, 0,\n");
  EXPECT_EQ(plan_error(parse("--topology " + csv)), csv + ":2: field 'Strides': must be positive, got 0");
  const std::string good = kRoot + "/topologies/resnet18.csv";
  EXPECT_EQ(plan_error(parse("--topology " + good + " --functional")),
            good + ": field '--functional': values are computed for network descriptions only");
  const std::string cfg = dir.write("a.cfg", "[architecture_presets]\nDataflow = ws\n");
  EXPECT_EQ(plan_error(parse("--config " + cfg)).substr(0, cfg.size() + 26), cfg + ":2: field 'Dataflow': data");
  const std::string net = dir.write("n.net", "network n\ninput x 1x8x8\nlinear fc x\n");
  EXPECT_EQ(plan_error(parse("--network " + net)).substr(0, net.size() + 3), net + ":3:");
  const std::string energy = dir.write("e.json", R"({"actions": {"dram": 1}})");
  EXPECT_EQ(plan_error(parse("--energy " + energy)),
            energy + ": field 'dram': unknown action (docs/energy-model.md lists them)");
  EXPECT_EQ(plan_error(parse("--array 16")),
            "--array: field 'array': '16' is not ROWSxCOLS with sides 1..4096 (e.g. 16x16)");
  const std::string out = dir.file("missing_dir/r.json");
  EXPECT_EQ(plan_error(parse("--json " + out)), out + ": field '--json': cannot write here");
  const std::string out_csv = dir.file("missing_dir/r.csv");
  EXPECT_EQ(plan_error(parse("--csv " + out_csv)), out_csv + ": field '--csv': cannot write here");
  EXPECT_EQ(dir.listing(), "a.cfg e.json n.net t.csv ");  // the checks leave nothing behind
}

TEST(SimCli, OutputChecksLeaveNothingBehind) {
  TempDir dir("cli_outputs");
  tools::plan_simulation(parse("--json " + dir.file("r.json") + " --csv " + dir.file("r.csv")), kDefaultNetworkNet,
                         kScript);
  EXPECT_EQ(dir.listing(), "");
}

// bootstrap.sh installs python3-matplotlib, so the plot is expected to work here.
TEST(PlotScript, WritesAPngFromAJsonReport) {
  const std::string python = tools::find_python_with_matplotlib();
  ASSERT_FALSE(python.empty()) << "python3-matplotlib is missing (tools/bootstrap.sh installs it)";
  TempDir dir("plot");
  model::write_report_json(octet::testing::hand_report(), dir.file("r.json"));
  EXPECT_EQ(tools::run_plot_script(python, kScript, dir.file("r.json"), dir.file("r.png")), "");
  const std::string png = octet::testing::read_file(dir.file("r.png"));
  ASSERT_GT(png.size(), 1000u);
  EXPECT_EQ(png.substr(0, 8), "\x89PNG\r\n\x1a\n");
  EXPECT_EQ(dir.listing().size(), std::string("r.json r.png ").size());
  // A report that is not JSON: the script's one-line error and a non-zero status, no PNG.
  const std::string bad = dir.write("bad.json", "{");
  const std::string err = tools::run_plot_script(python, kScript, bad, dir.file("bad.png"));
  EXPECT_NE(err.find("field '--plot'"), std::string::npos) << err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("bad.png")));
  // With --plot, the plan finds the interpreter.
  EXPECT_EQ(tools::plan_simulation(parse("--plot " + dir.file("p.png")), kDefaultNetworkNet, kScript).python, python);
}
