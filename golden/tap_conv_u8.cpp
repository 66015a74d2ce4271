#include "golden/tap_conv_u8.h"

#include <cpuid.h>
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "golden/parallel.h"
#include "golden/tap_conv.h"

namespace octet::golden::tap_conv_u8 {

namespace {

using FwdTile = void (*)(const int32_t* w, const int32_t* b, const int64_t* off, int64_t T, int64_t CQ, int64_t L,
                         int32_t* out, int64_t ldo);

// The microkernels once per instruction set (tap_conv_u8_kernels.inc), each function
// compiled for its own target only (a target attribute, as GCC and Clang both take it); the
// caller never runs one on a CPU without it (cpu_supports).
#define OCTET_U8_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
namespace isa_avx512_vnni {
using V = __m512i;
constexpr int kLanes = 16, kFwdRows = 8;  // 16 or 24 accumulators of 32 zmm
OCTET_U8_TARGET inline V zero() { return _mm512_setzero_si512(); }
OCTET_U8_TARGET inline V load(const void* p) { return _mm512_loadu_si512(p); }
OCTET_U8_TARGET inline void store(void* p, V v) { _mm512_storeu_si512(p, v); }
OCTET_U8_TARGET inline V bcast(int32_t v) { return _mm512_set1_epi32(v); }
OCTET_U8_TARGET inline V dot(V acc, V u8, V s8) { return _mm512_dpbusd_epi32(acc, u8, s8); }
#include "golden/tap_conv_u8_kernels.inc"
}  // namespace isa_avx512_vnni
#undef OCTET_U8_TARGET

#define OCTET_U8_TARGET __attribute__((target("avx2,avxvnni")))
namespace isa_avx_vnni {
using V = __m256i;
constexpr int kLanes = 8, kFwdRows = 4;  // 8 or 12 accumulators of 16 ymm
OCTET_U8_TARGET inline V zero() { return _mm256_setzero_si256(); }
OCTET_U8_TARGET inline V load(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
OCTET_U8_TARGET inline void store(void* p, V v) { _mm256_storeu_si256(static_cast<__m256i*>(p), v); }
OCTET_U8_TARGET inline V bcast(int32_t v) { return _mm256_set1_epi32(v); }
OCTET_U8_TARGET inline V dot(V acc, V u8, V s8) { return _mm256_dpbusd_avx_epi32(acc, u8, s8); }
#include "golden/tap_conv_u8_kernels.inc"
}  // namespace isa_avx_vnni
#undef OCTET_U8_TARGET

#define OCTET_U8_TARGET __attribute__((target("avx2")))
namespace isa_avx2_maddubs {
using V = __m256i;
constexpr int kLanes = 8, kFwdRows = 4;
OCTET_U8_TARGET inline V zero() { return _mm256_setzero_si256(); }
OCTET_U8_TARGET inline V load(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
OCTET_U8_TARGET inline void store(void* p, V v) { _mm256_storeu_si256(static_cast<__m256i*>(p), v); }
OCTET_U8_TARGET inline V bcast(int32_t v) { return _mm256_set1_epi32(v); }
// vpmaddubsw: two products per saturating int16 (exact only under the caller's bound), then
// vpmaddwd by ones: the two int16 of a lane into int32, exactly.
OCTET_U8_TARGET inline V dot(V acc, V u8, V s8) {
  return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u8, s8), _mm256_set1_epi16(1)));
}
#include "golden/tap_conv_u8_kernels.inc"
}  // namespace isa_avx2_maddubs
#undef OCTET_U8_TARGET

struct FwdKernel {
  int64_t rows, q;  // tile: output rows x grid pixels
  FwdTile tile;
};

// Of the 2- and 3-vector tiles, the one that computes fewer padding pixels on a grid of nq
// (7x7 outputs on zmm: 63 pixels as 64 against 96).
template <int Rows, int Lanes>
FwdKernel pick(int64_t nq, FwdTile two, FwdTile three) {
  const int64_t q2 = 2 * Lanes, q3 = 3 * Lanes;
  if ((nq + q2 - 1) / q2 * q2 < (nq + q3 - 1) / q3 * q3) return {Rows, q2, two};
  return {Rows, q3, three};
}

FwdKernel fwd_kernel(Isa isa, int64_t nq) {
  switch (isa) {
    case Isa::avx512_vnni: {
      namespace k = isa_avx512_vnni;
      return pick<k::kFwdRows, k::kLanes>(nq, k::fwd_tile<2>, k::fwd_tile<3>);
    }
    case Isa::avx_vnni: {
      namespace k = isa_avx_vnni;
      return pick<k::kFwdRows, k::kLanes>(nq, k::fwd_tile<2>, k::fwd_tile<3>);
    }
    case Isa::avx2_maddubs:
      break;
  }
  namespace k = isa_avx2_maddubs;
  return pick<k::kFwdRows, k::kLanes>(nq, k::fwd_tile<2>, k::fwd_tile<3>);
}

int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }
int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// One padded phase plane of four channels (null: a zero channel), 4 bytes per pixel:
// dst[i][j] = ch[k][r0 + s*i][c0 + s*j] for k < 4, 0 outside the image. SSE2 only.
void pack_quad_plane(const uint8_t* const ch[4], const uint8_t* src_end, int64_t H, int64_t W, int64_t r0,
                     int64_t c0, int64_t s, int64_t rows, int64_t width, uint32_t* dst) {
  const int64_t lo = std::clamp<int64_t>(c0 >= 0 ? 0 : ceil_div(-c0, s), 0, width);
  const int64_t hi = std::clamp<int64_t>(floor_div(W - 1 - c0, s) + 1, lo, width);
  const uint8_t* last = nullptr;  // the channel furthest into the tensor bounds the vector reads
  for (int k = 0; k < 4; ++k)
    if (ch[k]) last = ch[k];
  for (int64_t i = 0; i < rows; ++i, dst += width) {
    const int64_t r = r0 + s * i;
    if (r < 0 || r >= H) {
      std::memset(dst, 0, static_cast<size_t>(width) * 4);
      continue;
    }
    const int64_t at = r * W + c0 + lo * s;
    const uint8_t* rk[4];
    for (int k = 0; k < 4; ++k) rk[k] = ch[k] ? ch[k] + at : nullptr;
    std::memset(dst, 0, static_cast<size_t>(lo) * 4);
    uint32_t* o = dst + lo;
    const int64_t n = hi - lo, room = src_end - (last + at);
    int64_t j = 0;
    if (s <= 2) {
      const __m128i even = _mm_set1_epi16(0x00FF);
      for (; j + 16 <= n && s * j + 16 * s <= room; j += 16) {
        __m128i v[4];
        for (int k = 0; k < 4; ++k) {
          if (!rk[k]) {
            v[k] = _mm_setzero_si128();
          } else if (s == 1) {
            v[k] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(rk[k] + j));
          } else {  // the even bytes of 32
            const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(rk[k] + 2 * j));
            const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(rk[k] + 2 * j + 16));
            v[k] = _mm_packus_epi16(_mm_and_si128(a, even), _mm_and_si128(b, even));
          }
        }
        const __m128i ab_lo = _mm_unpacklo_epi8(v[0], v[1]), ab_hi = _mm_unpackhi_epi8(v[0], v[1]);
        const __m128i cd_lo = _mm_unpacklo_epi8(v[2], v[3]), cd_hi = _mm_unpackhi_epi8(v[2], v[3]);
        __m128i* out = reinterpret_cast<__m128i*>(o + j);
        _mm_storeu_si128(out, _mm_unpacklo_epi16(ab_lo, cd_lo));
        _mm_storeu_si128(out + 1, _mm_unpackhi_epi16(ab_lo, cd_lo));
        _mm_storeu_si128(out + 2, _mm_unpacklo_epi16(ab_hi, cd_hi));
        _mm_storeu_si128(out + 3, _mm_unpackhi_epi16(ab_hi, cd_hi));
      }
    }
    for (; j < n; ++j) {
      uint32_t q = 0;
      for (int k = 0; k < 4; ++k)
        if (rk[k]) q |= uint32_t{rk[k][j * s]} << (8 * k);
      o[j] = q;
    }
    std::memset(dst + hi, 0, static_cast<size_t>(width - hi) * 4);
  }
}

// AVX-VNNI: CPUID leaf 7 sub-leaf 1, EAX bit 4 (Clang 14's __builtin_cpu_supports does not
// know "avxvnni"; the OS state of the ymm registers is covered by the avx2 check).
bool has_avx_vnni() {
#if defined(__x86_64__) && defined(__GNUC__)
  unsigned a = 0, b = 0, c = 0, d = 0;
  return __get_cpuid_count(7, 1, &a, &b, &c, &d) != 0 && (a & (1u << 4)) != 0;
#else
  return false;
#endif
}

}  // namespace

bool cpu_supports(Isa isa) {
#if defined(__x86_64__) && defined(__GNUC__)
  switch (isa) {
    case Isa::avx512_vnni:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
    case Isa::avx_vnni:
      return __builtin_cpu_supports("avx2") && has_avx_vnni();
    case Isa::avx2_maddubs:
      return __builtin_cpu_supports("avx2");
  }
#endif
  (void)isa;
  return false;
}

const char* name(Isa isa) {
  switch (isa) {
    case Isa::avx512_vnni:
      return "avx512-vnni";
    case Isa::avx_vnni:
      return "avx-vnni";
    case Isa::avx2_maddubs:
      return "avx2-u8";
  }
  return "?";
}

// As tap_conv::forward, with four channels per 32-bit lane instead of two: phase plane
// (by, bx) < S = min(s, K) of the padded image holds xpad[by + s*i][bx + s*j]; tap (ky, kx)
// reads plane (ky%s, kx%s) at grid position q + (ky/s)*Wq + kx/s for output q = oy*Wq + ox.
void forward(Isa isa, const Tensor<uint8_t>& x, const Tensor<int8_t>& w, ConvParams p, int threads,
             Tensor<int32_t>& out) {
  const int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  const int64_t Co = w.shape[0], K = w.shape[2], Ho = out.shape[2], Wo = out.shape[3];
  const int64_t s = p.stride, S = std::min<int64_t>(s, K);
  const int64_t Hq = ceil_div(H + 2 * p.pad, s), Wq = ceil_div(W + 2 * p.pad, s), L = Hq * Wq;
  const FwdKernel kern = fwd_kernel(isa, Ho * Wq);
  const int64_t T = K * K, CQ = ceil_div(C, 4), MR = kern.rows, MB = ceil_div(Co, MR);
  std::vector<int64_t> off;
  int64_t max_shift = 0;
  for (int64_t ky = 0; ky < K; ++ky)
    for (int64_t kx = 0; kx < K; ++kx) {
      const int64_t shift = (ky / s) * Wq + kx / s;
      off.push_back(((ky % s) * S + kx % s) * CQ * L + shift);
      max_shift = std::max(max_shift, shift);
    }
  // wpk[mb][t][cq][r]: the weight bytes of channels 4cq..4cq+3 of output row mb*MR + r.
  std::vector<uint32_t> wpk(static_cast<size_t>(MB * T * CQ * MR), 0);
  for (int64_t m = 0; m < Co; ++m)
    for (int64_t t = 0; t < T; ++t)
      for (int64_t c = 0; c < C; ++c)
        wpk[((m / MR * T + t) * CQ + c / 4) * MR + m % MR] |=
            uint32_t{static_cast<uint8_t>(w.data[(m * C + c) * T + t])} << (8 * (c % 4));
  const int64_t nq = Ho * Wq, ldo = round_up(nq, kern.q);
  const int64_t plane_elems = S * S * CQ * L, tail = kern.q + max_shift + ldo - nq + 16;
  parallel_for(N, threads, [&](int64_t n) {
    thread_local std::vector<uint32_t> planes;
    thread_local std::vector<int32_t> grid;
    planes.resize(static_cast<size_t>(plane_elems + tail));
    grid.resize(static_cast<size_t>(MB * MR * ldo));
    const uint8_t* xn = &x.data[n * C * H * W];
    const uint8_t* x_end = x.data.data() + x.data.size();
    for (int64_t by = 0; by < S; ++by)
      for (int64_t bx = 0; bx < S; ++bx)
        for (int64_t cq = 0; cq < CQ; ++cq) {
          const uint8_t* ch[4];
          for (int64_t k = 0; k < 4; ++k) ch[k] = 4 * cq + k < C ? xn + (4 * cq + k) * H * W : nullptr;
          pack_quad_plane(ch, x_end, H, W, by - p.pad, bx - p.pad, s, Hq, Wq, &planes[((by * S + bx) * CQ + cq) * L]);
        }
    std::fill(planes.begin() + plane_elems, planes.end(), 0u);
    const int32_t* b = reinterpret_cast<const int32_t*>(planes.data());
    const int32_t* wp = reinterpret_cast<const int32_t*>(wpk.data());
    for (int64_t mb = 0; mb < MB; ++mb)
      for (int64_t q = 0; q < nq; q += kern.q)
        kern.tile(wp + mb * T * CQ * MR, b + q, off.data(), T, CQ, L, grid.data() + mb * MR * ldo + q, ldo);
    for (int64_t co = 0; co < Co; ++co)
      tap_conv::copy_grid_rows(&grid[co * ldo], Wq, Ho, Wo, &out.data[(n * Co + co) * Ho * Wo]);
  });
}

}  // namespace octet::golden::tap_conv_u8
