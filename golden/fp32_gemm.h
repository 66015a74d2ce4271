// Float / double GEMM for the FP32 twin (golden/fp32_network.h): cache-blocked, packed panels, a
// 6 x 16 (float) or 6 x 8 (double) register-tile micro-kernel written with GCC vector extensions.
// An AVX2+FMA build of the kernel is selected at run time when the CPU has it (no -march needed).
#pragma once

namespace octet::golden::fp32 {

// C[M x N] = op(A) [M x K] * op(B) [K x N], plus the old C when `accumulate`. Row-major.
// op(A) = A (M x K, row stride lda) or, when trans_a, A^T with A stored K x M (row stride lda).
// op(B) = B (K x N, row stride ldb) or, when trans_b, B^T with B stored N x K (row stride ldb).
// Single-threaded; callers parallelise over independent products.
template <typename T>
void gemm(bool trans_a, bool trans_b, int M, int N, int K, const T* A, int lda, const T* B, int ldb, T* C, int ldc,
          bool accumulate);

// True when the AVX2+FMA kernel is in use.
bool gemm_uses_avx2();

}  // namespace octet::golden::fp32
