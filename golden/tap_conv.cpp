#include "golden/tap_conv.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "golden/parallel.h"
#include "golden/quantizers_fast.h"

namespace octet::golden::tap_conv {

namespace {

constexpr int64_t kTileM = 4;  // output rows per microkernel tile (broadcast weight pairs)

// Products of magnitudes <= a, b that an int32 partial sum may hold.
int64_t products_per_flush(int64_t a, int64_t b) {
  return (a == 0 || b == 0) ? int64_t{INT32_MAX} : int64_t{INT32_MAX} / a / b;
}

int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }
int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
// floor(a / b) for b > 0 and any sign of a.
int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// A shifted-tap product over int16 pair planes:
//   out[m][q] = sum_{t < T} sum_{cp < CP} madd(wpk[m/4][t][cp][m%4], planes[off[t] + cp*L + q])
// where every int32 of wpk / planes holds an int16 pair (channel 2cp, 2cp+1) and madd is
// vpmaddwd's a0*b0 + a1*b1. Offsets and L count pairs.
struct TapProduct {
  int64_t M = 0, T = 0, CP = 0, L = 0;
  std::vector<int64_t> off;   // [T]
  std::vector<int32_t> wpk;   // [ceil(M/4)][T][CP][4]
};

int32_t pair(int64_t lo, int64_t hi) {
  return static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint16_t>(lo)) |
                              (static_cast<uint32_t>(static_cast<uint16_t>(hi)) << 16));
}

__attribute__((target("avx2"))) inline void store_row(int32_t* out, __m256i v0, __m256i v1, __m256i v2) {
  __m256i* o = reinterpret_cast<__m256i*>(out);
  _mm256_storeu_si256(o, v0);
  _mm256_storeu_si256(o + 1, v1);
  _mm256_storeu_si256(o + 2, v2);
}

// 4 rows x 24 grid pixels, reduced over taps [0, T) and all channel pairs; 12 accumulators.
__attribute__((target("avx2"))) void tap_tile(const int32_t* w, int64_t /*wstride: one row block*/,
                                              const int16_t* b, const int64_t* off, int64_t T, int64_t CP, int64_t L,
                                              int32_t* out, int64_t ldo) {
  __m256i c00 = _mm256_setzero_si256(), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00;
  __m256i c20 = c00, c21 = c00, c22 = c00, c30 = c00, c31 = c00, c32 = c00;
  for (int64_t t = 0; t < T; ++t) {
    const int16_t* bt = b + 2 * off[t];
    for (int64_t cp = 0; cp < CP; ++cp, bt += 2 * L, w += 4) {
      const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bt));
      const __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bt + 16));
      const __m256i b2 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bt + 32));
      __m256i a = _mm256_set1_epi32(w[0]);
      c00 = _mm256_add_epi32(c00, _mm256_madd_epi16(a, b0));
      c01 = _mm256_add_epi32(c01, _mm256_madd_epi16(a, b1));
      c02 = _mm256_add_epi32(c02, _mm256_madd_epi16(a, b2));
      a = _mm256_set1_epi32(w[1]);
      c10 = _mm256_add_epi32(c10, _mm256_madd_epi16(a, b0));
      c11 = _mm256_add_epi32(c11, _mm256_madd_epi16(a, b1));
      c12 = _mm256_add_epi32(c12, _mm256_madd_epi16(a, b2));
      a = _mm256_set1_epi32(w[2]);
      c20 = _mm256_add_epi32(c20, _mm256_madd_epi16(a, b0));
      c21 = _mm256_add_epi32(c21, _mm256_madd_epi16(a, b1));
      c22 = _mm256_add_epi32(c22, _mm256_madd_epi16(a, b2));
      a = _mm256_set1_epi32(w[3]);
      c30 = _mm256_add_epi32(c30, _mm256_madd_epi16(a, b0));
      c31 = _mm256_add_epi32(c31, _mm256_madd_epi16(a, b1));
      c32 = _mm256_add_epi32(c32, _mm256_madd_epi16(a, b2));
    }
  }
  store_row(out, c00, c01, c02);
  store_row(out + ldo, c10, c11, c12);
  store_row(out + 2 * ldo, c20, c21, c22);
  store_row(out + 3 * ldo, c30, c31, c32);
}

// acc + vpdpwssd(a, b), in place. GCC 12 compiles the _mm512_dpwssd_epi32 intrinsic with a
// zmm copy of the accumulator before and after nearly every vpdpwssd (two extra instructions
// per multiply-add in the tiles below); the asm form keeps each accumulator in its register.
__attribute__((target("avx512f,avx512vnni"))) inline __m512i dpwssd(__m512i acc, __m512i a, __m512i b) {
  asm("vpdpwssd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b));
  return acc;
}

// The same with AVX-512 VNNI: RB row blocks of 4 rows (their weights wstride int32 apart)
// x 16*NV grid pixels (NV zmm of 16 int32 lanes), vpdpwssd fusing vpmaddwd and the add
// (also a0*b0 + a1*b1 into the int32 lane, without saturation).
template <int NV, int RB>
__attribute__((target("avx512f,avx512bw,avx512vnni"))) void tap_tile_512(const int32_t* w, int64_t wstride,
                                                                         const int16_t* b, const int64_t* off,
                                                                         int64_t T, int64_t CP, int64_t L,
                                                                         int32_t* out, int64_t ldo) {
  constexpr int kRows = kTileM * RB;
  __m512i c[kRows][NV];
  for (auto& row : c)
    for (auto& v : row) v = _mm512_setzero_si512();
  for (int64_t t = 0; t < T; ++t) {
    const int16_t* bt = b + 2 * off[t];
    for (int64_t cp = 0; cp < CP; ++cp, bt += 2 * L, w += kTileM) {
      __m512i bv[NV];
      for (int v = 0; v < NV; ++v) bv[v] = _mm512_loadu_si512(bt + 32 * v);
      for (int r = 0; r < kRows; ++r) {
        const __m512i a = _mm512_set1_epi32(w[(r / kTileM) * wstride + r % kTileM]);
        for (int v = 0; v < NV; ++v) c[r][v] = dpwssd(c[r][v], a, bv[v]);
      }
    }
  }
  for (int r = 0; r < kRows; ++r)
    for (int v = 0; v < NV; ++v) _mm512_storeu_si512(out + r * ldo + 16 * v, c[r][v]);
}

using TapTile = void (*)(const int32_t* w, int64_t wstride, const int16_t* b, const int64_t* off, int64_t T,
                         int64_t CP, int64_t L, int32_t* out, int64_t ldo);

// The tile for grids of nq[i] pixels: AVX2's 24 pixels, or on AVX-512 the 32- or 48-pixel
// tile that computes fewer padding pixels over all grids (7x7 outputs: a 63-pixel grid is
// 64 pixels of 32-pixel tiles against 96 of 48).
// `pair` covers two row blocks (8 rows: 16 or 24 of the 32 zmm as accumulators), `single`
// one (the last of an odd count, and AVX2's tile).
struct TileChoice {
  TapTile pair, single;
  int64_t q;
};
TileChoice choose_tile(Isa isa, const std::vector<int64_t>& nq) {
  if (isa != Isa::avx512_vnni) return {nullptr, tap_tile, 24};
  int64_t cost32 = 0, cost48 = 0;
  for (int64_t n : nq) cost32 += round_up(n, 32), cost48 += round_up(n, 48);
  return cost32 < cost48 ? TileChoice{tap_tile_512<2, 2>, tap_tile_512<2, 1>, 32}
                         : TileChoice{tap_tile_512<3, 2>, tap_tile_512<3, 1>, 48};
}

// out[m][q - q0] for q in [q0, q0 + nq) rounded up to whole tiles, taps [t0, t1); out has
// round_up(M, 4) rows of stride ldo >= round_up(nq, tq). planes must be readable up to
// q0 + round_up(nq, tq) + max(off) + (CP-1)*L + tq pairs (tq: the tile's grid pixels).
void run(const TapProduct& g, const TileChoice& tc, const int16_t* planes, int64_t t0, int64_t t1, int64_t q0,
         int64_t nq, int32_t* out, int64_t ldo) {
  const int64_t MB = ceil_div(g.M, kTileM), wstride = g.T * g.CP * kTileM;
  for (int64_t mb = 0; mb < MB;) {
    const bool two = tc.pair != nullptr && mb + 1 < MB;
    const TapTile tile = two ? tc.pair : tc.single;
    const int32_t* w = &g.wpk[((mb * g.T) + t0) * g.CP * kTileM];
    for (int64_t q = 0; q < nq; q += tc.q)
      tile(w, wstride, planes + 2 * (q0 + q), &g.off[t0], t1 - t0, g.CP, g.L, out + mb * kTileM * ldo + q, ldo);
    mb += two ? 2 : 1;
  }
}

// dst[j*s] = src[j] (widened to int64, or as int32).
template <typename OutT>
__attribute__((target("avx2"))) void scatter64(const int32_t* src, int64_t n, int64_t s, OutT* dst) {
  if (s == 1)
    for (int64_t j = 0; j < n; ++j) dst[j] = src[j];
  else
    for (int64_t j = 0; j < n; ++j) dst[j * s] = src[j];
}

// Smallest and largest int32 packed (the error must fit int16; checked while packing
// instead of in a separate pass).
struct ValueRange {
  int32_t lo = 0, hi = 0;
  int64_t max_abs() const { return std::max<int64_t>(hi, -int64_t{lo}); }
  bool fits_int16() const { return lo >= -32767 && hi <= 32767; }
};

__attribute__((target("avx2"))) inline int32_t hmin32(__m256i v) {
  __m128i m = _mm_min_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  m = _mm_min_epi32(m, _mm_shuffle_epi32(m, 0x4E));
  return _mm_cvtsi128_si32(_mm_min_epi32(m, _mm_shuffle_epi32(m, 0xB1)));
}

__attribute__((target("avx2"))) inline int32_t hmax32(__m256i v) {
  __m128i m = _mm_max_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  m = _mm_max_epi32(m, _mm_shuffle_epi32(m, 0x4E));
  return _mm_cvtsi128_si32(_mm_max_epi32(m, _mm_shuffle_epi32(m, 0xB1)));
}

// Destination elements (int16, or int16 pairs) a vector step of pack_plane may write past a
// row: buffers keep this much slack after their last row.
constexpr int64_t kPackOverrun = 16;

// dst[0, n) = 0. A row's padding is a few elements: up to 16 take one vector store (which may
// write up to kPackOverrun elements past them, as pack_plane's vector steps do) instead of a
// libc memset call per row.
__attribute__((target("avx2"))) inline void zero_fill(int16_t* dst, int64_t n) {
  if (n <= 16)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), _mm256_setzero_si256());
  else
    std::fill(dst, dst + n, int16_t{0});
}

// Packs one zero-padded plane of rows x width int16 (kPairs: int16 pairs from channels a, b;
// b null gives zero partners): element (i, j) = src[r0 + s*i][c0 + s*j], 0 outside the
// H x W source. The valid column range is computed once per plane. Vector steps may read
// past a row (never past src_end) and write up to kPackOverrun elements past it: rows are
// packed in increasing address order and each row zero-fills its padding after its copy,
// so the spill is overwritten by the next row, plane, or the caller's tail fill.
// int32 sources (errors) also widen *range by every value read, including the spill
// (which belongs to the same tensor).
template <bool kPairs, typename T>
__attribute__((target("avx2"))) void pack_plane(const T* a, const T* b, const T* src_end, int64_t H, int64_t W,
                                                int64_t r0, int64_t c0, int64_t s, int64_t rows, int64_t width,
                                                int16_t* dst, ValueRange* range = nullptr) {
  constexpr int64_t kPer = kPairs ? 2 : 1;
  const int64_t lo = std::clamp<int64_t>(c0 >= 0 ? 0 : ceil_div(-c0, s), 0, width);
  const int64_t hi = std::clamp<int64_t>(floor_div(W - 1 - c0, s) + 1, lo, width);
  [[maybe_unused]] __m256i vlo = _mm256_setzero_si256(), vhi = vlo;
  [[maybe_unused]] int32_t lo_v = 0, hi_v = 0;
  for (int64_t i = 0; i < rows; ++i, dst += kPer * width) {
    const int64_t r = r0 + s * i;
    if (r < 0 || r >= H) {
      std::fill(dst, dst + kPer * width, int16_t{0});
      continue;
    }
    const T* ra = a + r * W + c0 + lo * s;
    const T* rb = b ? b + r * W + c0 + lo * s : nullptr;
    if (lo > 0) zero_fill(dst, kPer * lo);
    int16_t* o = dst + kPer * lo;
    const int64_t n = hi - lo;
    // Source elements left before src_end, for the row of a (and b, which lies further on).
    const int64_t room = rb ? src_end - rb : src_end - ra;
    int64_t j = 0;
    if constexpr (std::is_same_v<T, uint8_t>) {
      if (!kPairs && s == 1) {
        for (; j < n && j + 16 <= room; j += 16)
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + j),
                              _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(ra + j))));
      } else if (!kPairs && s == 2) {  // even bytes via a 0x00FF mask
        const __m256i lo_bytes = _mm256_set1_epi16(0x00FF);
        for (; j < n && 2 * j + 32 <= room; j += 16)
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + j),
                              _mm256_and_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(ra + 2 * j)), lo_bytes));
      } else if (kPairs && s == 1 && rb) {  // a0 b0 a1 b1 ... as bytes, then widened
        for (; j < n && j + 16 <= room; j += 16) {
          const __m128i va = _mm_loadu_si128(reinterpret_cast<const __m128i*>(ra + j));
          const __m128i vb = _mm_loadu_si128(reinterpret_cast<const __m128i*>(rb + j));
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + 2 * j), _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(va, vb)));
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + 2 * j + 16),
                              _mm256_cvtepu8_epi16(_mm_unpackhi_epi8(va, vb)));
        }
      } else if (kPairs && s == 2 && rb) {  // even bytes of a, b as the low, high int16
        const __m256i lo_byte = _mm256_set1_epi32(0xFF);
        for (; j < n && 2 * j + 16 <= room; j += 8) {
          const __m256i va = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(ra + 2 * j)));
          const __m256i vb = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rb + 2 * j)));
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + 2 * j),
                              _mm256_or_si256(_mm256_and_si256(va, lo_byte),
                                              _mm256_slli_epi32(_mm256_and_si256(vb, lo_byte), 16)));
        }
      }
    } else if constexpr (std::is_same_v<T, int32_t>) {
      // int16 payloads: pairs as (a & 0xFFFF) | b << 16, singles by a saturating pack (any
      // value it would saturate fails the range check).
      if (kPairs && s == 1 && rb) {
        const __m256i low16 = _mm256_set1_epi32(0xFFFF);
        for (; j < n && j + 8 <= room; j += 8) {
          const __m256i va = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ra + j));
          const __m256i vb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rb + j));
          vlo = _mm256_min_epi32(vlo, _mm256_min_epi32(va, vb));
          vhi = _mm256_max_epi32(vhi, _mm256_max_epi32(va, vb));
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + 2 * j),
                              _mm256_or_si256(_mm256_and_si256(va, low16), _mm256_slli_epi32(vb, 16)));
        }
      } else if (!kPairs && s == 1) {
        for (; j < n && j + 16 <= room; j += 16) {
          const __m256i va = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ra + j));
          const __m256i vb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ra + j + 8));
          vlo = _mm256_min_epi32(vlo, _mm256_min_epi32(va, vb));
          vhi = _mm256_max_epi32(vhi, _mm256_max_epi32(va, vb));
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + j),
                              _mm256_permute4x64_epi64(_mm256_packs_epi32(va, vb), 0xD8));
        }
      }
      for (int64_t k = j; k < n; ++k) {
        lo_v = std::min(lo_v, ra[k * s]), hi_v = std::max(hi_v, ra[k * s]);
        if (kPairs && rb) lo_v = std::min(lo_v, rb[k * s]), hi_v = std::max(hi_v, rb[k * s]);
      }
    }
    // Scalar remainder (and the cases without a vector step).
    if (!kPairs) {
      for (; j < n; ++j) o[j] = static_cast<int16_t>(ra[j * s]);
    } else {
      for (; j < n; ++j) {
        o[2 * j] = static_cast<int16_t>(ra[j * s]);
        o[2 * j + 1] = rb ? static_cast<int16_t>(rb[j * s]) : int16_t{0};
      }
    }
    if (hi < width) zero_fill(dst + kPer * hi, kPer * (width - hi));
  }
  if constexpr (std::is_same_v<T, int32_t>) {
    range->lo = std::min({range->lo, lo_v, hmin32(vlo)});
    range->hi = std::max({range->hi, hi_v, hmax32(vhi)});
  }
}

// dst[i*cols + j] = src[i*ld + j] for rows x cols; rows of at most 8 move as one 16-byte
// vector (spilling up to 7 elements past the row, within pack_plane's kPackOverrun rule,
// and reading up to 7 past the source row: callers keep that much slack).
__attribute__((target("avx2"))) void copy_rows(const int16_t* src, int64_t ld, int64_t rows, int64_t cols,
                                               int16_t* dst) {
  if (cols <= 8) {
    for (int64_t i = 0; i < rows; ++i)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i * cols),
                       _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i * ld)));
  } else {
    for (int64_t i = 0; i < rows; ++i) std::copy_n(src + i * ld, cols, dst + i * cols);
  }
}

// Input geometry shared by the forward and weight-gradient passes: the padded image split
// into the phase planes (by, bx) < S = min(s, K) that some tap reads; plane[i][j] =
// xpad[by + s*i][bx + s*j], Hq x Wq each. Tap (ky, kx) reads plane (ky%s, kx%s) at
// grid position q + (ky/s)*Wq + kx/s for output q = oy*Wq + ox.
struct Phases {
  int64_t s, pad, S, Hq, Wq, K;
  Phases(int64_t H, int64_t W, int64_t K_, ConvParams p)
      : s(p.stride), pad(p.pad), S(std::min<int64_t>(p.stride, K_)), Hq(ceil_div(H + 2 * p.pad, p.stride)),
        Wq(ceil_div(W + 2 * p.pad, p.stride)), K(K_) {}
  int64_t planes() const { return S * S; }
  int64_t plane_of(int64_t ky, int64_t kx) const { return (ky % s) * S + kx % s; }
  int64_t shift_of(int64_t ky, int64_t kx) const { return (ky / s) * Wq + kx / s; }
  int64_t max_shift() const { return shift_of(K - 1, K - 1); }
};

}  // namespace

__attribute__((target("avx2"))) void copy_grid_rows(const int32_t* src, int64_t ld, int64_t rows, int64_t cols,
                                                    int32_t* dst) {
  const int64_t body = cols - cols % 8;
  const __m256i tail = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int32_t>(cols % 8)),
                                          _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  for (int64_t i = 0; i < rows; ++i, src += ld, dst += cols) {
    for (int64_t j = 0; j < body; j += 8)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + j),
                          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + j)));
    if (body < cols) _mm256_maskstore_epi32(dst + body, tail, _mm256_maskload_epi32(src + body, tail));
  }
}

void forward(const Tensor<uint8_t>& x, const Tensor<int8_t>& w, ConvParams p, int threads, Tensor<int32_t>& out,
             Isa isa) {
  const int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  const int64_t Co = w.shape[0], K = w.shape[2], Ho = out.shape[2], Wo = out.shape[3];
  const Phases ph(H, W, K, p);
  TapProduct g;
  g.M = Co, g.T = K * K, g.CP = (C + 1) / 2, g.L = ph.Hq * ph.Wq;
  for (int64_t ky = 0; ky < K; ++ky)
    for (int64_t kx = 0; kx < K; ++kx) g.off.push_back(ph.plane_of(ky, kx) * g.CP * g.L + ph.shift_of(ky, kx));
  const int64_t MB = ceil_div(Co, kTileM);
  g.wpk.assign(static_cast<size_t>(MB * g.T * g.CP * kTileM), 0);
  for (int64_t m = 0; m < Co; ++m)
    for (int64_t t = 0; t < g.T; ++t)
      for (int64_t cp = 0; cp < g.CP; ++cp) {
        const int64_t lo = w.data[(m * C + 2 * cp) * g.T + t];
        const int64_t hi = 2 * cp + 1 < C ? w.data[(m * C + 2 * cp + 1) * g.T + t] : 0;
        g.wpk[((m / kTileM * g.T + t) * g.CP + cp) * kTileM + m % kTileM] = pair(lo, hi);
      }
  const int64_t nq = Ho * ph.Wq;
  const TileChoice choice = choose_tile(isa, {nq});
  const int64_t tile_q = choice.q;
  const int64_t ldo = round_up(nq, tile_q);
  const int64_t plane_pairs = ph.planes() * g.CP * g.L, tail = tile_q + ph.max_shift() + ldo - nq + 8;
  parallel_for(N, threads, [&](int64_t n) {
    thread_local std::vector<int16_t> planes;
    thread_local std::vector<int32_t> grid;
    planes.resize(static_cast<size_t>(2 * (plane_pairs + tail)));
    grid.resize(static_cast<size_t>(MB * kTileM * ldo));
    const uint8_t* xn = &x.data[n * C * H * W];
    const uint8_t* x_end = x.data.data() + x.data.size();
    for (int64_t by = 0; by < ph.S; ++by)
      for (int64_t bx = 0; bx < ph.S; ++bx)
        for (int64_t cp = 0; cp < g.CP; ++cp) {
          const uint8_t* a = xn + 2 * cp * H * W;
          const uint8_t* b = 2 * cp + 1 < C ? a + H * W : nullptr;
          pack_plane<true>(a, b, x_end, H, W, by - p.pad, bx - p.pad, p.stride, ph.Hq, ph.Wq,
                           &planes[2 * ((by * ph.S + bx) * g.CP + cp) * g.L]);
        }
    std::fill(planes.begin() + 2 * plane_pairs, planes.end(), int16_t{0});
    run(g, choice, planes.data(), 0, g.T, 0, nq, grid.data(), ldo);
    for (int64_t co = 0; co < Co; ++co)
      copy_grid_rows(&grid[co * ldo], ph.Wq, Ho, Wo, &out.data[(n * Co + co) * Ho * Wo]);
  });
}

// Backward data as a correlation: with input i = s*u + a - pad (phase a = (i+pad) mod s),
// the taps k = s*j + a (j < ceil((K-a)/s)) read error o = u - j. The error is padded by
// J-1 = ceil(K/s)-1 in front, so o = u - j reads epad[u + (J-1-j)]: a unit-stride shifted read
// on the same padded error planes for every phase, with the output channels as pairs.
namespace {
// OutT = int32_t: only when every phase's sums fit int32 in one pass (taps_per_flush >= T);
// otherwise false is returned.
template <typename OutT>
bool backward_data_impl(const Tensor<int32_t>& e, const Tensor<int8_t>& w, ConvParams p, int64_t w_max_abs, int threads,
                        Tensor<OutT>& out, Isa isa, uint64_t* out_max_abs) {
  const int64_t N = out.shape[0], C = out.shape[1], H = out.shape[2], W = out.shape[3];
  const int64_t Co = w.shape[0], K = w.shape[2], Ho = e.shape[2], Wo = e.shape[3];
  const int64_t s = p.stride, pad = p.pad, J = ceil_div(K, s), KK = K * K;
  const int64_t Umax = (H - 1 + pad) / s + 1, Vmax = (W - 1 + pad) / s + 1;
  const int64_t Hep = std::max(Ho, Umax) + J - 1, Wep = std::max(Wo, Vmax) + J - 1;
  const int64_t CP = (Co + 1) / 2, L = Hep * Wep, MB = ceil_div(C, kTileM);
  struct Phase {
    TapProduct g;
    int64_t ay, ax, u_lo, u_hi, v_lo, v_hi;
  };
  std::vector<Phase> phases;
  for (int64_t ay = 0; ay < std::min(s, K); ++ay)
    for (int64_t ax = 0; ax < std::min(s, K); ++ax) {
      Phase f;
      f.ay = ay, f.ax = ax;
      // Rows u with 0 <= s*u + ay - pad < H.
      f.u_lo = std::max<int64_t>(0, ceil_div(std::max<int64_t>(0, pad - ay), s));
      f.u_hi = floor_div(H - 1 + pad - ay, s) + 1;
      f.v_lo = std::max<int64_t>(0, ceil_div(std::max<int64_t>(0, pad - ax), s));
      f.v_hi = floor_div(W - 1 + pad - ax, s) + 1;
      if (f.u_lo >= f.u_hi || f.v_lo >= f.v_hi) continue;
      TapProduct& g = f.g;
      g.M = C, g.CP = CP, g.L = L;
      std::vector<std::pair<int64_t, int64_t>> taps;
      for (int64_t jy = 0; s * jy + ay < K; ++jy)
        for (int64_t jx = 0; s * jx + ax < K; ++jx) {
          taps.emplace_back(s * jy + ay, s * jx + ax);
          g.off.push_back((J - 1 - jy) * Wep + (J - 1 - jx));
        }
      g.T = static_cast<int64_t>(taps.size());
      g.wpk.assign(static_cast<size_t>(MB * g.T * CP * kTileM), 0);
      for (int64_t m = 0; m < C; ++m)
        for (int64_t t = 0; t < g.T; ++t)
          for (int64_t cp = 0; cp < CP; ++cp) {
            const int64_t k = taps[t].first * K + taps[t].second;
            const int64_t lo = w.data[((2 * cp) * C + m) * KK + k];
            const int64_t hi = 2 * cp + 1 < Co ? w.data[((2 * cp + 1) * C + m) * KK + k] : 0;
            g.wpk[((m / kTileM * g.T + t) * CP + cp) * kTileM + m % kTileM] = pair(lo, hi);
          }
      phases.push_back(std::move(f));
    }
  std::vector<int64_t> nqs;
  for (const Phase& f : phases) nqs.push_back((f.u_hi - f.u_lo) * Wep);
  const TileChoice choice = choose_tile(isa, nqs);
  const int64_t tile_q = choice.q;
  int64_t ldo = tile_q;
  for (int64_t nq : nqs) ldo = std::max(ldo, round_up(nq, tile_q));
  const int64_t tail = 2 * tile_q + J + 8;
  std::atomic<bool> failed{false};
  std::vector<uint64_t> image_max(out_max_abs ? static_cast<size_t>(N) : 0);
  parallel_for(N, threads, [&](int64_t n) {
    if (failed.load(std::memory_order_relaxed)) return;
    thread_local std::vector<int16_t> planes;
    thread_local std::vector<int32_t> grid;
    thread_local std::vector<int64_t> grid64;
    planes.resize(static_cast<size_t>(2 * (CP * L + tail)));
    const int32_t* en = &e.data[n * Co * Ho * Wo];
    ValueRange range;
    for (int64_t cp = 0; cp < CP; ++cp) {
      const int32_t* a = en + 2 * cp * Ho * Wo;
      const int32_t* b = 2 * cp + 1 < Co ? a + Ho * Wo : nullptr;
      pack_plane<true>(a, b, e.data.data() + e.data.size(), Ho, Wo, -(J - 1), -(J - 1), 1, Hep, Wep, &planes[2 * cp * L], &range);
    }
    if (!range.fits_int16()) {
      failed = true;
      return;
    }
    // Taps of Co products each that an int32 partial sum may hold, from this image's |e|
    // (>= 1: the caller checked Co * 32767 * max|w| < 2^31).
    const int64_t taps_per_flush = std::max<int64_t>(1, products_per_flush(range.max_abs(), w_max_abs) / Co);
    std::fill(planes.begin() + 2 * CP * L, planes.end(), int16_t{0});
    // Every phase into its own grid first, then the output row by row: the s phases that
    // share an output row write it while it is in cache (phase by phase, each pass would
    // stride over the whole int64 output).
    const int64_t gsz = MB * kTileM * ldo, nph = static_cast<int64_t>(phases.size());
    grid.resize(static_cast<size_t>(nph * gsz));
    const auto one_pass = [&](const Phase& f) { return taps_per_flush >= f.g.T; };
    if (std::any_of(phases.begin(), phases.end(), [&](const Phase& f) { return !one_pass(f); })) {
      if constexpr (std::is_same_v<OutT, int32_t>) {  // a sum might not fit int32
        failed = true;
        return;
      }
      grid64.assign(static_cast<size_t>(nph * C * ldo), 0);
    }
    for (int64_t pi = 0; pi < nph; ++pi) {
      const Phase& f = phases[pi];
      const int64_t q0 = f.u_lo * Wep, nq = (f.u_hi - f.u_lo) * Wep;
      int32_t* gp = &grid[pi * gsz];
      for (int64_t t0 = 0; t0 < f.g.T; t0 += taps_per_flush) {
        run(f.g, choice, planes.data(), t0, std::min(f.g.T, t0 + taps_per_flush), q0, nq, gp, ldo);
        if (one_pass(f)) break;
        for (int64_t m = 0; m < C; ++m)
          for (int64_t q = 0; q < nq; ++q) grid64[(pi * C + m) * ldo + q] += gp[m * ldo + q];
      }
    }
    OutT* dst = &out.data[n * C * H * W];
    // Every pixel is written by the phase of its (row, column) residues mod s when each
    // residue below s has taps (K >= s: stride 1, or 3x3 stride 2); otherwise (a 1x1 stride-2
    // projection) the pixels that no tap reaches must read 0 (the output is not pre-filled).
    if (K < s) std::fill(dst, dst + C * H * W, OutT{0});
    for (int64_t m = 0; m < C; ++m)
      for (int64_t i = 0; i < H; ++i) {
        OutT* row = dst + (m * H + i) * W;
        const int64_t a = (i + pad) % s, u = (i + pad) / s;
        for (int64_t pi = 0; pi < nph; ++pi) {
          const Phase& f = phases[pi];
          if (f.ay != a) continue;
          const int64_t base = (u - f.u_lo) * Wep, j0 = f.ax - pad;
          if (one_pass(f))
            scatter64(&grid[pi * gsz + m * ldo + base + f.v_lo], f.v_hi - f.v_lo, s, row + s * f.v_lo + j0);
          else
            for (int64_t v = f.v_lo; v < f.v_hi; ++v) row[s * v + j0] = grid64[(pi * C + m) * ldo + base + v];
        }
      }
    // The image's max |dx| while it is in cache (rows are short: tracking it in the scatter cost more).
    if (out_max_abs) image_max[static_cast<size_t>(n)] = max_magnitude_fast(dst, C * H * W, 1);
  });
  if (out_max_abs && !failed) *out_max_abs = image_max.empty() ? 0 : *std::max_element(image_max.begin(), image_max.end());
  return !failed;
}
}  // namespace

bool backward_data(const Tensor<int32_t>& e, const Tensor<int8_t>& w, ConvParams p, int64_t w_max_abs, int threads,
                   Tensor<int64_t>& out, Isa isa, uint64_t* out_max_abs) {
  return backward_data_impl(e, w, p, w_max_abs, threads, out, isa, out_max_abs);
}

bool backward_data_narrow(const Tensor<int32_t>& e, const Tensor<int8_t>& w, ConvParams p, int64_t w_max_abs,
                          int threads, Tensor<int32_t>& out, Isa isa, uint64_t* out_max_abs) {
  return backward_data_impl(e, w, p, w_max_abs, threads, out, isa, out_max_abs);
}

namespace {

__attribute__((target("avx2"))) inline int64_t hsum64(__m256i v) {
  const __m256i s = _mm256_add_epi64(_mm256_cvtepi32_epi64(_mm256_castsi256_si128(v)),
                                     _mm256_cvtepi32_epi64(_mm256_extracti128_si256(v, 1)));
  const __m128i t = _mm_add_epi64(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
  return _mm_cvtsi128_si64(t) + _mm_extract_epi64(t, 1);
}

// g[i][j] += sum_{k0 <= k < k1} e[i*lde + k] * x[xoff[j] + k] for MR error rows and NR
// input rows, 16 int16 per step; the int32 lanes are summed into int64 at the end.
template <int MR, int NR>
__attribute__((target("avx2"))) void dot_tile(const int16_t* e, int64_t lde, const int16_t* x, const int64_t* xoff,
                                              int64_t k0, int64_t k1, int64_t* g, int64_t ldg) {
  __m256i acc[MR][NR];
  for (auto& row : acc)
    for (auto& a : row) a = _mm256_setzero_si256();
  for (int64_t k = k0; k < k1; k += 16) {
    __m256i xb[NR];
    for (int j = 0; j < NR; ++j) xb[j] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + xoff[j] + k));
    for (int i = 0; i < MR; ++i) {
      const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(e + i * lde + k));
      for (int j = 0; j < NR; ++j) acc[i][j] = _mm256_add_epi32(acc[i][j], _mm256_madd_epi16(a, xb[j]));
    }
  }
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) g[i * ldg + j] += hsum64(acc[i][j]);
}

// The int64 sum of the 16 int32 lanes: the even and odd lanes sign-extended in place to
// 8 int64 by shifts, the 256-bit halves swapped and added, then 4 int64 as on AVX2. (The
// zero-masked forms with a full mask: GCC 12 warns, -Werror, on the undefined pass-through
// operand of the unmasked AVX-512 shift, shuffle, extract and cast intrinsics.)
__attribute__((target("avx512f,avx512bw,avx512vnni"))) inline int64_t hsum64_512(__m512i v) {
  constexpr __mmask8 all = 0xFF;
  const __m512i even = _mm512_maskz_srai_epi64(all, _mm512_maskz_slli_epi64(all, v, 32), 32);
  const __m512i s = _mm512_maskz_add_epi64(all, even, _mm512_maskz_srai_epi64(all, v, 32));
  const __m256i h =
      _mm512_maskz_extracti64x4_epi64(0xF, _mm512_maskz_add_epi64(all, s, _mm512_maskz_shuffle_i64x2(all, s, s, 0x4E)), 0);
  const __m128i t = _mm_add_epi64(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
  return _mm_cvtsi128_si64(t) + _mm_extract_epi64(t, 1);
}

// The same with AVX-512 VNNI: 32 int16 per step, vpdpwssd (vpmaddwd and the add fused).
template <int MR, int NR>
__attribute__((target("avx512f,avx512bw,avx512vnni"))) void dot_tile_512(const int16_t* e, int64_t lde,
                                                                         const int16_t* x, const int64_t* xoff,
                                                                         int64_t k0, int64_t k1, int64_t* g,
                                                                         int64_t ldg) {
  __m512i acc[MR][NR];
  for (auto& row : acc)
    for (auto& a : row) a = _mm512_setzero_si512();
  for (int64_t k = k0; k < k1; k += 32) {
    __m512i xb[NR];
    for (int j = 0; j < NR; ++j) xb[j] = _mm512_loadu_si512(x + xoff[j] + k);
    for (int i = 0; i < MR; ++i) {
      const __m512i a = _mm512_loadu_si512(e + i * lde + k);
      for (int j = 0; j < NR; ++j) acc[i][j] = dpwssd(acc[i][j], a, xb[j]);
    }
  }
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) g[i * ldg + j] += hsum64_512(acc[i][j]);
}

using DotTile = void (*)(const int16_t*, int64_t, const int16_t*, const int64_t*, int64_t, int64_t, int64_t*, int64_t);
// Tiles of up to m x n error x input rows, k steps of `step` int16. AVX2: 4 x 2 (8
// accumulators + 2 input rows + 1 error row + 1 product of 16 ymm; 4 x 3 would spill);
// AVX-512: 4 x 4 (16 accumulators + 4 + 1 of 32 zmm).
struct DotKernels {
  int64_t m, n, step;
  DotTile tiles[4][4];
};
constexpr DotKernels kDotAvx2 = {4, 2, 16,
                                 {{dot_tile<1, 1>, dot_tile<1, 2>},
                                  {dot_tile<2, 1>, dot_tile<2, 2>},
                                  {dot_tile<3, 1>, dot_tile<3, 2>},
                                  {dot_tile<4, 1>, dot_tile<4, 2>}}};
constexpr DotKernels kDot512 = {
    4, 4, 32,
    {{dot_tile_512<1, 1>, dot_tile_512<1, 2>, dot_tile_512<1, 3>, dot_tile_512<1, 4>},
     {dot_tile_512<2, 1>, dot_tile_512<2, 2>, dot_tile_512<2, 3>, dot_tile_512<2, 4>},
     {dot_tile_512<3, 1>, dot_tile_512<3, 2>, dot_tile_512<3, 3>, dot_tile_512<3, 4>},
     {dot_tile_512<4, 1>, dot_tile_512<4, 2>, dot_tile_512<4, 3>, dot_tile_512<4, 4>}}};

// ---- AVX-512 weight gradient as outer products ---------------------------------------------
// The dot tiles above read two long rows per product pair and reduce each int32 accumulator
// horizontally; on the small-ResNet shapes they measured at ~30% of vpdpwssd's peak (the
// shifted input rows are misaligned 64-byte loads, and error + input rows overflow L1). Here
// the error is transposed once per group into pair words epk[kp][co] = (e[co][2kp], e[co][2kp+1])
// and every accumulator lane is one output channel: a step loads MV zmm of 16 channels and
// broadcasts one input pair word per weight column (vpdpwssd's embedded broadcast), so no
// horizontal sums and no misaligned vector loads. Accumulators go to int64 after each block of
// at most `flush` pair steps (each lane takes 2 products a step).
#define OCTET_VNNI512 __attribute__((target("avx512f,avx512bw,avx512vnni")))

// dst[kp][0..16) = words kp of the 16 rows src + r*ld (r < 16), for kp in [0, 16): a 16x16 int32
// transpose by 32- and 64-bit unpacks, then 128-bit lane shuffles. (Zero-masked forms: GCC 12
// warns, -Werror, on the undefined pass-through operand of the unmasked shuffles.)
OCTET_VNNI512 inline void transpose16(const int32_t* src, int64_t ld, int32_t* dst, int64_t ldd) {
  constexpr __mmask16 all = 0xFFFF;
  __m512i r[16], t[16];
  for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_si512(src + i * ld);
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_maskz_unpacklo_epi32(all, r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_maskz_unpackhi_epi32(all, r[2 * i], r[2 * i + 1]);
  }
  for (int j = 0; j < 4; ++j) {  // r[4j + m], lane L: column 4L + m of rows 4j..4j+3
    r[4 * j] = _mm512_maskz_unpacklo_epi64(0xFF, t[4 * j], t[4 * j + 2]);
    r[4 * j + 1] = _mm512_maskz_unpackhi_epi64(0xFF, t[4 * j], t[4 * j + 2]);
    r[4 * j + 2] = _mm512_maskz_unpacklo_epi64(0xFF, t[4 * j + 1], t[4 * j + 3]);
    r[4 * j + 3] = _mm512_maskz_unpackhi_epi64(0xFF, t[4 * j + 1], t[4 * j + 3]);
  }
  for (int m = 0; m < 4; ++m) {
    const __m512i p01 = _mm512_maskz_shuffle_i32x4(all, r[m], r[4 + m], 0x44);
    const __m512i q01 = _mm512_maskz_shuffle_i32x4(all, r[8 + m], r[12 + m], 0x44);
    const __m512i p23 = _mm512_maskz_shuffle_i32x4(all, r[m], r[4 + m], 0xEE);
    const __m512i q23 = _mm512_maskz_shuffle_i32x4(all, r[8 + m], r[12 + m], 0xEE);
    _mm512_storeu_si512(dst + m * ldd, _mm512_maskz_shuffle_i32x4(all, p01, q01, 0x88));
    _mm512_storeu_si512(dst + (4 + m) * ldd, _mm512_maskz_shuffle_i32x4(all, p01, q01, 0xDD));
    _mm512_storeu_si512(dst + (8 + m) * ldd, _mm512_maskz_shuffle_i32x4(all, p23, q23, 0x88));
    _mm512_storeu_si512(dst + (12 + m) * ldd, _mm512_maskz_shuffle_i32x4(all, p23, q23, 0xDD));
  }
}

// g[(b0 + j) * ldg + c] += sum_{kp0 <= kp < kp1} madd(ep[kp*lde + c], xpair(j, kp)) for the
// MV*16 channels c of ep and the NT columns j < nt (xpair(j, kp): the int16 pair at
// x + xoff[j] + 2kp). Columns j >= nt compute on column 0 and are dropped.
template <int MV, int NT>
OCTET_VNNI512 void outer_tile_512(const int32_t* ep, int64_t lde, const int16_t* x, const int64_t* xoff, int64_t nt,
                                  int64_t kp0, int64_t kp1, int64_t* g, int64_t ldg) {
  const int16_t* xr[NT];
  for (int j = 0; j < NT; ++j) xr[j] = x + xoff[j < nt ? j : 0];
  __m512i acc[MV][NT];
  for (auto& row : acc)
    for (auto& a : row) a = _mm512_setzero_si512();
  for (int64_t kp = kp0; kp < kp1; ++kp) {
    __m512i ev[MV];
#pragma GCC unroll 4
    for (int m = 0; m < MV; ++m) ev[m] = _mm512_loadu_si512(ep + kp * lde + 16 * m);
#pragma GCC unroll 32
    for (int j = 0; j < NT; ++j) {
      // The pair is only 2-byte aligned: a 32-bit load through memcpy (one mov), not a cast.
      int32_t pair;
      std::memcpy(&pair, xr[j] + 2 * kp, sizeof pair);
      const __m512i b = _mm512_set1_epi32(pair);
#pragma GCC unroll 4
      for (int m = 0; m < MV; ++m) acc[m][j] = dpwssd(acc[m][j], ev[m], b);
    }
  }
  for (int j = 0; j < NT && j < nt; ++j)
    for (int m = 0; m < MV; ++m) {
      int64_t* gj = g + j * ldg + 16 * m;
      const __m512i lo = _mm512_maskz_cvtepi32_epi64(0xFF, _mm512_maskz_extracti64x4_epi64(0xF, acc[m][j], 0));
      const __m512i hi = _mm512_maskz_cvtepi32_epi64(0xFF, _mm512_maskz_extracti64x4_epi64(0xF, acc[m][j], 1));
      _mm512_storeu_si512(gj, _mm512_add_epi64(_mm512_loadu_si512(gj), lo));
      _mm512_storeu_si512(gj + 8, _mm512_add_epi64(_mm512_loadu_si512(gj + 8), hi));
    }
}

// Column tiles: 16 channels x 24 columns, 32 x 12 or 64 x 6 (24 or 28 accumulators, the
// rest of the 32 zmm for the channel vectors).
struct OuterTile {
  int mv;
  int64_t nt;
  void (*run)(const int32_t*, int64_t, const int16_t*, const int64_t*, int64_t, int64_t, int64_t, int64_t*, int64_t);
};
constexpr OuterTile kOuterTiles[] = {{4, 6, outer_tile_512<4, 6>}, {2, 10, outer_tile_512<2, 10>},
                                     {1, 12, outer_tile_512<1, 12>}};

// The group's products into g64[b][CoV] (int64, b < NB): erows holds Co rows of R int16 (zero
// from `used` on), kp < used / 2; epk is scratch of (used / 2) * CoV words.
OCTET_VNNI512 void outer_group_512(const int16_t* erows, int64_t R, int64_t Co, int64_t CoV, int64_t used,
                                   const int16_t* xrows, const std::vector<int64_t>& xoff, int64_t flush,
                                   std::vector<int32_t>& epk, int64_t* g64) {
  const int64_t KP = used / 2, NB = static_cast<int64_t>(xoff.size());
  epk.resize(static_cast<size_t>(KP * CoV));
  const auto* e32 = reinterpret_cast<const int32_t*>(erows);
  alignas(64) static const int32_t zero_row[16] = {};
  for (int64_t c0 = 0; c0 < CoV; c0 += 16)
    for (int64_t kp = 0; kp < KP; kp += 16) {
      if (c0 + 16 <= Co) {
        transpose16(e32 + c0 * (R / 2) + kp, R / 2, &epk[kp * CoV + c0], CoV);
        continue;
      }
      // The last, partial block of channels: rows past Co read as zero.
      alignas(64) int32_t rows[16][16];
      for (int64_t r = 0; r < 16; ++r)
        std::copy_n(c0 + r < Co ? e32 + (c0 + r) * (R / 2) + kp : zero_row, 16, rows[r]);
      transpose16(&rows[0][0], 16, &epk[kp * CoV + c0], CoV);
    }
  // Blocks of pair steps that stay in L1 (and within the flush interval).
  const int64_t step = std::min<int64_t>(flush, 256);
  for (int64_t kp0 = 0; kp0 < KP; kp0 += step) {
    const int64_t kp1 = std::min(KP, kp0 + step);
    for (int64_t c0 = 0; c0 < CoV;) {
      const OuterTile* tile = &kOuterTiles[0];
      while (c0 + 16 * tile->mv > CoV) ++tile;
      for (int64_t b0 = 0; b0 < NB; b0 += tile->nt)
        tile->run(&epk[c0], CoV, xrows, &xoff[b0], std::min(tile->nt, NB - b0), kp0, kp1, g64 + b0 * CoV + c0, CoV);
      c0 += 16 * tile->mv;
    }
  }
}

}  // namespace

// G[co][ci][t] = sum_n sum_q e[n][co][q] * xt[n][ci][q]: a group of images is packed into
// rows that run over all its images, so every weight is a dot product of two contiguous rows.
// Two layouts of xt: "shifted" (the phase planes of the forward pass with the error on the
// same Hq x Wq grid, zero in the extra columns and rows; tap t reads plane row + shift_t)
// packs little, but the grid wastes (Hq*Wq - Ho*Wo) of every image; "compact" packs one
// Ho x Wo row per (ci, tap), like im2col, with no waste but K*K times the packing. Compact
// wins (measured) on outputs at most 8 wide with > 20% waste: the 7x7 layers of small_resnet. Groups are sized to stay near L2, the
// tiles run over L2-sized blocks of input rows, each worker takes whole groups and keeps its
// own int64 sums, added at the end (exact integers: the split does not change the result).
bool weight_grad(const Tensor<uint8_t>& x, const Tensor<int32_t>& e, ConvParams p, int threads,
                 Tensor<int64_t>& grad, Isa isa) {
  const DotKernels& dk = isa == Isa::avx512_vnni ? kDot512 : kDotAvx2;
  const int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  const int64_t Co = e.shape[1], Ho = e.shape[2], Wo = e.shape[3], K = grad.shape[2], T = K * K;
  const Phases ph(H, W, K, p);
  const int64_t P = Ho * Wo, Lw = ph.Hq * ph.Wq;
  const bool compact = Wo <= 8 && Lw * 5 > P * 6;
  const int64_t per_image = compact ? P : Lw, xrow_count = compact ? C * T : ph.planes() * C;
  const int64_t rows = xrow_count + Co;
  // ~256 KB of packed rows per group (at least 1024 pixels per row when the rows are many).
  // Then evened out so that every thread gets the same number of groups where possible.
  const int64_t target = std::clamp<int64_t>(std::max<int64_t>(1024, (128 << 10) / rows) / per_image, 1, N);
  const int64_t per_group = ceil_div(N, round_up(ceil_div(N, target), std::max(1, threads)));
  // Row stride: whole 32-pixel steps (either kernel's), plus room for pack_plane's spill
  // past the last image.
  const int64_t R = round_up(per_group * per_image + kPackOverrun, 32), groups = ceil_div(N, per_group);
  // Input row of weight column b = ci*T + t.
  const int64_t NB = C * T;
  std::vector<int64_t> xoff(static_cast<size_t>(NB));
  for (int64_t ci = 0; ci < C; ++ci)
    for (int64_t ky = 0; ky < K; ++ky)
      for (int64_t kx = 0; kx < K; ++kx) {
        const int64_t b = ci * T + ky * K + kx;
        xoff[b] = compact ? b * R : (ph.plane_of(ky, kx) * C + ci) * R + ph.shift_of(ky, kx);
      }
  const int64_t MT = ceil_div(Co, dk.m);
  // Weight columns per block: their input rows (~192 KB) stay in L2 while every error row
  // block passes over them.
  const int64_t block = std::max<int64_t>(dk.n, (96 << 10) / R / dk.n * dk.n);
  const int workers = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, groups)));
  std::vector<std::vector<int64_t>> partial(static_cast<size_t>(workers - 1));
  std::atomic<bool> failed{false};
  parallel_for(workers, workers, [&](int64_t wk) {
    int64_t* g = grad.data.data();
    if (wk > 0) {
      partial[wk - 1].assign(grad.data.size(), 0);
      g = partial[wk - 1].data();
    }
    thread_local std::vector<int16_t> xrows, erows, scratch;
    thread_local std::vector<int32_t> epk;
    thread_local std::vector<int64_t> g64;  // outer products: [NB][CoV], added to g at the end
    const bool outer = isa == Isa::avx512_vnni;
    const int64_t CoV = round_up(Co, 16);
    if (outer) g64.assign(static_cast<size_t>(NB * CoV), 0);
    if (compact) scratch.assign(static_cast<size_t>(ph.planes() * Lw + kPackOverrun), 0);
    xrows.assign(static_cast<size_t>(xrow_count * R + ph.max_shift() + kPackOverrun), 0);
    erows.resize(static_cast<size_t>(Co * R));
    const uint8_t* x_end = x.data.data() + x.data.size();
    const int32_t* e_end = e.data.data() + e.data.size();
    for (int64_t grp = groups * wk / workers; grp < groups * (wk + 1) / workers; ++grp) {
      if (failed.load(std::memory_order_relaxed)) return;
      const int64_t n0 = grp * per_group, ng = std::min(per_group, N - n0), used = round_up(ng * per_image, dk.step);
      ValueRange range;
      for (int64_t n = n0; n < n0 + ng; ++n) {
        const uint8_t* xn = &x.data[n * C * H * W];
        const int64_t at = (n - n0) * per_image;
        if (compact) {
          // The channel's phase planes once, then each tap row is a short copy out of them.
          for (int64_t ci = 0; ci < C; ++ci) {
            for (int64_t by = 0; by < ph.S; ++by)
              for (int64_t bx = 0; bx < ph.S; ++bx)
                pack_plane<false>(xn + ci * H * W, static_cast<const uint8_t*>(nullptr), x_end, H, W, by - p.pad,
                                  bx - p.pad, p.stride, ph.Hq, ph.Wq, &scratch[(by * ph.S + bx) * Lw]);
            for (int64_t ky = 0; ky < K; ++ky)
              for (int64_t kx = 0; kx < K; ++kx)
                copy_rows(&scratch[ph.plane_of(ky, kx) * Lw + ph.shift_of(ky, kx)], ph.Wq, Ho, Wo,
                          &xrows[(ci * T + ky * K + kx) * R + at]);
          }
        } else {
          for (int64_t by = 0; by < ph.S; ++by)
            for (int64_t bx = 0; bx < ph.S; ++bx)
              for (int64_t ci = 0; ci < C; ++ci)
                pack_plane<false>(xn + ci * H * W, static_cast<const uint8_t*>(nullptr), x_end, H, W, by - p.pad,
                                  bx - p.pad, p.stride, ph.Hq, ph.Wq, &xrows[((by * ph.S + bx) * C + ci) * R + at]);
        }
        // The error: Ho x Wo (compact), or on the Hq x Wq grid with zero extra columns and rows.
        for (int64_t co = 0; co < Co; ++co)
          pack_plane<false>(&e.data[(n * Co + co) * Ho * Wo], static_cast<const int32_t*>(nullptr), e_end, Ho, Wo, 0,
                            0, 1, compact ? Ho : ph.Hq, compact ? Wo : ph.Wq, &erows[co * R + at], &range);
      }
      if (!range.fits_int16()) {
        failed = true;
        return;
      }
      // Each int32 lane gets 2 products per step; flush before it holds more than
      // 2^31 / (max|e| * 255) products (>= 257, so chunk >= 128 steps).
      const int64_t chunk = std::max<int64_t>(1, products_per_flush(range.max_abs(), 255) / 2) * dk.step;
      // Past the last image: zero error (the input there is never used with a non-zero error).
      for (int64_t co = 0; co < Co; ++co)
        std::fill(erows.begin() + co * R + ng * per_image, erows.begin() + co * R + used, int16_t{0});
      if (outer) {
        outer_group_512(erows.data(), R, Co, CoV, used, xrows.data(), xoff, chunk / dk.step, epk, g64.data());
        continue;
      }
      for (int64_t k0 = 0; k0 < used; k0 += chunk) {
        const int64_t k1 = std::min(used, k0 + chunk);
        for (int64_t b_blk = 0; b_blk < NB; b_blk += block)
          for (int64_t mt = 0; mt < MT; ++mt)
            for (int64_t b0 = b_blk, b_end = std::min(NB, b_blk + block); b0 < b_end; b0 += dk.n) {
              const int64_t m0 = mt * dk.m;
              const int64_t mr = std::min<int64_t>(dk.m, Co - m0), nr = std::min<int64_t>(dk.n, b_end - b0);
              dk.tiles[mr - 1][nr - 1](&erows[m0 * R], R, xrows.data(), &xoff[b0], k0, k1, g + m0 * NB + b0, NB);
            }
      }
    }
    if (outer)
      for (int64_t co = 0; co < Co; ++co)
        for (int64_t b = 0; b < NB; ++b) g[co * NB + b] += g64[b * CoV + co];
  });
  if (failed) return false;
  for (const auto& part : partial)
    for (size_t i = 0; i < part.size(); ++i) grad.data[i] += part[i];
  return true;
}

}  // namespace octet::golden::tap_conv
