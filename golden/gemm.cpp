#include "golden/gemm.h"

#include <stdexcept>
#include <string>

namespace octet::golden {

namespace {

void check_acc_bits(int acc_bits) {
  if (acc_bits < 2 || acc_bits > 63)
    throw std::invalid_argument("gemm: accumulator width " + std::to_string(acc_bits) + " outside [2, 63]");
}

void check_matrix(const char* what, const Shape& shape) {
  if (shape.size() != 2) throw std::invalid_argument(std::string("gemm: ") + what + " must be a 2-D tensor");
}

void check_codes(const Tensor<FlagCode>& e) {
  constexpr int32_t lim = (1 << (kE2Bits - 1)) - 1;
  for (const FlagCode& c : e.data)
    if (c.value < -lim || c.value > lim)
      throw std::invalid_argument("gemm: E2 code value " + std::to_string(c.value) + " outside +-127");
}

// acc + p, as the hardware accumulator would hold it; |acc|, |p| < 2^62 so int64 never overflows.
int64_t accumulate(int64_t acc, int64_t p, int acc_bits) {
  const int64_t sum = acc + p;
  const int64_t hi = (int64_t{1} << (acc_bits - 1)) - 1;
  if (sum > hi || sum < -hi - 1)
    throw std::overflow_error("gemm: partial sum " + std::to_string(sum) + " exceeds the " +
                              std::to_string(acc_bits) + "-bit accumulator");
  return sum;
}

int64_t decode(const FlagCode& c) { return flag_decode(c, kE2Bits); }

}  // namespace

Tensor<int64_t> gemm_forward(const Tensor<uint8_t>& a, const Tensor<int8_t>& w, int acc_bits) {
  check_acc_bits(acc_bits);
  check_matrix("A", a.shape);
  check_matrix("W", w.shape);
  const int64_t M = a.shape[0], K = a.shape[1], N = w.shape[1];
  if (w.shape[0] != K) throw std::invalid_argument("gemm_forward: A{M,K} and W{K,N} disagree on K");
  Tensor<int64_t> y({M, N}, a.exp + w.exp);
  for (int64_t m = 0; m < M; ++m) {
    for (int64_t n = 0; n < N; ++n) {
      int64_t acc = 0;
      for (int64_t k = 0; k < K; ++k)
        acc = accumulate(acc, int64_t{a.data[m * K + k]} * w.data[k * N + n], acc_bits);
      y.data[m * N + n] = acc;
    }
  }
  return y;
}

Tensor<int64_t> gemm_backward_data(const Tensor<FlagCode>& e, const Tensor<int8_t>& w, int acc_bits) {
  check_acc_bits(acc_bits);
  check_matrix("E2", e.shape);
  check_matrix("W", w.shape);
  check_codes(e);
  const int64_t M = e.shape[0], N = e.shape[1], K = w.shape[0];
  if (w.shape[1] != N) throw std::invalid_argument("gemm_backward_data: E2{M,N} and W{K,N} disagree on N");
  Tensor<int64_t> out({M, K}, e.exp + w.exp);
  for (int64_t m = 0; m < M; ++m) {
    for (int64_t k = 0; k < K; ++k) {
      int64_t acc = 0;
      for (int64_t n = 0; n < N; ++n)
        acc = accumulate(acc, decode(e.data[m * N + n]) * w.data[k * N + n], acc_bits);
      out.data[m * K + k] = acc;
    }
  }
  return out;
}

Tensor<int64_t> gemm_weight_grad(const Tensor<uint8_t>& a, const Tensor<FlagCode>& e, int acc_bits) {
  check_acc_bits(acc_bits);
  check_matrix("A", a.shape);
  check_matrix("E2", e.shape);
  check_codes(e);
  const int64_t M = a.shape[0], K = a.shape[1], N = e.shape[1];
  if (e.shape[0] != M) throw std::invalid_argument("gemm_weight_grad: A{M,K} and E2{M,N} disagree on M");
  Tensor<int64_t> g({K, N}, a.exp + e.exp);
  for (int64_t k = 0; k < K; ++k) {
    for (int64_t n = 0; n < N; ++n) {
      int64_t acc = 0;
      for (int64_t m = 0; m < M; ++m)
        acc = accumulate(acc, int64_t{a.data[m * K + k]} * decode(e.data[m * N + n]), acc_bits);
      g.data[k * N + n] = acc;
    }
  }
  return g;
}

}  // namespace octet::golden
