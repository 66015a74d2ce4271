#include "golden/activation.h"

#include <stdexcept>

#include "golden/int_math.h"

namespace octet::golden {

ReluForward relu_quantize(const Tensor<int32_t>& y) {
  if (y.exp != -14) throw std::invalid_argument("relu_quantize: input must be on 2^-14");
  ReluForward out{Tensor<uint8_t>(y.shape, -7), std::vector<uint8_t>(y.data.size())};
  for (int64_t i = 0; i < y.size(); ++i) {
    const int64_t v = y.data[i];
    out.a.data[i] = static_cast<uint8_t>(saturate(shift_right_round_half_even(v, 7), 0, 255));
    out.mask[i] = (v > 0 && v <= 255 * 128) ? 1 : 0;
  }
  return out;
}

Tensor<int32_t> relu_backward(const Tensor<int32_t>& e1, const std::vector<uint8_t>& mask) {
  if (mask.size() != e1.data.size()) throw std::invalid_argument("relu_backward: mask size differs from the error");
  Tensor<int32_t> out = e1;
  for (size_t i = 0; i < mask.size(); ++i)
    if (!mask[i]) out.data[i] = 0;
  return out;
}

}  // namespace octet::golden
