// The co-simulation's entry point: the Verilator --sc RTL units as the model's unit backends
// (model/unit_backends.h). Bind them with
//   options.backends = octet::sim::make_rtl_backends(options.config);  options.cosim = true;
// before the first simulation of the process: SystemC elaborates one module hierarchy per
// process, so the RTL units are created once, on the first call, and shared afterwards.
#pragma once

#include <string>
#include <vector>

#include "model/accel_config.h"
#include "model/step_report.h"
#include "model/unit_backends.h"

namespace octet::sim {

class RtlSystolicArray;
class RtlShiftQuantizer;
class RtlOptimizerUnit;
class RtlBnUnit;
class RtlVectorUnit;

// The process's RTL units: one of every verilated configuration of the build
// (sim/rtl_builds.h), created on the first call, which must come before sc_start().
struct RtlUnits {
  std::vector<RtlSystolicArray*> arrays;
  std::vector<RtlShiftQuantizer*> shift_quantizers;
  std::vector<RtlOptimizerUnit*> optimizers;
  std::vector<RtlBnUnit*> bns;
  std::vector<RtlVectorUnit*> vectors;
  // The unit of that configuration; nullptr when it is not built.
  RtlSystolicArray* array(int rows, int cols) const;
  RtlShiftQuantizer* shift_quantizer(int lanes) const;
  RtlOptimizerUnit* optimizer(int lanes) const;
  RtlBnUnit* bn(int lanes) const;
  RtlVectorUnit* vector(int lanes) const;
};
RtlUnits& rtl_units();

// The RTL backends for `config`; std::invalid_argument, naming the built configurations and
// how to add one, when the configuration's array size or a unit's lane count is not built.
model::UnitBackends make_rtl_backends(const model::AccelConfig& config);

// Per unit configuration that ran jobs: jobs, values compared with the golden backend, RTL
// cycles run and host seconds (since the start of the process or the last reset_cosim_stats()).
std::vector<model::StepReport::CosimUnit> cosim_stats();
// The same, one line per unit configuration.
std::string cosim_summary();
void reset_cosim_stats();

}  // namespace octet::sim
