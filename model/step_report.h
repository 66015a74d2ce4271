// What one simulated training step produces: one record per (layer, pass), the totals,
// and the FP32 baseline of the same architecture. Written by the SystemC model
// (model/), rendered by model/report_writers.h (terminal table, JSON, CSV) and
// tools/plot_sim_report.py (PNG).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "model/accel_config.h"
#include "model/energy_table.h"

namespace octet::model {

// The passes of a training step, in execution order within a layer.
enum class Pass : int { kForward, kBackwardData, kWeightGrad, kUpdate, kCount };
const char* pass_name(Pass p);  // "forward", "backward", "wgrad", "update"

// The hardware units energy is charged to.
enum class Unit : int { kSystolicArray, kShiftQuantizer, kBnUnit, kOptimizerUnit, kSram, kDram, kCount };
const char* unit_name(Unit u);  // "systolic_array", "shift_quantizer", "bn_unit", "optimizer_unit", "sram", "dram" (the RTL and SystemC module names)
inline constexpr int kNumUnits = static_cast<int>(Unit::kCount);

struct PassRecord {
  std::string layer;      // node name of the network / topology row
  std::string kind;       // "conv", "linear", "gemm", "bnrelu", "maxpool", "avgpool", "add", "loss"
  Pass pass = Pass::kForward;
  int64_t macs = 0;           // multiply-accumulates on the array
  int64_t cycles = 0;         // wall cycles of this pass (units overlapped as scheduled)
  int64_t array_cycles = 0;   // cycles the array was busy
  int64_t stall_cycles = 0;   // cycles waiting for DRAM or buffer space
  int64_t ideal_cycles = 0;   // ceil(macs / (rows * cols))
  double utilisation = 0;     // macs / (cycles * rows * cols), 0 for passes without MACs
  int64_t sram_read_bytes = 0, sram_write_bytes = 0;
  int64_t dram_read_bytes = 0, dram_write_bytes = 0;
  std::array<double, kNumUnits> energy_pj{};       // integer (WAGEUBN) datapath, by unit
  std::array<double, kNumUnits> fp32_energy_pj{};  // FP32 baseline, same schedule, by unit
  ActionCounts actions;                            // integer datapath actions
  double energy_total() const;
  double fp32_energy_total() const;
};

struct StepReport {
  std::string workload;        // network or topology name
  std::string workload_origin; // file path or "embedded"
  int batch = 1;
  AccelConfig config;
  std::string energy_origin;
  bool functional = false;     // values computed and checked against the golden model
  bool cosim = false;          // RTL units bound in
  std::vector<PassRecord> records;
  double wall_seconds = 0;     // host time to simulate
  // Added by the model core. Functional mode: the end-of-step training state against
  // golden::IntNetwork::train_step on the same batch and seed.
  uint64_t state_digest = 0, golden_state_digest = 0;
  std::string functional_mismatch;  // empty when bit-identical; else the first difference
  // Unit backends that measure cycles (co-simulation): operations compared with the model's
  // formulas and how many differed.
  int64_t cycle_checks = 0, cycle_mismatches = 0;
  std::string first_cycle_mismatch;
  int64_t total_cycles() const;
  int64_t total_macs() const;
  double total_energy_pj() const;
  double total_fp32_energy_pj() const;
};

}  // namespace octet::model
