// int16 x int16 -> int32 matrix product, the workhorse of the fast kernels. The caller
// guarantees that no partial sum leaves int32 (it bounds K * max|A| * max|B| < 2^31).
#pragma once

#include <cstdint>

namespace octet::golden {

// C[M x N] = A[M x K] * B[K x N], all row-major.
void gemm_s16(int64_t M, int64_t N, int64_t K, const int16_t* A, const int16_t* B, int32_t* C);

// C[M x N] = A * B^T with A[M x K] (row stride lda) and B[N x K] (row stride ldb):
// dot products along contiguous rows, as the weight gradient needs (reduction over pixels).
void gemm_s16_abt(int64_t M, int64_t N, int64_t K, const int16_t* A, int64_t lda, const int16_t* B, int64_t ldb,
                  int32_t* C);

bool gemm_s16_uses_avx2();

}  // namespace octet::golden
