// SCALE-Sim .cfg files: the keys that apply mapped onto AccelConfig, the others ignored,
// and each bad value a one-line message naming file, line and key.
#include <gtest/gtest.h>

#include "model/topology.h"

using namespace octet::model;

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
            "c.cfg:2: field 'ArrayWidth': 100000 is larger than 65536");
  EXPECT_EQ(error_of("[architecture_presets]\nIfmapSramSzkB: -1\n"),
            "c.cfg:2: field 'IfmapSramSzkB': must be positive, got -1");
  EXPECT_EQ(error_of("[architecture_presets]\nBandwidth: fast\n"), "c.cfg:2: field 'Bandwidth': 'fast' is not a number");
  EXPECT_EQ(error_of("[architecture_presets]\nBandwidth: 0\n"), "c.cfg:2: field 'Bandwidth': must be positive, got 0");
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

TEST(ScaleSimCfgErrors, MissingFile) {
  try {
    parse_scalesim_cfg("/nonexistent/octet/a.cfg");
    FAIL() << "no error";
  } catch (const TopologyError& e) {
    EXPECT_EQ(std::string(e.what()), "/nonexistent/octet/a.cfg:0: field 'file': cannot open: No such file or directory");
  }
}
