// The accelerator configuration the SystemC model simulates (docs/architecture.md,
// "Accelerator model"). Defaults are the embedded default configuration; a SCALE-Sim
// .cfg (model/scalesim_cfg.h) overrides the keys it has.
#pragma once

#include <cstdint>
#include <string>

namespace octet::model {

struct AccelConfig {
  std::string name = "octet-default";
  // Systolic array (rtl/systolic_array.sv): output-stationary, Rows x Cols PEs.
  int array_rows = 16;
  int array_cols = 16;
  std::string dataflow = "os";  // only "os" is modelled (the RTL's dataflow)
  // Streaming units: values per cycle (rtl/shift_quantizer.sv, bn_unit.sv, optimizer_unit.sv,
  // vector_unit.sv).
  int sq_lanes = 4;
  int bn_lanes = 4;
  int opt_lanes = 4;
  int vector_lanes = 4;
  // On-chip buffers, KiB. The scratchpad holds operand tiles (activations/errors, weights);
  // the accumulator SRAM holds wide partial sums (AccW = 48 bits per value).
  int64_t ifmap_sram_kib = 256;
  int64_t filter_sram_kib = 256;
  int64_t accum_sram_kib = 256;
  int sram_banks = 4;
  // DRAM: sustained bytes per cycle, access latency in cycles.
  double dram_bytes_per_cycle = 16.0;
  int dram_latency_cycles = 100;
  double clock_mhz = 1000.0;
};

}  // namespace octet::model
