// Names and totals of model/step_report.h (plain C++; shared by the model and its writers).
#include "model/step_report.h"

#include <numeric>

namespace octet::model {

const char* pass_name(Pass p) {
  switch (p) {
    case Pass::kForward: return "forward";
    case Pass::kBackwardData: return "backward";
    case Pass::kWeightGrad: return "wgrad";
    case Pass::kUpdate: return "update";
    case Pass::kCount: break;
  }
  return "?";
}

const char* unit_name(Unit u) {
  switch (u) {
    case Unit::kSystolicArray: return "systolic_array";
    case Unit::kShiftQuantizer: return "shift_quantizer";
    case Unit::kBnUnit: return "bn_unit";
    case Unit::kOptimizerUnit: return "optimizer_unit";
    case Unit::kVectorUnit: return "vector_unit";
    case Unit::kSram: return "sram";
    case Unit::kDram: return "dram";
    case Unit::kCount: break;
  }
  return "?";
}

double PassRecord::energy_total() const { return std::accumulate(energy_pj.begin(), energy_pj.end(), 0.0); }
double PassRecord::fp32_energy_total() const {
  return std::accumulate(fp32_energy_pj.begin(), fp32_energy_pj.end(), 0.0);
}

int64_t StepReport::total_cycles() const {
  int64_t s = 0;
  for (const PassRecord& r : records) s += r.cycles;
  return s;
}
int64_t StepReport::total_dram_bytes() const {
  int64_t s = 0;
  for (const PassRecord& r : records) s += r.dram_read_bytes + r.dram_write_bytes;
  return s;
}
int64_t StepReport::total_fp32_dram_bytes() const {
  int64_t s = 0;
  for (const PassRecord& r : records) s += r.fp32_dram_read_bytes + r.fp32_dram_write_bytes;
  return s;
}
int64_t StepReport::total_macs() const {
  int64_t s = 0;
  for (const PassRecord& r : records) s += r.macs;
  return s;
}
double StepReport::total_energy_pj() const {
  double s = 0;
  for (const PassRecord& r : records) s += r.energy_total();
  return s;
}
double StepReport::total_fp32_energy_pj() const {
  double s = 0;
  for (const PassRecord& r : records) s += r.fp32_energy_total();
  return s;
}

}  // namespace octet::model
