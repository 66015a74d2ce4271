#include "model/ledger.h"

namespace octet::model {

void Ledger::finish(const EnergyTable& table) {
  const int64_t pes = static_cast<int64_t>(config_.array_rows) * config_.array_cols;
  for (size_t i = 0; i < records_.size(); ++i) {
    PassRecord& r = records_[i];
    r.actions = {};
    for (int u = 0; u < kNumUnits; ++u) {
      r.energy_pj[static_cast<size_t>(u)] = energy_pj(counts_[i].ints[static_cast<size_t>(u)], table);
      r.fp32_energy_pj[static_cast<size_t>(u)] = energy_pj(counts_[i].fp32[static_cast<size_t>(u)], table);
      r.actions += counts_[i].ints[static_cast<size_t>(u)];
    }
    r.ideal_cycles = (r.macs + pes - 1) / pes;
    r.utilisation = r.macs > 0 && r.cycles > 0 ? static_cast<double>(r.macs) / (static_cast<double>(r.cycles) * pes) : 0;
  }
}

}  // namespace octet::model
