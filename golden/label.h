// Class labels and the largest class count the integer softmax supports (docs/numerics.md §7.1, §10).
#pragma once

#include <cstdint>
#include <limits>

namespace octet::golden {

// At most 2^16 classes: the integer softmax keeps 16 fraction bits below its output grid in each
// unnormalised probability so that the roundings of 2^16 terms move the sum by at most 2^-16
// (§7.1). Network descriptions accept no larger dimension (network_desc.cpp, kMaxNumber).
inline constexpr int64_t kMaxClasses = int64_t{1} << 16;

// A class index 0 .. classes-1. uint16 holds every label of the largest supported class count
// (ImageNet's 1000 included) and no negative one; uint8 stopped at 256 classes.
using Label = uint16_t;
static_assert(kMaxClasses - 1 == std::numeric_limits<Label>::max(), "Label must hold every class index");

}  // namespace octet::golden
