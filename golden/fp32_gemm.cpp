#include "golden/fp32_gemm.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace octet::golden::fp32 {

namespace {

template <typename T>
struct Tile;
template <>
struct Tile<float> {
  static constexpr int MR = 6, NR = 16;
};
template <>
struct Tile<double> {
  static constexpr int MR = 6, NR = 8;
};

constexpr int kMC = 96;    // rows of op(A) per packed block (multiple of MR): 96 KB of floats at KC
constexpr int kKC = 256;   // depth per packed block
constexpr int kNC = 2048;  // columns of op(B) per packed block (multiple of NR)

// Packs op(A)[i0 .. i0+mc) x [k0 .. k0+kc) into MR-row panels, each stored k-major: panel[k][r].
template <typename T>
void pack_a(bool ta, const T* A, int lda, int i0, int mc, int k0, int kc, T* Ap) {
  constexpr int MR = Tile<T>::MR;
  for (int ip = 0; ip < mc; ip += MR) {
    const int mr = std::min(MR, mc - ip);
    T* dst = Ap + static_cast<size_t>(ip) * kc;
    if (ta) {
      for (int k = 0; k < kc; ++k) {
        const T* src = A + static_cast<size_t>(k0 + k) * lda + i0 + ip;
        for (int r = 0; r < mr; ++r) dst[k * MR + r] = src[r];
        for (int r = mr; r < MR; ++r) dst[k * MR + r] = T(0);
      }
    } else {
      for (int r = 0; r < mr; ++r) {
        const T* src = A + static_cast<size_t>(i0 + ip + r) * lda + k0;
        for (int k = 0; k < kc; ++k) dst[k * MR + r] = src[k];
      }
      for (int r = mr; r < MR; ++r)
        for (int k = 0; k < kc; ++k) dst[k * MR + r] = T(0);
    }
  }
}

// Packs op(B)[k0 .. k0+kc) x [j0 .. j0+nc) into NR-column panels, each stored k-major: panel[k][c].
template <typename T>
void pack_b(bool tb, const T* B, int ldb, int k0, int kc, int j0, int nc, T* Bp) {
  constexpr int NR = Tile<T>::NR;
  for (int jp = 0; jp < nc; jp += NR) {
    const int nr = std::min(NR, nc - jp);
    T* dst = Bp + static_cast<size_t>(jp) * kc;
    if (tb) {
      for (int c = 0; c < nr; ++c) {
        const T* src = B + static_cast<size_t>(j0 + jp + c) * ldb + k0;
        for (int k = 0; k < kc; ++k) dst[k * NR + c] = src[k];
      }
      for (int c = nr; c < NR; ++c)
        for (int k = 0; k < kc; ++k) dst[k * NR + c] = T(0);
    } else {
      for (int k = 0; k < kc; ++k) {
        const T* src = B + static_cast<size_t>(k0 + k) * ldb + j0 + jp;
        for (int c = 0; c < nr; ++c) dst[k * NR + c] = src[c];
        for (int c = nr; c < NR; ++c) dst[k * NR + c] = T(0);
      }
    }
  }
}

// One MR x NR tile of C from a packed A panel and a B panel whose row k starts at b + k * ldb
// (a packed panel: ldb = NR; op(B) read in place: its row stride).
template <typename T>
[[gnu::always_inline]] inline void micro_kernel(int kc, const T* __restrict a, const T* __restrict b, int ldb,
                                                T* __restrict c, int ldc, int mr, int nr, bool overwrite) {
  constexpr int MR = Tile<T>::MR, NR = Tile<T>::NR;
  constexpr int L = static_cast<int>(32 / sizeof(T)), NV = NR / L;
  typedef T V __attribute__((vector_size(32)));
  V acc[MR][NV];
  for (int r = 0; r < MR; ++r)
    for (int v = 0; v < NV; ++v) acc[r][v] = V{};
  for (int k = 0; k < kc; ++k) {
    V bv[NV];
    for (int v = 0; v < NV; ++v) std::memcpy(&bv[v], b + static_cast<size_t>(k) * ldb + v * L, sizeof(V));
    for (int r = 0; r < MR; ++r) {
      const T ar = a[k * MR + r];
      for (int v = 0; v < NV; ++v) acc[r][v] += ar * bv[v];
    }
  }
  alignas(32) T tmp[MR][NR];
  for (int r = 0; r < MR; ++r)
    for (int v = 0; v < NV; ++v) std::memcpy(&tmp[r][v * L], &acc[r][v], sizeof(V));
  for (int r = 0; r < mr; ++r) {
    T* cr = c + static_cast<size_t>(r) * ldc;
    if (overwrite)
      for (int j = 0; j < nr; ++j) cr[j] = tmp[r][j];
    else
      for (int j = 0; j < nr; ++j) cr[j] += tmp[r][j];
  }
}

// Panel jp of B starts at Bb + (jp / NR) * panel_stride, with rows ldb apart.
template <typename T>
[[gnu::always_inline]] inline void macro_kernel(int mc, int nc, int kc, const T* Ap, const T* Bb, size_t panel_stride,
                                                int ldb, T* C, int ldc, bool overwrite) {
  constexpr int MR = Tile<T>::MR, NR = Tile<T>::NR;
  for (int jp = 0; jp < nc; jp += NR)
    for (int ip = 0; ip < mc; ip += MR)
      micro_kernel<T>(kc, Ap + static_cast<size_t>(ip) * kc, Bb + static_cast<size_t>(jp / NR) * panel_stride, ldb,
                      C + static_cast<size_t>(ip) * ldc + jp, ldc, std::min(MR, mc - ip), std::min(NR, nc - jp),
                      overwrite);
}

#define OCTET_MACRO_ARGS(T) int mc, int nc, int kc, const T *Ap, const T *Bb, size_t ps, int ldb, T *C, int ldc, bool ow
__attribute__((target("avx2,fma"))) void macro_avx2(OCTET_MACRO_ARGS(float)) {
  macro_kernel<float>(mc, nc, kc, Ap, Bb, ps, ldb, C, ldc, ow);
}
__attribute__((target("avx2,fma"))) void macro_avx2(OCTET_MACRO_ARGS(double)) {
  macro_kernel<double>(mc, nc, kc, Ap, Bb, ps, ldb, C, ldc, ow);
}
void macro_portable(OCTET_MACRO_ARGS(float)) { macro_kernel<float>(mc, nc, kc, Ap, Bb, ps, ldb, C, ldc, ow); }
void macro_portable(OCTET_MACRO_ARGS(double)) { macro_kernel<double>(mc, nc, kc, Ap, Bb, ps, ldb, C, ldc, ow); }
#undef OCTET_MACRO_ARGS

bool detect_avx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

const bool kHaveAvx2 = detect_avx2();

}  // namespace

bool gemm_uses_avx2() { return kHaveAvx2; }

template <typename T>
void gemm(bool trans_a, bool trans_b, int M, int N, int K, const T* A, int lda, const T* B, int ldb, T* C, int ldc,
          bool accumulate) {
  constexpr int MR = Tile<T>::MR, NR = Tile<T>::NR;
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    if (!accumulate)
      for (int i = 0; i < M; ++i) std::fill_n(C + static_cast<size_t>(i) * ldc, N, T(0));
    return;
  }
  thread_local std::vector<T> Ap, Bp;
  const int nc_max = std::min(N, kNC), kc_max = std::min(K, kKC), mc_max = std::min(M, kMC);
  Ap.resize(static_cast<size_t>((mc_max + MR - 1) / MR * MR) * kc_max);
  Bp.resize(static_cast<size_t>((nc_max + NR - 1) / NR * NR) * kc_max);
  const auto macro = [](int mc, int nc, int kc, const T* Ap_, const T* Bb, size_t ps, int ldb_, T* Cb, int ldc_,
                         bool ow) {
    if (kHaveAvx2)
      macro_avx2(mc, nc, kc, Ap_, Bb, ps, ldb_, Cb, ldc_, ow);
    else
      macro_portable(mc, nc, kc, Ap_, Bb, ps, ldb_, Cb, ldc_, ow);
  };
  for (int j0 = 0; j0 < N; j0 += kNC) {
    const int nc = std::min(kNC, N - j0);
    // A non-transposed B is read in place for its full NR-column panels (no packing pass: with
    // few rows of A, as in convolutions with few output channels, packing would cost as much as
    // the product); only the ragged last panel is packed.
    const int nc_direct = trans_b ? 0 : nc / NR * NR;
    for (int k0 = 0; k0 < K; k0 += kKC) {
      const int kc = std::min(kKC, K - k0);
      if (nc_direct < nc) pack_b(trans_b, B, ldb, k0, kc, j0 + nc_direct, nc - nc_direct, Bp.data());
      const bool overwrite = !accumulate && k0 == 0;
      for (int i0 = 0; i0 < M; i0 += kMC) {
        const int mc = std::min(kMC, M - i0);
        pack_a(trans_a, A, lda, i0, mc, k0, kc, Ap.data());
        T* Cb = C + static_cast<size_t>(i0) * ldc + j0;
        if (nc_direct > 0)
          macro(mc, nc_direct, kc, Ap.data(), B + static_cast<size_t>(k0) * ldb + j0, NR, ldb, Cb, ldc, overwrite);
        if (nc_direct < nc)
          macro(mc, nc - nc_direct, kc, Ap.data(), Bp.data(), static_cast<size_t>(kc) * NR, NR, Cb + nc_direct, ldc,
                overwrite);
      }
    }
  }
}

template void gemm<float>(bool, bool, int, int, int, const float*, int, const float*, int, float*, int, bool);
template void gemm<double>(bool, bool, int, int, int, const double*, int, const double*, int, double*, int, bool);

}  // namespace octet::golden::fp32
