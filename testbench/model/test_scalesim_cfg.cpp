// SCALE-Sim .cfg files: the keys that apply mapped onto AccelConfig, the others ignored,
// and each bad value a one-line message naming file, line and key.
#include <gtest/gtest.h>

#include "model/topology.h"

using namespace octet::model;

using namespace std::string_literals;

namespace {

// As SCALE-Sim v2 ships them (configs/scale.cfg shape), with extra keys we do not model.
const char* kCfg = R"([general]
run_name = my_tpu

[architecture_presets]
ArrayHeight:    32
ArrayWidth:     8
IfmapSramSzkB:    6144
FilterSramSzkB:   512
OfmapSramSzkB:    128
IfmapOffset:    0
FilterOffset:   10000000
OfmapOffset:    20000000
Dataflow : os
Bandwidth : 10
MemoryBanks: 1

; a comment
[run_presets]
InterfaceBandwidth: CALC

[sparsity]
SparsitySupport : false
)";

std::string error_of(const std::string& text) {
  try {
    parse_scalesim_cfg_text(text, "c.cfg");
  } catch (const TopologyError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(ScaleSimCfg, MapsTheKeysThatApply) {
  AccelConfig base;
  base.sq_lanes = 7;  // not a SCALE-Sim key: kept
  const AccelConfig c = parse_scalesim_cfg_text(kCfg, "c.cfg", base);
  EXPECT_EQ(c.name, "my_tpu");
  EXPECT_EQ(c.array_rows, 32);
  EXPECT_EQ(c.array_cols, 8);
  EXPECT_EQ(c.ifmap_sram_kib, 6144);
  EXPECT_EQ(c.filter_sram_kib, 512);
  EXPECT_EQ(c.accum_sram_kib, 128);
  EXPECT_EQ(c.dataflow, "os");
  EXPECT_EQ(c.dram_bytes_per_cycle, 10.0);
  EXPECT_EQ(c.sq_lanes, 7);
  EXPECT_EQ(c.dram_latency_cycles, AccelConfig{}.dram_latency_cycles);
}

TEST(ScaleSimCfg, AbsentKeysKeepTheBaseAndKeysAreCaseInsensitive) {
  const AccelConfig c = parse_scalesim_cfg_text("[architecture_presets]\narrayheight = 4\nBANDWIDTH = 2.5\n", "c.cfg");
  EXPECT_EQ(c.array_rows, 4);
  EXPECT_EQ(c.array_cols, AccelConfig{}.array_cols);
  EXPECT_EQ(c.dram_bytes_per_cycle, 2.5);
  EXPECT_EQ(c.name, AccelConfig{}.name);
}

TEST(ScaleSimCfgErrors, DataflowOtherThanOs) {
  EXPECT_EQ(error_of("[architecture_presets]\nDataflow: ws\n"),
            "c.cfg:2: field 'Dataflow': dataflow 'ws' is not modelled: only os (output stationary, the RTL's "
            "dataflow) is");
  EXPECT_EQ(error_of("[architecture_presets]\nDataflow: is\n").substr(0, 26), "c.cfg:2: field 'Dataflow':");
  EXPECT_EQ(error_of("[architecture_presets]\nDataflow: rs\n"),
            "c.cfg:2: field 'Dataflow': unknown dataflow 'rs' (SCALE-Sim has os, ws, is)");
}

TEST(ScaleSimCfgErrors, BadValues) {
  EXPECT_EQ(error_of("[architecture_presets]\nArrayHeight: 0\n"), "c.cfg:2: field 'ArrayHeight': must be positive, got 0");
  EXPECT_EQ(error_of("[architecture_presets]\n\nArrayWidth: 8x\n"), "c.cfg:3: field 'ArrayWidth': '8x' is not an integer");
  EXPECT_EQ(error_of("[architecture_presets]\nArrayWidth: 100000\n"),
            "c.cfg:2: field 'ArrayWidth': 100000 is larger than 4096");
  EXPECT_EQ(error_of("[architecture_presets]\nIfmapSramSzkB: -1\n"),
            "c.cfg:2: field 'IfmapSramSzkB': must be positive, got -1");
  EXPECT_EQ(error_of("[architecture_presets]\nBandwidth: fast\n"), "c.cfg:2: field 'Bandwidth': 'fast' is not a number");
  EXPECT_EQ(error_of("[architecture_presets]\nBandwidth: 0\n"), "c.cfg:2: field 'Bandwidth': 0 is outside 0.015625..1048576 bytes per cycle");
  EXPECT_EQ(error_of("[run_presets]\nInterfaceBandwidth: MAX\n"),
            "c.cfg:2: field 'InterfaceBandwidth': 'MAX' is neither CALC nor USER");
  EXPECT_EQ(error_of("[general]\nrun_name =\n"), "c.cfg:2: field 'run_name': empty run name");
}

TEST(ScaleSimCfgErrors, BadLines) {
  EXPECT_EQ(error_of("ArrayHeight: 4\n"), "c.cfg:1: field 'ArrayHeight': key before any [section]");
  EXPECT_EQ(error_of("[general\n"), "c.cfg:1: field 'section': '[general' lacks its closing ']'");
  EXPECT_EQ(error_of("[general]\njust words\n"),
            "c.cfg:2: field 'just words': expected 'key = value', 'key: value' or '[section]'");
}

// Bandwidth 1e-300 made transfers take more cycles than int64 holds (negative stalls, fewer
// cycles than the default); the accepted range is 1/64 .. 2^20 bytes per cycle.
TEST(ScaleSimCfgErrors, BandwidthIsBounded) {
  EXPECT_EQ(error_of("[architecture_presets]\nBandwidth: 1e-300\n"),
            "c.cfg:2: field 'Bandwidth': 1e-300 is outside 0.015625..1048576 bytes per cycle");
  EXPECT_EQ(error_of("[architecture_presets]\nBandwidth: 2000000\n"),
            "c.cfg:2: field 'Bandwidth': 2000000 is outside 0.015625..1048576 bytes per cycle");
  EXPECT_EQ(error_of("[architecture_presets]\nBandwidth: -4\n"),
            "c.cfg:2: field 'Bandwidth': -4 is outside 0.015625..1048576 bytes per cycle");
  EXPECT_EQ(parse_scalesim_cfg_text("[architecture_presets]\nBandwidth: 0.015625\n", "c.cfg").dram_bytes_per_cycle, 1.0 / 64);
  EXPECT_EQ(parse_scalesim_cfg_text("[architecture_presets]\nBandwidth: 1048576\n", "c.cfg").dram_bytes_per_cycle, 1 << 20);
  EXPECT_EQ(error_of("[architecture_presets]\nArrayHeight: 4097\n"), "c.cfg:2: field 'ArrayHeight': 4097 is larger than 4096");
}

TEST(ScaleSimCfgErrors, TokensAreEchoedPrintably) {
  EXPECT_EQ(error_of("[architecture_presets]\nArrayWidth: 8\x01\xfe\n"),
            "c.cfg:2: field 'ArrayWidth': '8\\x01\\xFE' is not an integer");
  EXPECT_EQ(error_of("[architecture_presets]\nArrayWidth: 8\0 9\n"s),
            "c.cfg:2: field 'ArrayWidth': '8\\x00 9' is not an integer");
  EXPECT_EQ(error_of("[general]\nrun_name = caf\xe9\n"), "c.cfg:2: field 'run_name': 'caf\\xE9' is not printable ASCII");
  EXPECT_EQ(error_of("[general]\n\x80\x81\n"), "c.cfg:2: field '\\x80\\x81': expected 'key = value', 'key: value' or '[section]'");
}

// A directory used to be accepted as an empty config.
TEST(ScaleSimCfgErrors, DirectoryIsNotAConfig) {
  try {
    parse_scalesim_cfg("/tmp");
    FAIL() << "no error";
  } catch (const TopologyError& e) {
    EXPECT_EQ(std::string(e.what()), "/tmp:0: field 'file': is a directory, not a file");
  }
}

TEST(ScaleSimCfgErrors, MissingFile) {
  try {
    parse_scalesim_cfg("/nonexistent/octet/a.cfg");
    FAIL() << "no error";
  } catch (const TopologyError& e) {
    EXPECT_EQ(std::string(e.what()), "/nonexistent/octet/a.cfg:0: field 'file': cannot open: No such file or directory");
  }
}
