#include "golden/activation_fast.h"

#include <algorithm>
#include <atomic>
#include <stdexcept>

#include "golden/activation_simd.h"
#include "golden/parallel.h"

namespace octet::golden {

namespace {
bool cpu_has_avx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2");
}
std::atomic<bool> g_use_avx2{cpu_has_avx2()};
bool cpu_has_avx512() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
}
std::atomic<bool> g_use_avx512{cpu_has_avx512()};

constexpr int64_t kChunk = 1 << 15;  // elements per parallel work item

void relu_quantize_portable(const int32_t* y, int64_t n, uint8_t* act, uint8_t* mask) {
  for (int64_t i = 0; i < n; ++i) simd::relu_element(y[i], act + i, mask + i);
}

__attribute__((target("avx2"))) void relu_quantize_avx2(const int32_t* y, int64_t n, uint8_t* act, uint8_t* mask) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    simd::relu8_avx2(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(y + i)), act + i, mask + i);
  relu_quantize_portable(y + i, n - i, act + i, mask + i);
}

__attribute__((target("avx512f,avx512bw,avx512vl"))) void relu_quantize_avx512(const int32_t* y, int64_t n,
                                                                                uint8_t* act, uint8_t* mask) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) simd::relu16_avx512<true>(_mm512_loadu_si512(y + i), 0xFFFF, act + i, mask + i);
  if (i < n) {
    const auto lanes = static_cast<__mmask16>((1u << (n - i)) - 1);
    simd::relu16_avx512<false>(_mm512_maskz_loadu_epi32(lanes, y + i), lanes, act + i, mask + i);
  }
}

void mask_portable(int32_t* e, const uint8_t* mask, int64_t n) {
  for (int64_t i = 0; i < n; ++i) e[i] &= -static_cast<int32_t>(mask[i] != 0);
}

__attribute__((target("avx2"))) void mask_avx2(int32_t* e, const uint8_t* mask, int64_t n) {
  int64_t i = 0;
  const __m256i zero = _mm256_setzero_si256();
  for (; i + 8 <= n; i += 8) {
    const __m256i m = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(mask + i)));
    auto* p = reinterpret_cast<__m256i*>(e + i);
    _mm256_storeu_si256(p, _mm256_andnot_si256(_mm256_cmpeq_epi32(m, zero), _mm256_loadu_si256(p)));
  }
  mask_portable(e + i, mask + i, n - i);
}
}  // namespace

bool bn_relu_fast_uses_avx2() { return g_use_avx2.load(std::memory_order_relaxed); }
void bn_relu_fast_set_avx2(bool enabled) { g_use_avx2 = enabled && cpu_has_avx2(); }
bool bn_relu_fast_uses_avx512() {
  return g_use_avx512.load(std::memory_order_relaxed) && g_use_avx2.load(std::memory_order_relaxed);
}
void bn_relu_fast_set_avx512(bool enabled) { g_use_avx512 = enabled && cpu_has_avx512(); }

ReluForward relu_quantize_fast(const Tensor<int32_t>& y, int threads) {
  if (y.exp != -14) throw std::invalid_argument("relu_quantize: input must be on 2^-14");
  ReluForward out{Tensor<uint8_t>(y.shape, -7, Uninitialized{}), std::vector<uint8_t>(y.data.size())};
  const int64_t n = y.size();
  // (The AVX-512 element kernel is the fused BN+ReLU's: tested here on every edge value.)
  const auto kernel = bn_relu_fast_uses_avx512() ? relu_quantize_avx512
                      : bn_relu_fast_uses_avx2() ? relu_quantize_avx2
                                                 : relu_quantize_portable;
  parallel_for((n + kChunk - 1) / kChunk, threads, [&](int64_t k) {
    const int64_t begin = k * kChunk, len = std::min(kChunk, n - begin);
    kernel(y.data.data() + begin, len, out.a.data.data() + begin,
                                                         out.mask.data() + begin);
  });
  return out;
}

Tensor<int32_t> relu_backward_fast(Tensor<int32_t> e1, const std::vector<uint8_t>& mask, int threads) {
  if (mask.size() != e1.data.size()) throw std::invalid_argument("relu_backward: mask size differs from the error");
  const int64_t n = e1.size();
  const bool avx2 = bn_relu_fast_uses_avx2();
  parallel_for((n + kChunk - 1) / kChunk, threads, [&](int64_t k) {
    const int64_t begin = k * kChunk, len = std::min(kChunk, n - begin);
    (avx2 ? mask_avx2 : mask_portable)(e1.data.data() + begin, mask.data() + begin, len);
  });
  return e1;
}

}  // namespace octet::golden
