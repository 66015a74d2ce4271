// Integer tensor with a power-of-two exponent: element value = payload * 2^exp
// (docs/numerics.md §1). Row-major, outermost dimension first.
#pragma once

#include <cmath>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

namespace octet::golden {

using Shape = std::vector<int64_t>;

inline int64_t shape_elements(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d <= 0) throw std::invalid_argument("tensor shape has a dimension <= 0");
    n *= d;
  }
  return n;
}

template <typename T>
struct Tensor {
  Shape shape;
  std::vector<T> data;
  int exp = 0;  // value = data[i] * 2^exp

  Tensor() = default;
  Tensor(Shape s, int e) : shape(std::move(s)), data(static_cast<size_t>(shape_elements(shape))), exp(e) {}
  Tensor(Shape s, std::vector<T> d, int e) : shape(std::move(s)), data(std::move(d)), exp(e) {
    if (static_cast<int64_t>(data.size()) != shape_elements(shape))
      throw std::invalid_argument("tensor payload size " + std::to_string(data.size()) +
                                  " does not match its shape");
  }

  int64_t size() const { return static_cast<int64_t>(data.size()); }
  bool empty() const { return data.empty(); }

  // For reports and tests only: the golden numerics never leave integers.
  double as_double(int64_t i) const { return std::ldexp(static_cast<double>(data[static_cast<size_t>(i)]), exp); }
};

}  // namespace octet::golden
