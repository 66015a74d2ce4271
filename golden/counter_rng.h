// Counter-based random bits for stochastic rounding (docs/numerics.md §3).
// The random value of an element is a pure function of (seed, step, tensor id,
// element index): any tiling, lane count or thread order draws the same bits.
#pragma once

#include <cstdint>

namespace octet::golden {

// SplitMix64's increment (the odd integer nearest 2^64 / golden ratio).
inline constexpr uint64_t kSplitMixGamma = 0x9E3779B97F4A7C15ull;

// SplitMix64's finaliser: a bijective 64-bit mixer (two multiplies, three xor-shifts).
constexpr uint64_t mix64(uint64_t z) {
  z ^= z >> 30;
  z *= 0xBF58476D1CE4E5B9ull;
  z ^= z >> 27;
  z *= 0x94D049BB133111EBull;
  z ^= z >> 31;
  return z;
}

// The key of one quantisation call: computed once per tensor, by absorbing seed,
// step and tensor id one after the other.
struct StreamKey {
  uint64_t value = 0;
};

constexpr StreamKey make_stream_key(uint64_t seed, uint64_t step, uint64_t tensor_id) {
  uint64_t h = mix64(kSplitMixGamma ^ seed);
  h = mix64(h ^ step);
  h = mix64(h ^ tensor_id);
  return StreamKey{h};
}

// 64 random bits of element `index`: the index-th output of SplitMix64 started at the key.
constexpr uint64_t random_bits(StreamKey key, uint64_t index) {
  return mix64(key.value + (index + 1) * kSplitMixGamma);
}

// The top `bits` (1..64) of random_bits: a uniform integer in [0, 2^bits).
constexpr uint64_t random_top_bits(StreamKey key, uint64_t index, int bits) {
  return random_bits(key, index) >> (64 - bits);
}

}  // namespace octet::golden
