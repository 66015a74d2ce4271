// Exact addition of two integer tensors on the finer of their exponents (docs/numerics.md
// §5.3 forward, §7.3-§7.4 for errors along shortcuts). Overflow is an error.
#pragma once

#include <cstdint>

#include "golden/tensor.h"

namespace octet::golden {

Tensor<int32_t> residual_add(const Tensor<int32_t>& a, const Tensor<int32_t>& b);
Tensor<int64_t> error_add(const Tensor<int64_t>& a, const Tensor<int64_t>& b);

}  // namespace octet::golden
