// Max and average pooling on activations (docs/numerics.md §5.6) and their backward passes
// on wide errors. Layout NCHW; square windows; padding positions never take part.
#pragma once

#include <cstdint>
#include <vector>

#include "golden/tensor.h"

namespace octet::golden {

struct PoolParams {
  int kernel = 2;
  int stride = 2;
  int pad = 0;
  bool global = false;  // one output per channel over the whole plane
};

Shape pool_output_shape(const Shape& input, const PoolParams& p);

struct MaxPoolForward {
  Tensor<uint8_t> out;
  std::vector<int64_t> argmax;  // input index of the first maximum of each window
};
MaxPoolForward maxpool_forward(const Tensor<uint8_t>& x, const PoolParams& p);
Tensor<int64_t> maxpool_backward(const Tensor<int64_t>& e, const std::vector<int64_t>& argmax, const Shape& input_shape);

// out = rdiv(window sum, count of in-bounds positions), on the input's grid. `threads` splits
// the (image, channel) planes: the same result, and the first failing plane's exception.
Tensor<uint8_t> avgpool_forward(const Tensor<uint8_t>& x, const PoolParams& p, int threads = 1);
// Each in-bounds input of a window gets rdiv(e * 2^8, count), on e.exp - 8.
Tensor<int64_t> avgpool_backward(const Tensor<int64_t>& e, const Shape& input_shape, const PoolParams& p,
                                 int threads = 1);

}  // namespace octet::golden
