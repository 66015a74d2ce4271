// Test-run settings shared by the RTL testbenches: the random seed (printed, and
// overridable with OCTET_SEED=<n> to replay a failure) and where waveforms go.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace octet::tb {

inline uint64_t base_seed() {
  const char* env = std::getenv("OCTET_SEED");
  return env ? std::strtoull(env, nullptr, 0) : 0x0C7E7'2020ull;
}

// A per-test seed: the base seed mixed with a test-specific salt, printed for replay.
inline uint64_t test_seed(const char* test, uint64_t salt) {
  const uint64_t seed = base_seed() * 0x9E3779B97F4A7C15ull + salt;
  std::printf("[   seed   ] %s: seed %llu (base: OCTET_SEED=%llu)\n", test, static_cast<unsigned long long>(seed),
              static_cast<unsigned long long>(base_seed()));
  return seed;
}

inline std::string wave_path(const std::string& name) {
  std::filesystem::create_directories(OCTET_WAVE_DIR);
  return std::string(OCTET_WAVE_DIR) + "/" + name + ".fst";
}

// Index of the first element where the two results differ, or -1.
template <typename V>
int64_t first_mismatch(const V& expected, const V& actual) {
  if (expected.size() != actual.size()) return 0;
  for (size_t i = 0; i < expected.size(); ++i)
    if (expected[i] != actual[i]) return static_cast<int64_t>(i);
  return -1;
}

}  // namespace octet::tb
