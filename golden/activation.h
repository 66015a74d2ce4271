// ReLU with activation quantization and its backward mask (docs/numerics.md §5.5).
#pragma once

#include <cstdint>
#include <vector>

#include "golden/tensor.h"

namespace octet::golden {

struct ReluForward {
  Tensor<uint8_t> a;          // uint8 on 2^-7
  std::vector<uint8_t> mask;  // 1 where 0 < y <= 255·2^7: the gradient passes
};

// y: BN output on 2^-14.
ReluForward relu_quantize(const Tensor<int32_t>& y);

// Zeroes the error where the mask is 0 (E1 -> dy of the batch-norm backward).
Tensor<int32_t> relu_backward(const Tensor<int32_t>& e1, const std::vector<uint8_t>& mask);

}  // namespace octet::golden
