// Integer softmax cross-entropy error at the logits (docs/numerics.md §7.1).
#pragma once

#include <cstdint>
#include <vector>

#include "golden/label.h"
#include "golden/tensor.h"

namespace octet::golden {

struct SoftmaxLoss {
  Tensor<int32_t> prob;   // softmax on 2^-15, {B, classes}
  Tensor<int64_t> error;  // (p - onehot) / batch on 2^-23
};

// Fraction bits of the unnormalised probabilities p~ beyond the 2^-15 output grid: with at most
// kMaxClasses = 2^16 terms their roundings (half a unit of 2^-31 each) move the sum by <= 2^-16.
inline constexpr int kSoftmaxExtraBits = 16;

// logits: {B, classes} int32 on 2^e_z (e_z <= 7), 1 <= classes <= kMaxClasses; labels < classes.
// batch: the divisor of the error, the whole batch's size when the logits are one shard of it
// (0: B, the logits' own batch).
SoftmaxLoss softmax_cross_entropy(const Tensor<int32_t>& logits, const std::vector<Label>& labels, int64_t batch = 0);

}  // namespace octet::golden
