#include "golden/optimizer_fast.h"

#include <stdexcept>
#include <string>

#include "golden/simd_clones.h"

namespace octet::golden {

namespace {

constexpr int64_t kMin32 = -(int64_t{1} << 31), kMax32 = (int64_t{1} << 31) - 1;

// acc = V + G; M = sat32(M - lr_q * acc); V = sat32(rshift(acc, 2)) with round half to even:
// |acc| < 2^33 and lr_q < 2^9, so every intermediate fits int64, and rshift(acc, 2) =
// (acc + 1 + bit 2 of acc) >> 2 (arithmetic): the dropped two bits carry into the quotient
// exactly when they exceed half, or equal half with an odd quotient.
OCTET_SIMD_CLONES_AVX512 void momentum_kernel(int32_t* __restrict master, int32_t* __restrict momentum,
                                              const int32_t* __restrict grad, int64_t n, int64_t lr_q) {
  for (int64_t i = 0; i < n; ++i) {
    const int64_t acc = int64_t{momentum[i]} + grad[i];
    int64_t m = int64_t{master[i]} - lr_q * acc;
    m = m < kMin32 ? kMin32 : (m > kMax32 ? kMax32 : m);
    int64_t v = (acc + 1 + ((acc >> 2) & 1)) >> 2;
    v = v < kMin32 ? kMin32 : (v > kMax32 ? kMax32 : v);
    master[i] = static_cast<int32_t>(m);
    momentum[i] = static_cast<int32_t>(v);
  }
}

// clip(rshift(M, 16), ±127), rshift rounding half to even as above (M + 2^15 - 1 + bit 16).
OCTET_SIMD_CLONES_AVX512 void weight8_kernel(const int32_t* __restrict master, int8_t* __restrict w, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const int64_t m = master[i];
    int64_t q = (m + 0x7FFF + ((m >> 16) & 1)) >> 16;
    q = q < -127 ? -127 : (q > 127 ? 127 : q);
    w[i] = static_cast<int8_t>(q);
  }
}

}  // namespace

void momentum_update_fast(ParamState& s, const Tensor<int32_t>& grad, int lr_q) {
  // The reference's checks, in its order.
  if (grad.exp != -14) throw std::invalid_argument("momentum_update: gradient must be on 2^-14");
  if (grad.shape != s.master.shape) throw std::invalid_argument("momentum_update: gradient shape differs");
  if (lr_q < 0 || lr_q > kLrQMax)
    throw std::invalid_argument("momentum_update: lr_q outside [0, " + std::to_string(kLrQMax) + "]");
  momentum_kernel(s.master.data.data(), s.momentum.data.data(), grad.data.data(), grad.size(), lr_q);
}

Tensor<int8_t> derive_weight8_fast(const Tensor<int32_t>& master) {
  Tensor<int8_t> w(master.shape, -7, Uninitialized{});  // every element is written
  weight8_kernel(master.data.data(), w.data.data(), master.size());
  return w;
}

}  // namespace octet::golden
