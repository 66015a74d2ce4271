// Seeded random integer tensors for the golden tests (seeds are printed by the tests).
#pragma once

#include <cstdint>
#include <random>

#include "golden/tensor.h"

namespace octet::testing {

template <typename T>
golden::Tensor<T> random_tensor(std::mt19937_64& gen, const golden::Shape& shape, int64_t lo, int64_t hi, int exp) {
  golden::Tensor<T> t(shape, exp);
  std::uniform_int_distribution<int64_t> d(lo, hi);
  for (auto& v : t.data) v = static_cast<T>(d(gen));
  return t;
}

inline int64_t uniform(std::mt19937_64& gen, int64_t lo, int64_t hi) {
  return std::uniform_int_distribution<int64_t>(lo, hi)(gen);
}

}  // namespace octet::testing
