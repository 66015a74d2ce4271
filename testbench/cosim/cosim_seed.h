// Random seeds of the co-simulation tests: printed, and replayable with OCTET_SEED=<n>.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace octet::cosim_test {

inline uint64_t test_seed(const char* test, uint64_t salt) {
  const char* env = std::getenv("OCTET_SEED");
  const uint64_t base = env ? std::strtoull(env, nullptr, 0) : 0x0C051'2026ull;
  const uint64_t seed = base * 0x9E3779B97F4A7C15ull + salt;
  std::printf("[   seed   ] %s: seed %llu (base: OCTET_SEED=%llu)\n", test, static_cast<unsigned long long>(seed),
              static_cast<unsigned long long>(base));
  return seed;
}

}  // namespace octet::cosim_test
