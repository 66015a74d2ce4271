// Integer tensor with a power-of-two exponent: element value = payload * 2^exp
// (docs/numerics.md §1). Row-major, outermost dimension first.
#pragma once

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <memory>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace octet::golden {

using Shape = std::vector<int64_t>;

// std::allocator, except that a vector grown without a value leaves trivial elements
// uninitialised: a fast kernel's output is written element by element, so zero-filling it
// first only costs a serial pass over memory. Tensor(shape, exp) still zero-fills.
template <typename T>
struct NoFillAllocator : std::allocator<T> {
  template <typename U>
  struct rebind {
    using other = NoFillAllocator<U>;
  };
  NoFillAllocator() = default;
  template <typename U>
  NoFillAllocator(const NoFillAllocator<U>&) noexcept {}
  template <typename U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;  // default-initialisation: no zeroing for integers
#ifdef OCTET_POISON_UNINITIALIZED
    // Test builds (cmake -DOCTET_POISON_UNINITIALIZED=ON): a kernel that leaves an element
    // unwritten shows up as a wrong value instead of a lucky zero.
    if constexpr (std::is_trivially_copyable_v<U>) std::memset(static_cast<void*>(p), 0x5A, sizeof(U));
#endif
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

// A tensor's payload storage.
template <typename T>
using Payload = std::vector<T, NoFillAllocator<T>>;

// Payloads compare with plain vectors (tests and reports hold expected values as std::vector).
template <typename T>
bool operator==(const Payload<T>& a, const std::vector<T>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}
template <typename T>
bool operator==(const std::vector<T>& a, const Payload<T>& b) {
  return b == a;
}

struct Uninitialized {};  // tag: the caller writes every element

inline int64_t shape_elements(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d <= 0) throw std::invalid_argument("tensor shape has a dimension <= 0");
    if (__builtin_mul_overflow(n, d, &n)) throw std::invalid_argument("tensor shape has more than 2^63 - 1 elements");
  }
  return n;
}

template <typename T>
struct Tensor {
  Shape shape;
  Payload<T> data;
  int exp = 0;  // value = data[i] * 2^exp

  Tensor() = default;
  Tensor(Shape s, int e) : shape(std::move(s)), data(static_cast<size_t>(shape_elements(shape)), T{}), exp(e) {}
  // Payload left uninitialised, for kernels that write every element.
  Tensor(Shape s, int e, Uninitialized) : shape(std::move(s)), data(static_cast<size_t>(shape_elements(shape))), exp(e) {}
  Tensor(Shape s, Payload<T> d, int e) : shape(std::move(s)), data(std::move(d)), exp(e) { check_size(); }
  Tensor(Shape s, const std::vector<T>& d, int e) : shape(std::move(s)), data(d.begin(), d.end()), exp(e) { check_size(); }
  Tensor(Shape s, std::initializer_list<T> d, int e) : shape(std::move(s)), data(d), exp(e) { check_size(); }

  void check_size() const {
    if (static_cast<int64_t>(data.size()) != shape_elements(shape))
      throw std::invalid_argument("tensor payload size " + std::to_string(data.size()) + " does not match its shape");
  }

  int64_t size() const { return static_cast<int64_t>(data.size()); }
  bool empty() const { return data.empty(); }

  // For reports and tests only: the golden numerics never leave integers.
  double as_double(int64_t i) const { return std::ldexp(static_cast<double>(data[static_cast<size_t>(i)]), exp); }
};

}  // namespace octet::golden
