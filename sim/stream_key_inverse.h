// The shift-quantizer RTL derives a CQ stream key from (seed, step, tensor) itself
// (rtl/sq_stream_key.sv), while a model job carries only the key. mix64 is a bijection, so
// the seed that yields a given key with step = tensor = 0 exists and is computed here; the
// RTL then recomputes exactly the job's key through its own key datapath.
#pragma once

#include <cstdint>

#include "golden/counter_rng.h"

namespace octet::sim {

// Multiplicative inverse of an odd number modulo 2^64 (Newton's iteration).
constexpr uint64_t inverse_mod_2_64(uint64_t a) {
  uint64_t x = a;  // correct to 3 bits; each step doubles the correct bits
  for (int i = 0; i < 6; ++i) x *= 2 - a * x;
  return x;
}

// z ^ (z >> s) undone.
constexpr uint64_t unxorshift(uint64_t z, int s) {
  uint64_t x = z;
  for (int i = s; i < 64; i += s) x = z ^ (x >> s);
  return x;
}

constexpr uint64_t unmix64(uint64_t z) {
  z = unxorshift(z, 31);
  z *= inverse_mod_2_64(0x94D049BB133111EBull);
  z = unxorshift(z, 27);
  z *= inverse_mod_2_64(0xBF58476D1CE4E5B9ull);
  return unxorshift(z, 30);
}

// The seed with make_stream_key(seed, 0, 0) == key.
constexpr uint64_t seed_for_key(golden::StreamKey key) {
  return golden::kSplitMixGamma ^ unmix64(unmix64(unmix64(key.value)));
}

static_assert(golden::make_stream_key(seed_for_key({0x0123456789ABCDEFull}), 0, 0).value == 0x0123456789ABCDEFull);

}  // namespace octet::sim
