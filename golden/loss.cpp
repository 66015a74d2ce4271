#include "golden/loss.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "golden/int_math.h"
#include "golden/softmax_table.h"

namespace octet::golden {

static_assert(kMaxClasses <= int64_t{1} << kSoftmaxExtraBits, "the sum's rounding bound of §7.1 needs C <= 2^extra");

SoftmaxLoss softmax_cross_entropy(const Tensor<int32_t>& logits, const std::vector<Label>& labels, int64_t batch) {
  if (logits.shape.size() != 2) throw std::invalid_argument("softmax_cross_entropy: logits must be {B, classes}");
  const int64_t B = logits.shape[0], C = logits.shape[1];
  if (static_cast<int64_t>(labels.size()) != B) throw std::invalid_argument("softmax_cross_entropy: one label per sample");
  if (batch == 0) batch = B;
  if (batch < B) throw std::invalid_argument("softmax_cross_entropy: the batch is smaller than its shard");
  if (C < 1 || C > kMaxClasses)
    throw std::invalid_argument("softmax_cross_entropy: " + std::to_string(C) + " classes (1.." +
                                std::to_string(kMaxClasses) + " supported)");
  SoftmaxLoss out{Tensor<int32_t>(logits.shape, -15), Tensor<int64_t>(logits.shape, -23)};
  constexpr int kPtildeExp = -15 - kSoftmaxExtraBits;  // p~ on 2^-31: <= 2^31 each, sum <= 2^47
  std::vector<int64_t> ptilde(static_cast<size_t>(C));
  for (int64_t b = 0; b < B; ++b) {
    if (labels[b] >= C) throw std::invalid_argument("softmax_cross_entropy: label " + std::to_string(labels[b]) + " >= classes");
    const int32_t* z = &logits.data[b * C];
    const int64_t zmax = *std::max_element(z, z + C);
    int64_t sum = 0;
    for (int64_t i = 0; i < C; ++i) {
      const int64_t u = int64_t{z[i]} - zmax;                                // <= 0, |u| < 2^32
      const int64_t t = shift_round_half_even(u * 47274, logits.exp - 7);   // log2 on 2^-8
      const int64_t w = -t;
      const int64_t table = int64_t{kExp2Table[w & 255]} << (-15 - kPtildeExp);  // 2^(-f/256) on 2^-31
      ptilde[i] = shift_right_round_half_even(table, static_cast<int>(std::min<int64_t>(w >> 8, 64)));
      sum += ptilde[i];
    }
    for (int64_t i = 0; i < C; ++i) {
      const int64_t p = divide_round_half_even(ptilde[i] << 15, sum);  // back to the 2^-15 output grid
      out.prob.data[b * C + i] = static_cast<int32_t>(p);
      const int64_t g = p - (i == labels[b] ? (int64_t{1} << 15) : 0);
      out.error.data[b * C + i] = divide_round_half_even(g * 256, batch);
    }
  }
  return out;
}

}  // namespace octet::golden
