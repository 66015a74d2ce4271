// Shared helpers of the model tests: options with a hand-made energy table (the model I/O
// library's default table is not needed here) and a configuration with fast, roomy memory.
#pragma once

#include <cstdint>

#include "model/simulate.h"

namespace octet::model::test {

// Every action costs `pj` picojoules.
EnergyTable flat_energy_table(double pj = 1.0);
// The 45 nm reference points of the shared notes (Horowitz ISSCC 2014), for printed reports.
EnergyTable horowitz_energy_table();

SimOptions options(const AccelConfig& config, const EnergyTable& table = flat_energy_table());

// The seed of a random test: $OCTET_SEED if set (to replay a failure), else `fallback`;
// printed under the test's name.
uint64_t printed_seed(const char* test, uint64_t fallback);

// Array R x C with buffers large enough for one block and a DRAM that delivers any transfer
// in one cycle with no latency: the array never waits.
AccelConfig fast_memory_config(int rows, int cols);

// Conv, BN, max-pool, residual add (activation + stream), global average pool and linear,
// with ragged sizes so that tiles are partial on every edge.
inline constexpr const char* kTinyResidualNet = R"(network tiny
input   x   2x9x9
conv    c1  x out=6 k=3 s=1 p=1
bnrelu  b1  c1
maxpool p1  b1 k=2 s=2
conv    c2  p1 out=6 k=3 s=1 p=1
bnrelu  b2  c2
conv    c3  b2 out=6 k=3 s=1 p=1
add     a1  p1 c3
bnrelu  b3  a1
conv    c4  b3 out=7 k=1 s=2
bnrelu  b4  c4
avgpool g   b4 global
linear  fc  g out=5
)";

}  // namespace octet::model::test
