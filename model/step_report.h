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
enum class Unit : int { kSystolicArray, kShiftQuantizer, kBnUnit, kOptimizerUnit, kVectorUnit, kSram, kDram, kCount };
const char* unit_name(Unit u);  // "systolic_array", "shift_quantizer", "bn_unit", "optimizer_unit", "vector_unit", "sram", "dram" (the RTL and SystemC module names)
inline constexpr int kNumUnits = static_cast<int>(Unit::kCount);

struct PassRecord {
  std::string layer;      // node name of the network / topology row
  std::string kind;       // "conv", "linear", "gemm", "bnrelu", "maxpool", "avgpool", "add", "loss"
  Pass pass = Pass::kForward;
  int64_t macs = 0;           // multiply-accumulates on the array
  int64_t cycles = 0;         // wall cycles of this pass (units overlapped as scheduled)
  int64_t array_cycles = 0;   // cycles the array was busy
  int64_t stall_cycles = 0;   // cycles waiting for DRAM or buffer space
  int64_t contention_cycles = 0;  // of stall_cycles: lost to other units' bursts on the shared DRAM channel
  int64_t ideal_cycles = 0;   // ceil(macs / (rows * cols))
  double utilisation = 0;     // macs / (cycles * rows * cols), 0 for passes without MACs
  int64_t sram_read_bytes = 0, sram_write_bytes = 0;
  int64_t dram_read_bytes = 0, dram_write_bytes = 0;
  int64_t fp32_dram_read_bytes = 0, fp32_dram_write_bytes = 0;  // the FP32 baseline's DRAM bytes
  std::array<double, kNumUnits> energy_pj{};       // integer (WAGEUBN) datapath, by unit
  std::array<double, kNumUnits> fp32_energy_pj{};  // FP32 baseline, same schedule, by unit
  ActionCounts actions;                            // integer datapath actions
  double energy_total() const;
  double fp32_energy_total() const;
};

// The least DRAM traffic any schedule of the step needs (docs/architecture.md, "Compulsory
// DRAM traffic"), computed from the workload alone: every parameter's working copy, master
// and momentum read and written once, the batch read once, and each tensor the backward pass
// needs from the forward pass written and read once; at the contract's storage widths
// (integer) and in 4-byte words (FP32 baseline).
struct CompulsoryTraffic {
  bool known = false;  // false: not computed (a single GEMM)
  int64_t params = 0, batch = 0, saved = 0;              // integer datapath, bytes
  int64_t fp32_params = 0, fp32_batch = 0, fp32_saved = 0;  // FP32 baseline, bytes
  int64_t total() const { return params + batch + saved; }
  int64_t fp32_total() const { return fp32_params + fp32_batch + fp32_saved; }
};

// The step as it ran, operation by operation (SimOptions::record_timeline; octet-sim
// --trace), in cycles from the start of the step. Every unit and every unit's DMA engine on
// the DRAM channel serve one operation at a time, so a track's spans never overlap.
struct OpSpan {
  Unit unit = Unit::kSystolicArray;  // the track: a unit, or kDram (the channel)
  int record = -1;                   // index into StepReport::records (-1: none)
  int64_t start = 0;                 // cycle the unit began the operation
  int64_t busy = 0;                  // cycles of the operation's formula
  int64_t wait_before = 0;           // array: cycles its input was free before start (stall)
  int64_t wait_after = 0;            // streaming units: cycles after `busy` waiting for DRAM
  bool waited_for_release = false;   // array: the wait was for an accumulator half, not operands
  int64_t read_bytes = 0, write_bytes = 0;  // DRAM bytes (transfers and streaming operations)
  // DRAM transfers: the unit whose DMA engine moved it, and the cycles it lost to other units'
  // bursts on the shared channel; streaming units: the part of wait_after caused by that.
  Unit source = Unit::kSystolicArray;
  int64_t contention = 0;
  int64_t m0 = -1, m_len = 0, n0 = 0, n_len = 0, d0 = 0, d_len = 0, tiles = 0;  // array blocks
};
// One scheduler stage: the operations issued together and waited for (model/scheduler.h).
struct StageSpan {
  int record = -1;
  int64_t start = 0, end = 0;
};
struct Timeline {
  bool recorded = false;
  std::vector<OpSpan> ops;
  std::vector<StageSpan> stages;
};

struct StepReport {
  std::string workload;        // network or topology name
  std::string workload_origin; // file path or "embedded"
  int batch = 1;
  AccelConfig config;
  std::string energy_origin;
  bool functional = false;     // values computed and checked against the golden model
  bool cosim = false;          // RTL units bound in
  std::string schedule = "serial";  // "serial" or "concurrent" (model/scheduler.h)
  int weight_decay_log2 = -1;        // λ of the step's weight decay, -1: none (SimOptions)
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
  std::vector<std::string> cycle_differences;  // per unit, its first differing operations: layer, pass, both counts
  // Co-simulation only (filled by the tool that bound the RTL): per unit configuration that
  // ran jobs, what it checked and how fast its RTL ran.
  struct CosimUnit {
    std::string unit, configuration;  // e.g. "systolic_array", "16x16"; "shift_quantizer", "4 lanes"
    int64_t jobs = 0, values = 0, rtl_cycles = 0;
    double seconds = 0;  // host time driving the RTL
  };
  std::vector<CosimUnit> cosim_units;
  CompulsoryTraffic compulsory;
  Timeline timeline;  // empty unless recorded
  int64_t total_cycles() const;
  int64_t total_dram_bytes() const;       // integer datapath, read + written
  int64_t total_fp32_dram_bytes() const;  // FP32 baseline
  int64_t total_macs() const;
  double total_energy_pj() const;
  double total_fp32_energy_pj() const;
};

}  // namespace octet::model
