// The co-simulation's entry point: the Verilator --sc RTL units as the model's unit backends
// (model/unit_backends.h). Bind them with
//   options.backends = octet::sim::make_rtl_backends(options.config);  options.cosim = true;
// before the first simulation of the process: SystemC elaborates one module hierarchy per
// process, so the RTL units are created once, on the first call, and shared afterwards.
#pragma once

#include <string>

#include "model/accel_config.h"
#include "model/unit_backends.h"

namespace octet::sim {

class RtlSystolicArray;
class RtlShiftQuantizer;
class RtlOptimizerUnit;
class RtlBnUnit;

// The process's RTL units (created on the first call, which must come before sc_start()).
struct RtlUnits {
  RtlSystolicArray* array = nullptr;
  RtlShiftQuantizer* shift_quantizer = nullptr;
  RtlOptimizerUnit* optimizer = nullptr;
  RtlBnUnit* bn = nullptr;
};
RtlUnits& rtl_units();

// The RTL backends for `config`; std::invalid_argument when the configuration's array size
// or lane counts differ from the verilated ones (8x8 array, 4 lanes per streaming unit).
model::UnitBackends make_rtl_backends(const model::AccelConfig& config);

// One line per unit: jobs, values compared with the golden backend, RTL cycles run (since
// the start of the process or the last reset_cosim_stats()).
std::string cosim_summary();
void reset_cosim_stats();

}  // namespace octet::sim
