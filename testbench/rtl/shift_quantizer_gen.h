// Random tensors and configurations for the shift-quantizer testbenches.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "testbench/rtl/shift_quantizer_types.h"

namespace octet::tb {

inline constexpr int64_t kInMax = kInW == 64 ? INT64_MAX : (int64_t{1} << (kInW - 1)) - 1;
inline constexpr int64_t kInMin = -kInMax - 1;

// ceil(sqrt(2) * 2^j): the smallest magnitude with round_log2 = j + 1 (golden-derived).
int64_t sqrt2_threshold(int j);

// A tensor of n values in the input range, from one of several families (uniform, sparse,
// narrow, log-uniform magnitudes, ...) at a random scale, sometimes with injected extremes
// and round_log2 threshold values.
std::vector<int64_t> random_tensor(std::mt19937_64& g, int64_t n);

// A random tensor size: small (around the lane count), medium or large.
int64_t random_size(std::mt19937_64& g);

// A random valid configuration of the given mode (k = 8 and s = 7 often).
SqConfig random_config(std::mt19937_64& g, SqMode mode);

// Turns on the weight-decay addend of c: a random shift (mostly the left shifts weight decay
// uses, also right shifts, the edge of the input width and any 8-bit value) and one random
// int8 weight per element (extremes and zeros included).
void random_addend(std::mt19937_64& g, SqCase& c);

}  // namespace octet::tb
