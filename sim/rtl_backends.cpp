#include "sim/rtl_backends.h"

#include <systemc>

#include <cstdio>
#include <stdexcept>

#include "sim/rtl_bn_unit.h"
#include "sim/rtl_builds.h"
#include "sim/rtl_optimizer_unit.h"
#include "sim/rtl_shift_quantizer.h"
#include "sim/rtl_systolic_array.h"
#include "sim/rtl_vector_unit.h"

namespace octet::sim {

namespace {

template <typename Unit>
Unit* with_lanes(const std::vector<Unit*>& units, int lanes) {
  for (Unit* u : units)
    if (u->lanes() == lanes) return u;
  return nullptr;
}

std::string lanes_text(int lanes) { return std::to_string(lanes) + " lane" + (lanes == 1 ? "" : "s"); }
std::string size_text(int rows, int cols) { return std::to_string(rows) + "x" + std::to_string(cols); }

// The built configurations joined by `sep`: ", " as a message names them, ";" as the CMake
// cache lists spell them.
std::string array_list(const char* sep) {
  std::string s;
  for (const ArraySize& a : verilated_array_sizes()) s += (s.empty() ? "" : sep) + size_text(a.rows, a.cols);
  return s;
}
std::string lane_list(const char* sep) {
  std::string s;
  for (int l : verilated_lane_counts()) s += (s.empty() ? "" : sep) + std::to_string(l);
  return s;
}

}  // namespace

RtlSystolicArray* RtlUnits::array(int rows, int cols) const {
  for (RtlSystolicArray* a : arrays)
    if (a->rows() == rows && a->cols() == cols) return a;
  return nullptr;
}
RtlShiftQuantizer* RtlUnits::shift_quantizer(int lanes) const { return with_lanes(shift_quantizers, lanes); }
RtlOptimizerUnit* RtlUnits::optimizer(int lanes) const { return with_lanes(optimizers, lanes); }
RtlBnUnit* RtlUnits::bn(int lanes) const { return with_lanes(bns, lanes); }
RtlVectorUnit* RtlUnits::vector(int lanes) const { return with_lanes(vectors, lanes); }

RtlUnits& rtl_units() {
  static RtlUnits* units = [] {
    if (sc_core::sc_get_status() != sc_core::SC_ELABORATION)
      throw std::logic_error(
          "cosim: the RTL units must be created before the first SystemC simulation of the process "
          "(call octet::sim::make_rtl_backends before simulating)");
    // Modules live as long as the simulation kernel (never destroyed, as the model's). A model
    // that no job drives costs nothing at run time: its inputs never change.
    auto* u = new RtlUnits;
    for (const ArraySize& s : verilated_array_sizes()) {
      const std::string name = "rtl_systolic_array_" + size_text(s.rows, s.cols);
      u->arrays.push_back(new_verilated_systolic_array(name.c_str(), s.rows, s.cols));
    }
    for (int lanes : verilated_lane_counts()) {
      const std::string tag = "_l" + std::to_string(lanes);
      u->shift_quantizers.push_back(new_verilated_shift_quantizer(("rtl_shift_quantizer" + tag).c_str(), lanes));
      u->optimizers.push_back(new_verilated_optimizer_unit(("rtl_optimizer_unit" + tag).c_str(), lanes));
      u->bns.push_back(new_verilated_bn_unit(("rtl_bn_unit" + tag).c_str(), lanes));
      u->vectors.push_back(new_verilated_vector_unit(("rtl_vector_unit" + tag).c_str(), lanes));
    }
    return u;
  }();
  return *units;
}

model::UnitBackends make_rtl_backends(const model::AccelConfig& config) {
  const std::string size = size_text(config.array_rows, config.array_cols);
  bool array_built = false;
  for (const ArraySize& s : verilated_array_sizes()) array_built |= s.rows == config.array_rows && s.cols == config.array_cols;
  if (!array_built)
    throw std::invalid_argument("cosim: no verilated " + size + " systolic array in this build (built: " +
                                array_list(", ") + "); add it to the CMake list OCTET_COSIM_ARRAYS " +
                                "(cmake -B build -DOCTET_COSIM_ARRAYS=\"" + array_list(";") + ";" +
                                size + "\") and rebuild");
  const struct {
    const char* unit;
    int lanes;
  } streaming[] = {{"shift_quantizer", config.sq_lanes}, {"bn_unit", config.bn_lanes}, {"optimizer_unit", config.opt_lanes},
                   {"vector_unit", config.vector_lanes}};
  for (const auto& s : streaming) {
    bool built = false;
    for (int l : verilated_lane_counts()) built |= l == s.lanes;
    if (!built)
      throw std::invalid_argument(std::string("cosim: no verilated ") + s.unit + " with " + lanes_text(s.lanes) +
                                  " in this build (built: " + lane_list(", ") +
                                  " lanes); add the count to the CMake list OCTET_COSIM_LANES (cmake -B build "
                                  "-DOCTET_COSIM_LANES=\"" + lane_list(";") + ";" +
                                  std::to_string(s.lanes) + "\") and rebuild");
  }
  RtlUnits& u = rtl_units();
  auto keep = [](auto*) {};  // the units outlive every backend set
  model::UnitBackends b;
  b.array = std::shared_ptr<model::ArrayBackend>(u.array(config.array_rows, config.array_cols), keep);
  b.shift_quantizer = std::shared_ptr<model::ShiftQuantizerBackend>(u.shift_quantizer(config.sq_lanes), keep);
  b.optimizer = std::shared_ptr<model::OptimizerBackend>(u.optimizer(config.opt_lanes), keep);
  b.bn = std::shared_ptr<model::BnBackend>(u.bn(config.bn_lanes), keep);
  b.vector = std::shared_ptr<model::VectorUnitBackend>(u.vector(config.vector_lanes), keep);
  return b;
}

std::vector<model::StepReport::CosimUnit> cosim_stats() {
  RtlUnits& u = rtl_units();
  std::vector<model::StepReport::CosimUnit> out;
  auto add = [&out](const std::string& unit, const std::string& configuration, const UnitStats& st) {
    if (st.jobs > 0) out.push_back({unit, configuration, st.jobs, st.values, st.rtl_cycles, st.seconds});
  };
  for (RtlSystolicArray* a : u.arrays) add("systolic_array", size_text(a->rows(), a->cols()), a->stats());
  for (RtlShiftQuantizer* q : u.shift_quantizers) add("shift_quantizer", lanes_text(q->lanes()), q->stats());
  for (RtlOptimizerUnit* o : u.optimizers) add("optimizer_unit", lanes_text(o->lanes()), o->stats());
  for (RtlBnUnit* b : u.bns) add("bn_unit", lanes_text(b->lanes()), b->stats());
  for (RtlVectorUnit* v : u.vectors) add("vector_unit", lanes_text(v->lanes()), v->stats());
  return out;
}

std::string cosim_summary() {
  std::string s;
  for (const model::StepReport::CosimUnit& st : cosim_stats()) {
    char speed[96];
    std::snprintf(speed, sizeof speed, ", %.2f s driving the RTL, %.3g cycles/s", st.seconds,
                  st.seconds > 0 ? static_cast<double>(st.rtl_cycles) / st.seconds : 0.0);
    s += st.unit + " (" + st.configuration + "): " + std::to_string(st.jobs) + " jobs, " + std::to_string(st.values) +
         " values compared, " + std::to_string(st.rtl_cycles) + " RTL cycles" + speed + "\n";
  }
  return s;
}

void reset_cosim_stats() {
  RtlUnits& u = rtl_units();
  for (auto* a : u.arrays) a->reset_stats();
  for (auto* q : u.shift_quantizers) q->reset_stats();
  for (auto* o : u.optimizers) o->reset_stats();
  for (auto* b : u.bns) b->reset_stats();
  for (auto* v : u.vectors) v->reset_stats();
}

}  // namespace octet::sim
