#include "golden/residual.h"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "golden/int_math.h"

namespace octet::golden {

namespace {
template <typename T>
Tensor<T> add_aligned(const Tensor<T>& a, const Tensor<T>& b, const char* op) {
  if (a.shape != b.shape) throw std::invalid_argument(std::string(op) + ": operand shapes differ");
  const int e = std::min(a.exp, b.exp);
  Tensor<T> out(a.shape, e);
  for (int64_t i = 0; i < a.size(); ++i) {
    int64_t s;
    const bool wrapped =
        __builtin_add_overflow(shift_left_checked(a.data[i], a.exp - e), shift_left_checked(b.data[i], b.exp - e), &s);
    if (wrapped || s > std::numeric_limits<T>::max() || s < std::numeric_limits<T>::min())
      throw std::overflow_error(std::string(op) + ": sum leaves the accumulator width");
    out.data[i] = static_cast<T>(s);
  }
  return out;
}
}  // namespace

Tensor<int32_t> residual_add(const Tensor<int32_t>& a, const Tensor<int32_t>& b) {
  return add_aligned(a, b, "residual_add");
}

Tensor<int64_t> error_add(const Tensor<int64_t>& a, const Tensor<int64_t>& b) {
  // Near-zero operands can sit at very different exponents; an all-zero one never constrains.
  const bool a_zero = std::all_of(a.data.begin(), a.data.end(), [](int64_t v) { return v == 0; });
  const bool b_zero = std::all_of(b.data.begin(), b.data.end(), [](int64_t v) { return v == 0; });
  if (a_zero && a.shape == b.shape) return b;
  if (b_zero && a.shape == b.shape) return a;
  return add_aligned(a, b, "error_add");
}

}  // namespace octet::golden
