// Workload descriptions octet-sim accepts besides the golden network format:
// SCALE-Sim v2 topology CSVs (conv and GEMM formats) and SCALE-Sim .cfg architecture files.
// The parsers report a malformed file as TopologyError whose what() is one line:
//   "<file>:<line>: field '<name>': <message>".
#pragma once

#include "golden/input_error.h"
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/accel_config.h"

namespace octet::model {

class TopologyError : public InputError {
 public:
  using InputError::InputError;
};

// One row of a conv-format topology: `Layer name, IFMAP Height, IFMAP Width, Filter Height,
// Filter Width, Channels, Num Filter, Strides,` (optional stride-width column). SCALE-Sim
// folds padding into the IFMAP size: output = ceil((H - FH + S) / S).
struct ConvLayerSpec {
  std::string name;
  int64_t ifmap_h = 0, ifmap_w = 0;
  int64_t filter_h = 0, filter_w = 0;
  int64_t channels = 0, num_filter = 0;
  int64_t stride_h = 1, stride_w = 1;
  bool depthwise = false;  // name contains "DP"
  int line = 0;
  int64_t ofmap_h() const { return (ifmap_h - filter_h + stride_h + stride_h - 1) / stride_h; }
  int64_t ofmap_w() const { return (ifmap_w - filter_w + stride_w + stride_w - 1) / stride_w; }
};

// One row of a GEMM-format topology: `Layer Name, M, N, K,` — (M x K) * (K x N).
struct GemmLayerSpec {
  std::string name;
  int64_t m = 0, n = 0, k = 0;
  int line = 0;
};

struct Topology {
  std::string origin;
  std::vector<ConvLayerSpec> conv;  // exactly one of the two is non-empty
  std::vector<GemmLayerSpec> gemm;
};

// format: "conv", "gemm", or "auto" (from the header row).
Topology parse_scalesim_topology(const std::string& path, const std::string& format = "auto");
Topology parse_scalesim_topology_text(const std::string& text, const std::string& origin,
                                      const std::string& format = "auto");

// Applies the keys of a SCALE-Sim .cfg that apply (ArrayHeight, ArrayWidth, IfmapSramSzkB,
// FilterSramSzkB, OfmapSramSzkB -> accum_sram_kib, Dataflow (only os accepted), Bandwidth
// -> dram_bytes_per_cycle, run_name -> name) onto `base`; unknown keys are ignored, bad
// values are TopologyError.
AccelConfig parse_scalesim_cfg(const std::string& path, AccelConfig base = {});
AccelConfig parse_scalesim_cfg_text(const std::string& text, const std::string& origin, AccelConfig base = {});

}  // namespace octet::model
