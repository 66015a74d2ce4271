// energy_pj (model/energy_table.h) for the model core until the model I/O library lands;
// the merge keeps one definition.
#include "model/energy_table.h"

namespace octet::model {

double energy_pj(const ActionCounts& counts, const EnergyTable& table) {
  double e = 0;
  for (size_t i = 0; i < counts.n.size(); ++i) e += static_cast<double>(counts.n[i]) * table.pj[i];
  return e;
}

}  // namespace octet::model
