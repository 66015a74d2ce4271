#include "model_test_util.h"

#include <cstdio>
#include <cstdlib>

namespace octet::model::test {

uint64_t printed_seed(const char* test, uint64_t fallback) {
  uint64_t seed = fallback;
  if (const char* env = std::getenv("OCTET_SEED")) seed = std::strtoull(env, nullptr, 10);
  std::printf("[   seed   ] %s: OCTET_SEED=%llu\n", test, static_cast<unsigned long long>(seed));
  return seed;
}

EnergyTable flat_energy_table(double pj) {
  EnergyTable t;
  t.origin = "test-flat";
  t.pj.fill(pj);
  return t;
}

EnergyTable horowitz_energy_table() {
  EnergyTable t;
  t.origin = "test-horowitz45";
  const auto set = [&t](Action a, double v) { t.pj[static_cast<size_t>(a)] = v; };
  set(Action::kMacInt8, 0.2 + 0.1);   // int8 mult + 32-bit-class add
  set(Action::kMacFp32, 3.7 + 0.9);
  set(Action::kAddInt32, 0.1);
  set(Action::kAddInt64, 0.2);
  set(Action::kMulInt32, 3.1);
  set(Action::kAddFp32, 0.9);
  set(Action::kMulFp32, 3.7);
  set(Action::kShift, 0.03);
  set(Action::kCompare, 0.03);
  set(Action::kRng, 1.0);
  set(Action::kRfAccess, 0.03);
  set(Action::kSramSmallByte, 20.0 / 8);   // 64-bit read of a 32 KB SRAM
  set(Action::kSramLargeByte, 100.0 / 8);  // 64-bit read of a 1 MB SRAM
  set(Action::kDramByte, 2000.0 / 8);      // ~2 nJ per 64-bit access
  return t;
}

SimOptions options(const AccelConfig& config, const EnergyTable& table) {
  return SimOptions{.config = config, .energy = table, .batch = 1, .seed = 1, .threads = 1, .functional = false,
                    .cosim = false, .progress = {}, .backends = {}, .edit_initial_state = {}, .lr_q = 26,
                    .gscale_log2 = 7};
}

AccelConfig fast_memory_config(int rows, int cols) {
  AccelConfig c;
  c.array_rows = rows;
  c.array_cols = cols;
  c.ifmap_sram_kib = c.filter_sram_kib = c.accum_sram_kib = 64 * 1024;
  c.dram_bytes_per_cycle = 1e12;
  c.dram_latency_cycles = 0;
  return c;
}

}  // namespace octet::model::test
