// Shared helpers of the model tests: options with a hand-made energy table (the model I/O
// library's default table is not needed here) and a configuration with fast, roomy memory.
#pragma once

#include "model/simulate.h"

namespace octet::model::test {

// Every action costs `pj` picojoules.
EnergyTable flat_energy_table(double pj = 1.0);
// The 45 nm reference points of the shared notes (Horowitz ISSCC 2014), for printed reports.
EnergyTable horowitz_energy_table();

SimOptions options(const AccelConfig& config, const EnergyTable& table = flat_energy_table());

// Array R x C with buffers large enough for one block and a DRAM that delivers any transfer
// in one cycle with no latency: the array never waits.
AccelConfig fast_memory_config(int rows, int cols);

}  // namespace octet::model::test
