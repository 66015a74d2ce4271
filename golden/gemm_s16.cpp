#include "golden/gemm_s16.h"

#include <immintrin.h>

#include <algorithm>
#include <vector>

namespace octet::golden {

namespace {

void gemm_portable(int64_t M, int64_t N, int64_t K, const int16_t* A, const int16_t* B, int32_t* C) {
  for (int64_t m = 0; m < M; ++m) {
    int32_t* c = C + m * N;
    std::fill(c, c + N, 0);
    for (int64_t k = 0; k < K; ++k) {
      const int32_t a = A[m * K + k];
      if (a == 0) continue;
      const int16_t* b = B + k * N;
      for (int64_t n = 0; n < N; ++n) c[n] += a * b[n];
    }
  }
}

// B packed as row pairs: Bp[kp][n][2] = {B[2kp][n], B[2kp+1][n]}, N padded to 16.
__attribute__((target("avx2"))) void gemm_avx2(int64_t M, int64_t N, int64_t K, const int16_t* A,
                                               const int16_t* B, int32_t* C) {
  const int64_t KP = (K + 1) / 2, NP = (N + 15) / 16 * 16;
  std::vector<int16_t> bp(static_cast<size_t>(KP * NP * 2), 0);
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n) bp[((k / 2) * NP + n) * 2 + (k & 1)] = B[k * N + n];
  // A packed as int32 pairs per row: ap[m][kp] = {A[m][2kp], A[m][2kp+1]}.
  std::vector<int32_t> ap(static_cast<size_t>(M * KP), 0);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t k = 0; k < K; ++k) {
      auto* pair = reinterpret_cast<int16_t*>(&ap[m * KP + k / 2]);
      pair[k & 1] = A[m * K + k];
    }
  alignas(32) int32_t tmp[4][16];
  for (int64_t m0 = 0; m0 < M; m0 += 4) {
    const int64_t mr = std::min<int64_t>(4, M - m0);
    for (int64_t n0 = 0; n0 < NP; n0 += 16) {
      __m256i acc[4][2];
      for (auto& row : acc) row[0] = row[1] = _mm256_setzero_si256();
      for (int64_t kp = 0; kp < KP; ++kp) {
        const int16_t* b = &bp[(kp * NP + n0) * 2];
        const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b));
        const __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 16));
        for (int64_t r = 0; r < mr; ++r) {
          const __m256i a = _mm256_set1_epi32(ap[(m0 + r) * KP + kp]);
          acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(a, b0));
          acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(a, b1));
        }
      }
      // Lane order of the packed pairs: b0 covers columns n0..n0+7, b1 n0+8..n0+15.
      for (int64_t r = 0; r < mr; ++r) {
        _mm256_store_si256(reinterpret_cast<__m256i*>(tmp[r]), acc[r][0]);
        _mm256_store_si256(reinterpret_cast<__m256i*>(tmp[r] + 8), acc[r][1]);
        const int64_t nr = std::min<int64_t>(16, N - n0);
        std::copy(tmp[r], tmp[r] + nr, C + (m0 + r) * N + n0);
      }
    }
  }
}

void gemm_abt_portable(int64_t M, int64_t N, int64_t K, const int16_t* A, int64_t lda, const int16_t* B,
                       int64_t ldb, int32_t* C) {
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      int32_t acc = 0;
      for (int64_t k = 0; k < K; ++k) acc += int32_t{A[m * lda + k]} * B[n * ldb + k];
      C[m * N + n] = acc;
    }
}

__attribute__((target("avx2"))) int32_t hsum(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  return _mm_cvtsi128_si32(s);
}

__attribute__((target("avx2"))) void gemm_abt_avx2(int64_t M, int64_t N, int64_t K, const int16_t* A, int64_t lda,
                                                   const int16_t* B, int64_t ldb, int32_t* C) {
  const int64_t K16 = K / 16 * 16;
  for (int64_t m0 = 0; m0 < M; m0 += 2) {
    const int64_t mr = std::min<int64_t>(2, M - m0);
    for (int64_t n0 = 0; n0 < N; n0 += 4) {
      const int64_t nr = std::min<int64_t>(4, N - n0);
      __m256i acc[2][4];
      for (auto& row : acc)
        for (auto& a : row) a = _mm256_setzero_si256();
      for (int64_t k = 0; k < K16; k += 16) {
        __m256i b[4];
        for (int64_t j = 0; j < nr; ++j)
          b[j] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(B + (n0 + j) * ldb + k));
        for (int64_t i = 0; i < mr; ++i) {
          const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(A + (m0 + i) * lda + k));
          for (int64_t j = 0; j < nr; ++j) acc[i][j] = _mm256_add_epi32(acc[i][j], _mm256_madd_epi16(a, b[j]));
        }
      }
      for (int64_t i = 0; i < mr; ++i)
        for (int64_t j = 0; j < nr; ++j) {
          int32_t sum = hsum(acc[i][j]);
          for (int64_t k = K16; k < K; ++k) sum += int32_t{A[(m0 + i) * lda + k]} * B[(n0 + j) * ldb + k];
          C[(m0 + i) * N + n0 + j] = sum;
        }
    }
  }
}

bool cpu_has_avx2() {
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
}

}  // namespace

void gemm_s16(int64_t M, int64_t N, int64_t K, const int16_t* A, const int16_t* B, int32_t* C) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    std::fill(C, C + M * N, 0);
    return;
  }
  if (cpu_has_avx2())
    gemm_avx2(M, N, K, A, B, C);
  else
    gemm_portable(M, N, K, A, B, C);
}

void gemm_s16_abt(int64_t M, int64_t N, int64_t K, const int16_t* A, int64_t lda, const int16_t* B, int64_t ldb,
                  int32_t* C) {
  if (M <= 0 || N <= 0) return;
  if (cpu_has_avx2())
    gemm_abt_avx2(M, N, K, A, lda, B, ldb, C);
  else
    gemm_abt_portable(M, N, K, A, lda, B, ldb, C);
}

bool gemm_s16_uses_avx2() { return cpu_has_avx2(); }

}  // namespace octet::golden
