// octet-sim's command line without the model (tools/sim_cli.h): option parsing, every
// input parsed and every output path checked before simulating, and the plot script.
#include <gtest/gtest.h>

#include <filesystem>

#include <sys/stat.h>

#include "model/report_writers.h"
#include "model/trace_writer.h"
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
  EXPECT_EQ(p.options.weight_decay_lambda, 13);  // as octet-train's default
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
  EXPECT_EQ(tools::plan_simulation(parse("--weight-decay-log2 -1"), kDefaultNetworkNet, kScript).options.weight_decay_lambda, -1);
  EXPECT_EQ(tools::plan_simulation(parse("--weight-decay-log2 7"), kDefaultNetworkNet, kScript).options.weight_decay_lambda, 7);
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
  EXPECT_THROW(parse("--weight-decay-log2 31"), CLI::ValidationError);
  EXPECT_THROW(parse("--weight-decay-log2 -2"), CLI::ValidationError);
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
  EXPECT_EQ(plan_error(parse("--json " + out)), out + ": field '--json': cannot write here: No such file or directory");
  const std::string out_csv = dir.file("missing_dir/r.csv");
  EXPECT_EQ(plan_error(parse("--csv " + out_csv)), out_csv + ": field '--csv': cannot write here: No such file or directory");
  EXPECT_EQ(dir.listing(), "a.cfg e.json n.net t.csv ");  // the checks leave nothing behind
}

// A directory as --json used to pass the check (its temporary beside it could be created) and
// fail after the simulation; a device would be replaced by the rename.
TEST(SimCli, OutputsThatAreDirectoriesOrDevicesAreRefusedBeforeWork) {
  TempDir dir("cli_out_kinds");
  const std::string d = dir.file("");
  EXPECT_EQ(plan_error(parse("--json " + d)), d + ": field '--json': is a directory");
  // A FIFO stands for a device (not /dev/null itself: a regression would replace it, as root).
  const std::string fifo = dir.file("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(plan_error(parse("--csv " + fifo)), fifo + ": field '--csv': exists and is not a regular file");
  EXPECT_EQ(dir.listing(), "fifo ");
}

// --trace is checked like the reports, before any work, and asks the model for the timeline.
TEST(SimCli, TracePathIsCheckedBeforeWorkAndRecordsTheTimeline) {
  TempDir dir("cli_trace");
  const std::string d = dir.file("");
  EXPECT_EQ(plan_error(parse("--trace " + d)), d + ": field '--trace': is a directory");
  const std::string missing = dir.file("missing_dir/t.json");
  EXPECT_EQ(plan_error(parse("--trace " + missing)), missing + ": field '--trace': cannot write here: No such file or directory");
  EXPECT_EQ(dir.listing(), "");
  EXPECT_FALSE(tools::plan_simulation(parse(""), kDefaultNetworkNet, kScript).options.record_timeline);
  EXPECT_TRUE(tools::plan_simulation(parse("--trace " + dir.file("t.json")), kDefaultNetworkNet, kScript).options.record_timeline);
  EXPECT_EQ(dir.listing(), "");
}

// Blocks of the three training GEMMs of one 16384 x 16384 x 4096 GEMM row on the default
// 16x16 array with 256 KiB buffers (hand-computed from model/gemm_plan.cpp; a block holds at
// most 85 tiles of 6-byte sums, 9 x 9 moves the fewest operand bytes in all three):
// forward M = N = 1024 tiles, D = 4096: chunks of 131072 / 144 = 910 beats, 5 chunks,
// 114 x 114 blocks; weight gradient (256 x 1024 tiles, D = 16384: 19 chunks) 29 x 114 blocks;
// data gradient (1024 x 256 tiles, D = 16384) 114 x 29 x 19. The run (about 0.8 GiB at
// 4 KiB per block and 64 MiB besides) is refused under a 0.5 GiB limit before anything is
// simulated, and accepted under 6 GiB.
TEST(SimCli, RunsOverTheMemoryLimitAreRefusedBeforeWork) {
  TempDir dir("cli_budget");
  const std::string csv = dir.write("g.csv", "Layer Name, M, N, K,\nfc, 16384, 16384, 4096,\n");
  const int64_t blocks = 114 * 114 * 5 + 29 * 114 * 19 + 114 * 29 * 19;
  const tools::SimPlan p = tools::plan_simulation(parse("--topology " + csv + " --max-memory 6"), kDefaultNetworkNet, kScript);
  EXPECT_EQ(p.estimate.blocks, blocks);
  EXPECT_EQ(p.estimate.memory_bytes, tools::kBaseMemoryBytes + blocks * tools::kBytesPerBlock);
  EXPECT_EQ(plan_error(parse("--topology " + csv + " --max-memory 0.5 --json " + dir.file("r.json"))),
            csv + ": field '--max-memory': the run needs about 0.8 GiB (190608 array blocks), more than the limit of "
                  "0.5 GiB (raise it with --max-memory, or use a smaller batch or a larger array)");
  EXPECT_EQ(dir.listing(), "g.csv ");
  // The batch multiplies the rows: 64 x 2^31 x 2^31 output pixels leave int64 in the estimate.
  const std::string big = dir.write("b.csv", "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, "
                                             "Channels, Num Filter, Strides,\na, 2147483648, 2147483648, 1, 1, 1, 1, 1,\n");
  EXPECT_EQ(plan_error(parse("--topology " + big + " --batch 64")),
            big + ": field 'MACs': 64 x 4611686018427387904 does not fit in 64 bits");
}

// Functional mode computes every MAC (twice: model and golden reference); a step over 2^40
// MACs is refused. 4096 x 4096 outputs x 64 channels x 9 taps x batch 64 x 6 = 3.7e12.
TEST(SimCli, FunctionalWorkIsBounded) {
  TempDir dir("cli_work");
  const std::string net =
      dir.write("w.net", "network w\ninput x 1x4096x4096\nconv c x out=64 k=3 p=1\nbnrelu a c\nlinear fc a out=2\n");
  const std::string e = plan_error(parse("--network " + net + " --functional --batch 64 --max-memory 100000"));
  EXPECT_EQ(e.rfind(net + ": field '--functional': the step computes ", 0), 0u) << e;
  EXPECT_EQ(tools::plan_simulation(parse("--network " + net + " --batch 64 --max-memory 100000"), kDefaultNetworkNet,
                                   kScript).estimate.functional_macs, 0);
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

// --plot also draws unit occupancy over time from the trace, beside the per-layer plot.
TEST(PlotScript, OccupancyPngFromATrace) {
  EXPECT_EQ(tools::occupancy_png_path("out/step.png"), "out/step-occupancy.png");
  EXPECT_EQ(tools::occupancy_png_path("step"), "step-occupancy.png");
  const std::string script = tools::occupancy_script_path(kScript);
  EXPECT_EQ(script, kRoot + "/tools/plot_sim_trace.py");
  const std::string python = tools::find_python_with_matplotlib();
  ASSERT_FALSE(python.empty()) << "python3-matplotlib is missing (tools/bootstrap.sh installs it)";
  TempDir dir("plot_trace");
  model::StepReport r = octet::testing::hand_report();
  r.timeline.recorded = true;
  r.timeline.stages = {{0, 0, 200}, {1, 200, 600}};
  model::OpSpan a;
  a.record = 0, a.start = 10, a.busy = 150, a.wait_before = 10, a.tiles = 1, a.m_len = a.n_len = a.d_len = 4;
  model::OpSpan d;
  d.unit = model::Unit::kDram, d.record = 1, d.start = 200, d.busy = 300, d.read_bytes = 300;
  model::OpSpan q;
  q.unit = model::Unit::kShiftQuantizer, q.record = 1, q.start = 200, q.busy = 100, q.wait_after = 300;
  r.timeline.ops = {a, d, q};
  model::write_trace_json(r, dir.file("t.json"));
  EXPECT_EQ(tools::run_plot_script(python, script, dir.file("t.json"), dir.file("t.png")), "");
  const std::string png = octet::testing::read_file(dir.file("t.png"));
  ASSERT_GT(png.size(), 1000u);
  EXPECT_EQ(png.substr(0, 8), "\x89PNG\r\n\x1a\n");
  const std::string bad = dir.write("bad.json", "{\"traceEvents\": 3}");
  const std::string err = tools::run_plot_script(python, script, bad, dir.file("bad.png"));
  EXPECT_NE(err.find("field '--plot'"), std::string::npos) << err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("bad.png")));
}
