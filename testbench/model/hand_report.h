// A hand-built StepReport with round numbers, for the writer and plot tests: a 4x4 array,
// one conv layer's four passes and one linear layer's forward pass.
// Totals: 770 cycles, 4960 MACs, 5 µJ integer, 20 µJ FP32 (ratio 0.25).
// Per pass: forward 220 cycles / 1760 MACs (50% of 16 PEs), backward 25%, wgrad 100%, update 0%.
#pragma once

#include "model/step_report.h"

namespace octet::testing {

inline model::PassRecord hand_record(const char* layer, const char* kind, model::Pass pass, int64_t macs,
                                     int64_t cycles, int64_t ideal, double int_pj, double fp32_pj) {
  model::PassRecord r;
  r.layer = layer;
  r.kind = kind;
  r.pass = pass;
  r.macs = macs;
  r.cycles = cycles;
  r.array_cycles = macs > 0 ? cycles - 10 : 0;
  r.stall_cycles = 10;
  r.ideal_cycles = ideal;
  r.utilisation = static_cast<double>(macs) / (static_cast<double>(cycles) * 16);
  r.sram_read_bytes = 1000;
  r.sram_write_bytes = 500;
  r.dram_read_bytes = 300;
  r.dram_write_bytes = 7;
  // Integer energy split 1/2 array, 1/4 SRAM, 1/4 DRAM; FP32 the same way.
  r.energy_pj[static_cast<size_t>(model::Unit::kSystolicArray)] = int_pj / 2;
  r.energy_pj[static_cast<size_t>(model::Unit::kSram)] = int_pj / 4;
  r.energy_pj[static_cast<size_t>(model::Unit::kDram)] = int_pj / 4;
  r.fp32_energy_pj[static_cast<size_t>(model::Unit::kSystolicArray)] = fp32_pj / 2;
  r.fp32_energy_pj[static_cast<size_t>(model::Unit::kSram)] = fp32_pj / 4;
  r.fp32_energy_pj[static_cast<size_t>(model::Unit::kDram)] = fp32_pj / 4;
  r.actions[model::Action::kMacInt8] = macs;
  r.actions[model::Action::kDramByte] = r.dram_read_bytes + r.dram_write_bytes;
  return r;
}

inline model::StepReport hand_report() {
  using model::Pass;
  model::StepReport s;
  s.workload = "hand";
  s.workload_origin = "test";
  s.batch = 2;
  s.config.array_rows = 4;
  s.config.array_cols = 4;
  s.energy_origin = "embedded";
  s.wall_seconds = 0.5;
  s.records = {hand_record("conv1", "conv", Pass::kForward, 1600, 200, 100, 2e6, 8e6),
               hand_record("conv1", "conv", Pass::kBackwardData, 1600, 400, 100, 1e6, 4e6),
               hand_record("conv1", "conv", Pass::kWeightGrad, 1600, 100, 100, 1e6, 4e6),
               hand_record("conv1", "conv", Pass::kUpdate, 0, 50, 0, 5e5, 2e6),
               hand_record("fc", "linear", Pass::kForward, 160, 20, 10, 5e5, 2e6)};
  return s;
}

}  // namespace octet::testing
