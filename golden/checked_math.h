// Size arithmetic on shapes and counts that come from input files or options: int64 products
// and sums that throw instead of wrapping. A wrapped count is a silently wrong answer (a MAC
// count of 0) or an allocation of the wrong size, so every product of input sizes goes
// through these. `where` names the input the way every bad-input message does,
// "path:line: field 'f'"; the error is an InputError of type E (DescError, TopologyError, ...).
#pragma once

#include <cstdint>
#include <string>

#include "golden/input_error.h"

namespace octet {

template <typename E = InputError>
int64_t checked_mul(int64_t a, int64_t b, const std::string& where) {
  int64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r))
    throw E(where + ": " + std::to_string(a) + " x " + std::to_string(b) + " does not fit in 64 bits");
  return r;
}

template <typename E = InputError>
int64_t checked_add(int64_t a, int64_t b, const std::string& where) {
  int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r))
    throw E(where + ": " + std::to_string(a) + " + " + std::to_string(b) + " does not fit in 64 bits");
  return r;
}

}  // namespace octet
