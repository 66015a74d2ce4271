#include "sim/rtl_backends.h"

#include <systemc>

#include <stdexcept>

#include "sim/rtl_bn_unit.h"
#include "sim/rtl_optimizer_unit.h"
#include "sim/rtl_shift_quantizer.h"
#include "sim/rtl_systolic_array.h"

namespace octet::sim {

RtlUnits& rtl_units() {
  static RtlUnits* units = [] {
    if (sc_core::sc_get_status() != sc_core::SC_ELABORATION)
      throw std::logic_error(
          "cosim: the RTL units must be created before the first SystemC simulation of the process "
          "(call octet::sim::make_rtl_backends before simulating)");
    // Modules live as long as the simulation kernel (never destroyed, as the model's).
    auto* u = new RtlUnits;
    u->array = new RtlSystolicArray("rtl_systolic_array");
    u->shift_quantizer = new RtlShiftQuantizer("rtl_shift_quantizer");
    u->optimizer = new RtlOptimizerUnit("rtl_optimizer_unit");
    u->bn = new RtlBnUnit("rtl_bn_unit");
    return u;
  }();
  return *units;
}

model::UnitBackends make_rtl_backends(const model::AccelConfig& config) {
  if (config.array_rows != kArrayRows || config.array_cols != kArrayCols)
    throw std::invalid_argument("cosim: the verilated systolic array is " + std::to_string(kArrayRows) + "x" +
                                std::to_string(kArrayCols) + ", the configuration asks for " +
                                std::to_string(config.array_rows) + "x" + std::to_string(config.array_cols));
  if (config.sq_lanes != kSqLanes || config.opt_lanes != kOptLanes || config.bn_lanes != kBnLanes)
    throw std::invalid_argument("cosim: the verilated shift-quantizer, optimizer and BN units have " +
                                std::to_string(kSqLanes) + " lanes, the configuration asks for " +
                                std::to_string(config.sq_lanes) + ", " + std::to_string(config.opt_lanes) + " and " +
                                std::to_string(config.bn_lanes));
  RtlUnits& u = rtl_units();
  auto keep = [](auto*) {};  // the units outlive every backend set
  model::UnitBackends b;
  b.array = std::shared_ptr<model::ArrayBackend>(u.array, keep);
  b.shift_quantizer = std::shared_ptr<model::ShiftQuantizerBackend>(u.shift_quantizer, keep);
  b.optimizer = std::shared_ptr<model::OptimizerBackend>(u.optimizer, keep);
  b.bn = std::shared_ptr<model::BnBackend>(u.bn, keep);
  return b;
}

std::string cosim_summary() {
  RtlUnits& u = rtl_units();
  std::string s;
  auto line = [&s](const char* unit, const UnitStats& st) {
    s += std::string(unit) + ": " + std::to_string(st.jobs) + " jobs, " + std::to_string(st.values) +
         " values compared, " + std::to_string(st.rtl_cycles) + " RTL cycles\n";
  };
  line("systolic_array", u.array->stats());
  line("shift_quantizer", u.shift_quantizer->stats());
  line("optimizer_unit", u.optimizer->stats());
  line("bn_unit", u.bn->stats());
  return s;
}

void reset_cosim_stats() {
  RtlUnits& u = rtl_units();
  u.array->reset_stats();
  u.shift_quantizer->reset_stats();
  u.optimizer->reset_stats();
  u.bn->reset_stats();
}

}  // namespace octet::sim
