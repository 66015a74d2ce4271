#include "golden/batch_norm_fast.h"

#include <immintrin.h>

#include <algorithm>
#include <type_traits>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

#include "golden/activation_simd.h"
#include "golden/int_math.h"
#include "golden/parallel.h"
#include "golden/quantizers_fast.h"

namespace octet::golden {

namespace {
// The AVX-512 loops' target. GCC 12 warns (-Werror) on the undefined pass-through operand of
// the unmasked AVX-512 intrinsics, so they use the all-lanes zero-masked forms.
#define OCTET_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl")))
constexpr __mmask8 k8 = 0xFF;
constexpr __mmask16 k16 = 0xFFFF;

// Channel-major view of an {N, C, ...} tensor, as in batch_norm.cpp: channel c is `batch` rows
// of `inner` contiguous elements, the first at c*inner, one every `stride` = C*inner.
struct ChannelView {
  int64_t batch, channels, inner, stride;
  explicit ChannelView(const Shape& s) {
    if (s.size() < 2) throw std::invalid_argument("batch norm input must have rank >= 2 ({N, C, ...})");
    batch = s[0];
    channels = s[1];
    inner = 1;
    for (size_t i = 2; i < s.size(); ++i) inner *= s[i];
    stride = channels * inner;
  }
};

// The batch in contiguous groups of images, one per thread, as the conv passes split it (each
// thread then reads what its own core wrote): `count` groups of at most `per` images.
struct ImageGroups {
  int count;
  int64_t per;
  ImageGroups(const ChannelView& v, int threads)
      : count(static_cast<int>(std::min<int64_t>(std::max(threads, 1), v.batch))),
        per(count > 0 ? (v.batch + count - 1) / count : 0) {}
  // Group g's images as a view (possibly empty) and its first image in *n0.
  ChannelView view(const ChannelView& v, int64_t g, int64_t* n0) const {
    ChannelView sub = v;
    *n0 = std::min(v.batch, g * per);
    sub.batch = std::min(v.batch, *n0 + per) - *n0;
    return sub;
  }
};

// The int64 paths keep |products| + 2^(s-1) below 2^62: the AVX2 code rounds v + 2^62 >= 0 with
// logical shifts (AVX2 has no 64-bit arithmetic shift) and 2^62 is an even multiple of 2^s (s <= 61),
// so rshift(v + 2^62, s) = rshift(v, s) + 2^(62-s) exactly.
constexpr int128 kFastLimit = static_cast<int128>(1) << 62;
constexpr int kMaxFastShift = 61;
int128 abs128(int64_t v) { return v < 0 ? -static_cast<int128>(v) : static_cast<int128>(v); }

int16_t sat16(int64_t v) { return static_cast<int16_t>(saturate(v, -32767, 32767)); }
int32_t sat32(int64_t v) {
  return static_cast<int32_t>(saturate(v, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()));
}


// ---------------------------------------------------------------------------------------------
// Statistics. S1 = Σx is exact in int64 (|S1| < 2^55). S2 = Σx² is summed modulo 2^64 together
// with max|x|; when N·max|x|² < 2^64 the modular sum is the exact one.
struct Moments {
  int64_t s1 = 0;
  uint64_t s2 = 0;  // Σx² mod 2^64
  uint32_t max_abs = 0;
};

void moments_portable(const int32_t* x, int64_t n, Moments& m) {
  for (int64_t i = 0; i < n; ++i) {
    const int64_t v = x[i];
    m.s1 += v;
    m.s2 += static_cast<uint64_t>(v * v);
    m.max_abs = std::max(m.max_abs, static_cast<uint32_t>(v < 0 ? -v : v));
  }
}

// Per 32-bit lane x' = x + 2^31 (the sign bit flipped), which is >= 0: its zero extensions (even
// lanes masked, odd lanes shifted down) sum in 64-bit lanes without lane-crossing widening, and
// S1 = Σx' - L·2^31, S2 = Σx'² - 2^32·S1 - L·2^62 (mod 2^64) over the L lanes summed. Lanes that a
// masked load zeroes are x = 0: they count in L and add nothing to S1 or S2.
__attribute__((target("avx2"))) inline void moments8_avx2(__m256i w, __m256i& s1, __m256i& s2, __m256i& mx) {
  const __m256i u = _mm256_xor_si256(w, _mm256_set1_epi32(std::numeric_limits<int32_t>::min()));
  const __m256i odd = _mm256_srli_epi64(u, 32);
  s1 = _mm256_add_epi64(s1, _mm256_add_epi64(_mm256_and_si256(u, _mm256_set1_epi64x(0xFFFFFFFF)), odd));
  s2 = _mm256_add_epi64(s2, _mm256_add_epi64(_mm256_mul_epu32(u, u), _mm256_mul_epu32(odd, odd)));
  mx = _mm256_max_epu32(mx, _mm256_abs_epi32(w));  // |INT32_MIN| = 2^31 as unsigned
}

// Moments of channels [c0, c0 + out.size()) into `out`. Sweeps the batch outermost, so that the
// rows of the block's channels, contiguous in memory, are read in order.
__attribute__((target("avx2"))) void moments_block_avx2(const int32_t* x, const ChannelView& v, int64_t c0,
                                                        std::vector<Moments>& out) {
  const int64_t channels = static_cast<int64_t>(out.size());
  // Per channel, the vector accumulators Σx', Σx'² and max|x| (4 x 64 bits each).
  std::vector<int64_t> acc(static_cast<size_t>(channels) * 12, 0);
  const auto lane = [&](int64_t k, int i) { return reinterpret_cast<__m256i*>(acc.data() + k * 12 + i * 4); };
  // The last 1..7 elements of a row by a masked load: the masked lanes read as 0.
  const __m256i tail = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int32_t>(v.inner % 8)),
                                          _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  const int64_t body = v.inner - v.inner % 8;
  for (int64_t n = 0; n < v.batch; ++n) {
    const int32_t* slab = x + n * v.stride + c0 * v.inner;
    for (int64_t k = 0; k < channels; ++k) {
      const int32_t* row = slab + k * v.inner;
      __m256i s1 = _mm256_loadu_si256(lane(k, 0)), s2 = _mm256_loadu_si256(lane(k, 1)),
              mx = _mm256_loadu_si256(lane(k, 2));
      for (int64_t j = 0; j < body; j += 8)
        moments8_avx2(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + j)), s1, s2, mx);
      if (body < v.inner) moments8_avx2(_mm256_maskload_epi32(row + body, tail), s1, s2, mx);
      _mm256_storeu_si256(lane(k, 0), s1);
      _mm256_storeu_si256(lane(k, 1), s2);
      _mm256_storeu_si256(lane(k, 2), mx);
    }
  }
  const uint64_t lanes = static_cast<uint64_t>(v.batch) * static_cast<uint64_t>(body + (body < v.inner ? 8 : 0));
  for (int64_t k = 0; k < channels; ++k) {
    const int64_t* a = acc.data() + k * 12;
    uint64_t s1u = 0, s2u = 0;  // Σx', Σx'² mod 2^64
    uint32_t max_abs = 0;
    for (int i = 0; i < 4; ++i) {
      s1u += static_cast<uint64_t>(a[i]);
      s2u += static_cast<uint64_t>(a[4 + i]);
      const auto mx = static_cast<uint64_t>(a[8 + i]);  // two 32-bit lanes
      max_abs = std::max({max_abs, static_cast<uint32_t>(mx), static_cast<uint32_t>(mx >> 32)});
    }
    const uint64_t s1 = s1u - (lanes << 31);  // Σx mod 2^64, and |Σx| < 2^55
    Moments& m = out[static_cast<size_t>(k)];
    m.s1 = static_cast<int64_t>(s1);
    m.s2 = s2u - (s1 << 32) - (lanes << 62);
    m.max_abs = max_abs;
  }
}

// moments8_avx2 on 16 lanes.
OCTET_AVX512 inline void moments16_512(__m512i w, __m512i& s1, __m512i& s2, __m512i& mx) {
  const __m512i u = _mm512_xor_si512(w, _mm512_set1_epi32(std::numeric_limits<int32_t>::min()));
  const __m512i odd = _mm512_maskz_srli_epi64(k8, u, 32);
  s1 = _mm512_add_epi64(s1, _mm512_add_epi64(_mm512_and_si512(u, _mm512_set1_epi64(0xFFFFFFFF)), odd));
  s2 = _mm512_add_epi64(s2, _mm512_add_epi64(_mm512_maskz_mul_epu32(k8, u, u), _mm512_maskz_mul_epu32(k8, odd, odd)));
  mx = _mm512_maskz_max_epu32(k16, mx, _mm512_maskz_abs_epi32(k16, w));
}

// moments_block_avx2 with AVX-512: 16 elements a step, a row's tail by a masked load (plain
// loads for whole vectors, as in the BN loops below).
OCTET_AVX512 void moments_block_avx512(const int32_t* x, const ChannelView& v, int64_t c0, std::vector<Moments>& out) {
  const int64_t channels = static_cast<int64_t>(out.size());
  std::vector<int64_t> acc(static_cast<size_t>(channels) * 24, 0);  // per channel: Σx', Σx'², max|x| (8 x 64 bits each)
  const auto lane = [&](int64_t k, int i) { return acc.data() + k * 24 + i * 8; };
  const int64_t body = v.inner - v.inner % 16;
  const auto tail = static_cast<__mmask16>((1u << (v.inner % 16)) - 1);
  for (int64_t n = 0; n < v.batch; ++n) {
    const int32_t* slab = x + n * v.stride + c0 * v.inner;
    for (int64_t k = 0; k < channels; ++k) {
      const int32_t* row = slab + k * v.inner;
      __m512i s1 = _mm512_loadu_si512(lane(k, 0)), s2 = _mm512_loadu_si512(lane(k, 1)), mx = _mm512_loadu_si512(lane(k, 2));
      for (int64_t j = 0; j < body; j += 16) moments16_512(_mm512_loadu_si512(row + j), s1, s2, mx);
      if (body < v.inner) moments16_512(_mm512_maskz_loadu_epi32(tail, row + body), s1, s2, mx);
      _mm512_storeu_si512(lane(k, 0), s1);
      _mm512_storeu_si512(lane(k, 1), s2);
      _mm512_storeu_si512(lane(k, 2), mx);
    }
  }
  const uint64_t lanes = static_cast<uint64_t>(v.batch) * static_cast<uint64_t>(body + (body < v.inner ? 16 : 0));
  for (int64_t k = 0; k < channels; ++k) {
    const int64_t* a = acc.data() + k * 24;
    uint64_t s1u = 0, s2u = 0;  // Σx', Σx'² mod 2^64
    uint32_t max_abs = 0;
    for (int i = 0; i < 8; ++i) {
      s1u += static_cast<uint64_t>(a[i]);
      s2u += static_cast<uint64_t>(a[8 + i]);
      const auto mx = static_cast<uint64_t>(a[16 + i]);  // two 32-bit lanes
      max_abs = std::max({max_abs, static_cast<uint32_t>(mx), static_cast<uint32_t>(mx >> 32)});
    }
    const uint64_t s1 = s1u - (lanes << 31);  // Σx mod 2^64, and |Σx| < 2^55
    Moments& m = out[static_cast<size_t>(k)];
    m.s1 = static_cast<int64_t>(s1);
    m.s2 = s2u - (s1 << 32) - (lanes << 62);
    m.max_abs = max_abs;
  }
}

void moments_block(const int32_t* x, const ChannelView& v, int64_t c0, std::vector<Moments>& out, bool avx2) {
  if (avx2 && bn_relu_fast_uses_avx512()) return moments_block_avx512(x, v, c0, out);
  if (avx2) return moments_block_avx2(x, v, c0, out);
  for (size_t k = 0; k < out.size(); ++k) {
    out[k] = Moments{};
    for (int64_t n = 0; n < v.batch; ++n)
      moments_portable(x + n * v.stride + (c0 + static_cast<int64_t>(k)) * v.inner, v.inner, out[k]);
  }
}

// ---------------------------------------------------------------------------------------------
// Forward. x̂ = sat16(rshift((x·2^a - μ)·ρ, L + 17)) with the product x·ρ·2^a - μ·ρ in int64
// when the channel's bound allows it; y = x̂·γ + β·2^7 always fits int32 (|y| < 2^30 + 2^22).
struct FwdChannel {
  int a = 0, s = 0;         // input shift, rounding shift L + 17
  int64_t rho = 0, mr = 0;  // ρ, μ·ρ
  int32_t gamma = 0, beta128 = 0;
};
struct FwdOut {  // channel base pointers; y or act/mask may be null
  int16_t* xhat;
  int32_t* y;
  uint8_t* act;
  uint8_t* mask;
};

// Whether every |x| <= max_abs_x keeps |x·ρ·2^a - μ·ρ| plus the rounding add below 2^62.
bool forward_fits_int64(int128 max_abs_x, int a, int64_t rho, int64_t mean, int s) {
  if (a < 0 || a > 31 || s < 1 || s > kMaxFastShift || rho < 0 || rho > std::numeric_limits<int32_t>::max())
    return false;
  const int128 bound = (max_abs_x << a) * rho + abs128(mean) * rho + (static_cast<int128>(1) << (s - 1));
  return bound < kFastLimit;
}

template <bool kY, bool kRelu>
inline void forward_element(int32_t x, const FwdChannel& k, const FwdOut& o, int64_t i) {
  const int64_t p = static_cast<int64_t>(static_cast<uint64_t>(int64_t{x} * k.rho) << k.a) - k.mr;
  const int16_t xhat = sat16(shift_right_rhe_branch_free(p, k.s));
  o.xhat[i] = xhat;
  const int32_t y = xhat * k.gamma + k.beta128;
  if constexpr (kY) o.y[i] = y;
  if constexpr (kRelu) simd::relu_element(y, o.act + i, o.mask + i);
}

template <bool kY, bool kRelu>
void forward_channel_portable(const int32_t* x0, const ChannelView& v, const FwdChannel& k, const FwdOut& o) {
  for (int64_t n = 0; n < v.batch; ++n)
    for (int64_t j = 0, i = n * v.stride; j < v.inner; ++j, ++i) forward_element<kY, kRelu>(x0[i], k, o, i);
}

// rshift(v, s) per int64 lane for |v| + 2^(s-1) < 2^62 (see kFastLimit): bias = 2^62 + 2^(s-1) - 1,
// unbias = 2^(62-s); bit s of v is the parity of floor(v / 2^s) whatever the sign.
struct RoundShift {
  __m256i bias, unbias;
  __m128i s;
};

__attribute__((target("avx2"))) inline RoundShift round_shift_avx2(int s) {
  return RoundShift{_mm256_set1_epi64x((int64_t{1} << 62) + (int64_t{1} << (s - 1)) - 1),
                    _mm256_set1_epi64x(int64_t{1} << (62 - s)), _mm_cvtsi32_si128(s)};
}

__attribute__((target("avx2"))) inline __m256i rshift_avx2(__m256i v, const RoundShift& r) {
  const __m256i odd = _mm256_and_si256(_mm256_srl_epi64(v, r.s), _mm256_set1_epi64x(1));
  const __m256i t = _mm256_add_epi64(_mm256_add_epi64(v, r.bias), odd);
  return _mm256_sub_epi64(_mm256_srl_epi64(t, r.s), r.unbias);
}

// Four int64 lanes of x·ρ (low dwords of `x`) to sat16(rshift(x·ρ·2^a - μ·ρ, s)) in int64 lanes.
__attribute__((target("avx2"))) inline __m256i xhat4_avx2(__m256i x, __m256i rho, __m128i sh_a, __m256i mr,
                                                          const RoundShift& r) {
  const __m256i hi = _mm256_set1_epi64x(32767), lo = _mm256_set1_epi64x(-32767);
  const __m256i p = _mm256_sub_epi64(_mm256_sll_epi64(_mm256_mul_epi32(x, rho), sh_a), mr);
  __m256i q = rshift_avx2(p, r);
  q = _mm256_blendv_epi8(q, hi, _mm256_cmpgt_epi64(q, hi));
  return _mm256_blendv_epi8(q, lo, _mm256_cmpgt_epi64(lo, q));
}

template <bool kY, bool kRelu>
__attribute__((target("avx2"))) void forward_channel_avx2(const int32_t* x0, const ChannelView& v, const FwdChannel& k,
                                                          const FwdOut& o) {
  const __m256i rho = _mm256_set1_epi64x(k.rho), mr = _mm256_set1_epi64x(k.mr);
  const RoundShift r = round_shift_avx2(k.s);
  const __m128i sh_a = _mm_cvtsi32_si128(k.a);
  const __m256i gamma = _mm256_set1_epi32(k.gamma), beta = _mm256_set1_epi32(k.beta128);
  for (int64_t n = 0; n < v.batch; ++n) {
    const int64_t row = n * v.stride;
    int64_t j = 0;
    for (; j + 8 <= v.inner; j += 8) {
      const int64_t i = row + j;
      const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x0 + i));
      // Even elements in the low dwords of the 64-bit lanes, then the odd ones; results re-interleave by blend.
      const __m256i even = xhat4_avx2(w, rho, sh_a, mr, r);
      const __m256i odd = xhat4_avx2(_mm256_srli_epi64(w, 32), rho, sh_a, mr, r);
      const __m256i xh = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(o.xhat + i),
                       _mm_packs_epi32(_mm256_castsi256_si128(xh), _mm256_extracti128_si256(xh, 1)));
      const __m256i y = _mm256_add_epi32(_mm256_mullo_epi32(xh, gamma), beta);
      if constexpr (kY) _mm256_storeu_si256(reinterpret_cast<__m256i*>(o.y + i), y);
      if constexpr (kRelu) simd::relu8_avx2(y, o.act + i, o.mask + i);
    }
    for (int64_t i = row + j; i < row + v.inner; ++i) forward_element<kY, kRelu>(x0[i], k, o, i);
  }
}

// The same with AVX-512 (F, BW, DQ, VL): 16 elements a step in two zmm of 8 int64 lanes, the
// rounding shift arithmetic (vpsraq: the bound keeps v + 2^(s-1) inside int64), the clamp by
// vpminsq / vpmaxsq, and a row's last elements by masked loads and stores instead of scalar code.


// rshift(v, s) per int64 lane (round half to even) for |v| + 2^(s-1) <= INT64_MAX; bias = 2^(s-1) - 1.
OCTET_AVX512 inline __m512i rshift_512(__m512i v, __m512i bias, __m128i s) {
  const __m512i odd = _mm512_and_si512(_mm512_maskz_srl_epi64(k8, v, s), _mm512_set1_epi64(1));
  return _mm512_maskz_sra_epi64(k8, _mm512_add_epi64(_mm512_add_epi64(v, bias), odd), s);
}

// Eight int64 lanes of x·ρ (low dwords of `x`) to sat16(rshift(x·ρ·2^a - μ·ρ, s)).
OCTET_AVX512 inline __m512i xhat8_512(__m512i x, __m512i rho, __m128i sh_a, __m512i mr, __m512i bias, __m128i sh) {
  const __m512i p = _mm512_sub_epi64(_mm512_maskz_sll_epi64(k8, _mm512_maskz_mul_epi32(k8, x, rho), sh_a), mr);
  const __m512i q = rshift_512(p, bias, sh);
  return _mm512_maskz_max_epi64(k8, _mm512_maskz_min_epi64(k8, q, _mm512_set1_epi64(32767)), _mm512_set1_epi64(-32767));
}

// A row's whole vectors use plain loads and stores, only its tail masked ones: masked loads
// that miss the cache measured slower than plain ones (in training the rows come from L3).
template <bool kFull, bool kY, bool kRelu>
OCTET_AVX512 inline void forward16_512(const int32_t* x0, int64_t i, __mmask16 lanes, __m512i rho, __m512i mr,
                                       __m512i bias, __m128i sh, __m128i sh_a, __m512i gamma, __m512i beta,
                                       const FwdOut& o) {
  const __m512i w = kFull ? _mm512_loadu_si512(x0 + i) : _mm512_maskz_loadu_epi32(lanes, x0 + i);
  // Even elements in the low dwords of the 64-bit lanes, then the odd ones; re-interleaved by a blend.
  const __m512i even = xhat8_512(w, rho, sh_a, mr, bias, sh);
  const __m512i odd = xhat8_512(_mm512_maskz_srli_epi64(k8, w, 32), rho, sh_a, mr, bias, sh);
  const __m512i xh = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_maskz_slli_epi64(k8, odd, 32));
  const __m512i y = _mm512_add_epi32(_mm512_maskz_mullo_epi32(k16, xh, gamma), beta);
  if constexpr (kFull) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(o.xhat + i), _mm512_maskz_cvtepi32_epi16(k16, xh));
    if constexpr (kY) _mm512_storeu_si512(o.y + i, y);
  } else {
    _mm512_mask_cvtepi32_storeu_epi16(o.xhat + i, lanes, xh);
    if constexpr (kY) _mm512_mask_storeu_epi32(o.y + i, lanes, y);
  }
  if constexpr (kRelu) simd::relu16_avx512<kFull>(y, lanes, o.act + i, o.mask + i);
}

template <bool kY, bool kRelu>
OCTET_AVX512 void forward_channel_avx512(const int32_t* x0, const ChannelView& v, const FwdChannel& k,
                                         const FwdOut& o) {
  const __m512i rho = _mm512_set1_epi64(k.rho), mr = _mm512_set1_epi64(k.mr);
  const __m512i bias = _mm512_set1_epi64((int64_t{1} << (k.s - 1)) - 1);
  const __m128i sh = _mm_cvtsi32_si128(k.s), sh_a = _mm_cvtsi32_si128(k.a);
  const __m512i gamma = _mm512_set1_epi32(k.gamma), beta = _mm512_set1_epi32(k.beta128);
  const int64_t body = v.inner - v.inner % 16;
  const auto tail = static_cast<__mmask16>((1u << (v.inner % 16)) - 1);
  for (int64_t n = 0; n < v.batch; ++n) {
    const int64_t row = n * v.stride;
    for (int64_t j = 0; j < body; j += 16)
      forward16_512<true, kY, kRelu>(x0, row + j, k16, rho, mr, bias, sh, sh_a, gamma, beta, o);
    if (body < v.inner)
      forward16_512<false, kY, kRelu>(x0, row + body, tail, rho, mr, bias, sh, sh_a, gamma, beta, o);
  }
}

// The reference arithmetic (int128 product), for channels whose bound exceeds int64.
template <bool kY, bool kRelu>
void forward_channel_exact(const int32_t* x0, const ChannelView& v, const BnStats& s, int64_t c, const FwdChannel& k,
                           const FwdOut& o) {
  for (int64_t n = 0; n < v.batch; ++n)
    for (int64_t j = 0, i = n * v.stride; j < v.inner; ++j, ++i) {
      const int64_t centred = shift_left_checked(x0[i], s.input_shift) - s.mean[c];
      const int128 prod = static_cast<int128>(centred) * s.recip[c];
      const int16_t xhat = sat16(narrow_checked(shift_right_round_half_even(prod, s.recip_shift[c] + 17), "x̂"));
      o.xhat[i] = xhat;
      const int32_t y = static_cast<int32_t>(int64_t{xhat} * k.gamma + int64_t{k.beta128});
      if constexpr (kY) o.y[i] = y;
      if constexpr (kRelu) simd::relu_element(y, o.act + i, o.mask + i);
    }
}

template <bool kY, bool kRelu>
void forward_all(const Tensor<int32_t>& x, const BnStats& s, const Tensor<int16_t>& gamma, const Tensor<int16_t>& beta,
                 const FwdOut& base, int threads) {
  const ChannelView v(x.shape);
  if (static_cast<int64_t>(s.mean.size()) != v.channels || gamma.size() != v.channels || beta.size() != v.channels)
    throw std::invalid_argument("bn_forward: statistics or parameters do not match the channel count");
  if (x.exp + 15 != s.input_shift) throw std::invalid_argument("bn_forward: statistics were taken at another exponent");
  const bool avx2 = bn_relu_fast_uses_avx2(), avx512 = bn_relu_fast_uses_avx512();
  const auto channel_constants = [&](int64_t c) {
    FwdChannel k;
    k.a = s.input_shift;
    k.s = s.recip_shift[c] + 17;
    k.rho = s.recip[c];
    k.gamma = gamma.data[c];
    k.beta128 = int32_t{beta.data[c]} * 128;
    return k;
  };
  // With several threads: the images in contiguous groups, one per thread, as the conv passes
  // split the batch (each thread reads the conv outputs its own core wrote), when every
  // channel is on the int64 path: by the a-priori bound, or else by max|x| measured over the
  // groups (the same decision as the channel split below, which runs otherwise).
  const ImageGroups split(v, threads);
  const int groups = split.count;
  if (groups > 1 && avx2) {
    const auto group_view = [&](int64_t g, int64_t* n0) { return split.view(v, g, n0); };
    std::vector<int64_t> measure;  // channels that need max|x|
    bool all_fit = true;
    for (int64_t c = 0; c < v.channels && all_fit; ++c) {
      const FwdChannel k = channel_constants(c);
      if (forward_fits_int64(static_cast<int128>(1) << 31, k.a, k.rho, s.mean[c], k.s)) continue;
      if (!forward_fits_int64(0, k.a, k.rho, s.mean[c], k.s)) all_fit = false;
      measure.push_back(c);
    }
    if (all_fit && !measure.empty()) {
      std::vector<uint32_t> group_max(static_cast<size_t>(groups) * measure.size(), 0);
      parallel_for(groups, groups, [&](int64_t g) {
        int64_t n0;
        const ChannelView sub = group_view(g, &n0);
        for (size_t m = 0; m < measure.size(); ++m) {
          const int32_t* x0 = x.data.data() + n0 * v.stride + measure[m] * v.inner;
          uint32_t mx = 0;
          for (int64_t n = 0; n < sub.batch; ++n)
            for (int64_t j = 0; j < v.inner; ++j) {
              const int64_t xv = x0[n * v.stride + j];
              mx = std::max(mx, static_cast<uint32_t>(xv < 0 ? -xv : xv));
            }
          group_max[static_cast<size_t>(g) * measure.size() + m] = mx;
        }
      });
      for (size_t m = 0; m < measure.size() && all_fit; ++m) {
        uint32_t mx = 0;
        for (int g = 0; g < groups; ++g) mx = std::max(mx, group_max[static_cast<size_t>(g) * measure.size() + m]);
        const int64_t c = measure[m];
        const FwdChannel k = channel_constants(c);
        all_fit = forward_fits_int64(mx, k.a, k.rho, s.mean[c], k.s);
      }
    }
    if (all_fit) {
      parallel_for(groups, groups, [&](int64_t g) {
        int64_t n0;
        const ChannelView sub = group_view(g, &n0);
        if (sub.batch == 0) return;
        for (int64_t c = 0; c < v.channels; ++c) {
          FwdChannel k = channel_constants(c);
          k.mr = s.mean[c] * k.rho;
          const int64_t off = n0 * v.stride + c * v.inner;
          const FwdOut o{base.xhat + off, kY ? base.y + off : nullptr, kRelu ? base.act + off : nullptr,
                         kRelu ? base.mask + off : nullptr};
          if (avx512)
            forward_channel_avx512<kY, kRelu>(x.data.data() + off, sub, k, o);
          else
            forward_channel_avx2<kY, kRelu>(x.data.data() + off, sub, k, o);
        }
      });
      return;
    }
  }
  parallel_for(v.channels, threads, [&](int64_t c) {
    FwdChannel k;
    k.a = s.input_shift;
    k.s = s.recip_shift[c] + 17;
    k.rho = s.recip[c];
    k.gamma = gamma.data[c];
    k.beta128 = int32_t{beta.data[c]} * 128;
    const int64_t off = c * v.inner;
    const FwdOut o{base.xhat + off, kY ? base.y + off : nullptr, kRelu ? base.act + off : nullptr,
                   kRelu ? base.mask + off : nullptr};
    const int32_t* x0 = x.data.data() + off;
    bool fits = forward_fits_int64(static_cast<int128>(1) << 31, k.a, k.rho, s.mean[c], k.s);
    if (!fits && forward_fits_int64(0, k.a, k.rho, s.mean[c], k.s)) {  // the a-priori bound failed: measure max|x|
      Moments m;
      for (int64_t n = 0; n < v.batch; ++n) moments_portable(x0 + n * v.stride, v.inner, m);
      fits = forward_fits_int64(m.max_abs, k.a, k.rho, s.mean[c], k.s);
    }
    if (!fits) return forward_channel_exact<kY, kRelu>(x0, v, s, c, k, o);
    k.mr = s.mean[c] * k.rho;
    if (avx512)
      forward_channel_avx512<kY, kRelu>(x0, v, k, o);
    else if (avx2)
      forward_channel_avx2<kY, kRelu>(x0, v, k, o);
    else
      forward_channel_portable<kY, kRelu>(x0, v, k, o);
  });
}

// ---------------------------------------------------------------------------------------------
// Backward. Pass 1 sums dβ_raw = Σdy and dγ_raw = Σdy·x̂ modulo 2^64 (the reference's int64
// sums) and measures max|dy|, max|x̂|. Pass 2: dx = rshift(U·cγ, L + 22) in int64 when
// max|U|·|cγ| < 2^62, computed modulo 2^64 (exact because the true value fits).
struct BwdSums {
  uint64_t dbeta = 0, dgamma = 0;
  uint32_t max_dy = 0, max_xhat = 0;
};

template <bool kMask>
inline int32_t masked(const int32_t* dy, const uint8_t* mask, int64_t i) {
  if constexpr (kMask) return mask[i] ? dy[i] : 0;
  return dy[i];
}

template <bool kMask>
void sums_portable(const int32_t* dy, const int16_t* xhat, const uint8_t* mask, int64_t begin, int64_t end,
                   BwdSums& r) {
  for (int64_t i = begin; i < end; ++i) {
    const int64_t d = masked<kMask>(dy, mask, i), xh = xhat[i];
    r.dbeta += static_cast<uint64_t>(d);
    r.dgamma += static_cast<uint64_t>(d * xh);
    r.max_dy = std::max(r.max_dy, static_cast<uint32_t>(d < 0 ? -d : d));
    r.max_xhat = std::max(r.max_xhat, static_cast<uint32_t>(xh < 0 ? -xh : xh));
  }
}

// sums_avx2 with AVX-512: 16 elements a step, a row's tail by masked loads (masked lanes read 0).
struct Sums512 {
  __m512i sb, sg, mdy, mxh;
};

template <bool kFull, bool kMask>
OCTET_AVX512 inline void sums16_512(const int32_t* dy, const int16_t* xhat, const uint8_t* mask, int64_t i,
                                    __mmask16 lanes, Sums512& a) {
  __mmask16 take = lanes;
  if constexpr (kMask) {
    const __m128i m = kFull ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(mask + i))
                            : _mm_maskz_loadu_epi8(lanes, mask + i);
    take = _mm_test_epi8_mask(m, m) & lanes;
  }
  const __m512i e =
      _mm512_maskz_mov_epi32(take, kFull ? _mm512_loadu_si512(dy + i) : _mm512_maskz_loadu_epi32(lanes, dy + i));
  const __m256i x16 = kFull ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xhat + i))
                            : _mm256_maskz_loadu_epi16(lanes, xhat + i);
  const __m512i xh = _mm512_maskz_cvtepi16_epi32(k16, x16);
  a.mdy = _mm512_maskz_max_epu32(k16, a.mdy, _mm512_maskz_abs_epi32(k16, e));
  a.mxh = _mm512_maskz_max_epu32(k16, a.mxh, _mm512_maskz_abs_epi32(k16, xh));
  // Even elements sign-extended in place, odd ones shifted down.
  const __m512i e_odd = _mm512_maskz_srai_epi64(k8, e, 32);
  const __m512i e_even = _mm512_maskz_srai_epi64(k8, _mm512_maskz_slli_epi64(k8, e, 32), 32);
  a.sb = _mm512_add_epi64(a.sb, _mm512_add_epi64(e_even, e_odd));
  const __m512i pe = _mm512_maskz_mul_epi32(k8, e, xh);
  const __m512i po = _mm512_maskz_mul_epi32(k8, e_odd, _mm512_maskz_srli_epi64(k8, xh, 32));
  a.sg = _mm512_add_epi64(a.sg, _mm512_add_epi64(pe, po));
}

template <bool kMask>
OCTET_AVX512 BwdSums sums_avx512(const int32_t* dy, const int16_t* xhat, const uint8_t* mask, const ChannelView& v) {
  const __m512i zero = _mm512_setzero_si512();
  Sums512 a{zero, zero, zero, zero};
  const int64_t body = v.inner - v.inner % 16;
  const auto tail = static_cast<__mmask16>((1u << (v.inner % 16)) - 1);
  for (int64_t n = 0; n < v.batch; ++n) {
    const int64_t row = n * v.stride;
    for (int64_t j = 0; j < body; j += 16) sums16_512<true, kMask>(dy, xhat, mask, row + j, k16, a);
    if (body < v.inner) sums16_512<false, kMask>(dy, xhat, mask, row + body, tail, a);
  }
  alignas(64) uint64_t ab[8], ag[8];
  alignas(64) uint32_t ad[16], ax[16];
  _mm512_store_si512(ab, a.sb);
  _mm512_store_si512(ag, a.sg);
  _mm512_store_si512(ad, a.mdy);
  _mm512_store_si512(ax, a.mxh);
  BwdSums r;
  for (int k = 0; k < 8; ++k) {
    r.dbeta += ab[k];
    r.dgamma += ag[k];
  }
  for (int k = 0; k < 16; ++k) {
    r.max_dy = std::max(r.max_dy, ad[k]);
    r.max_xhat = std::max(r.max_xhat, ax[k]);
  }
  return r;
}

template <bool kMask>
__attribute__((target("avx2"))) BwdSums sums_avx2(const int32_t* dy, const int16_t* xhat, const uint8_t* mask,
                                                  const ChannelView& v) {
  if (bn_relu_fast_uses_avx512()) return sums_avx512<kMask>(dy, xhat, mask, v);
  const __m256i zero = _mm256_setzero_si256();
  __m256i sb = zero, sg = zero, mdy = zero, mxh = zero;
  BwdSums r;
  for (int64_t n = 0; n < v.batch; ++n) {
    const int64_t row = n * v.stride;
    int64_t j = 0;
    for (; j + 8 <= v.inner; j += 8) {
      const int64_t i = row + j;
      __m256i e = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(dy + i));
      if constexpr (kMask) {
        const __m256i m = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(mask + i)));
        e = _mm256_andnot_si256(_mm256_cmpeq_epi32(m, zero), e);
      }
      const __m256i xh = _mm256_cvtepi16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(xhat + i)));
      mdy = _mm256_max_epu32(mdy, _mm256_abs_epi32(e));
      mxh = _mm256_max_epu32(mxh, _mm256_abs_epi32(xh));
      const __m256i lo = _mm256_cvtepi32_epi64(_mm256_castsi256_si128(e));
      const __m256i hi = _mm256_cvtepi32_epi64(_mm256_extracti128_si256(e, 1));
      sb = _mm256_add_epi64(sb, _mm256_add_epi64(lo, hi));
      const __m256i pe = _mm256_mul_epi32(e, xh);  // even elements
      const __m256i po = _mm256_mul_epi32(_mm256_srli_epi64(e, 32), _mm256_srli_epi64(xh, 32));
      sg = _mm256_add_epi64(sg, _mm256_add_epi64(pe, po));
    }
    sums_portable<kMask>(dy, xhat, mask, row + j, row + v.inner, r);
  }
  alignas(32) uint64_t ab[4], ag[4];
  alignas(32) uint32_t ad[8], ax[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(ab), sb);
  _mm256_store_si256(reinterpret_cast<__m256i*>(ag), sg);
  _mm256_store_si256(reinterpret_cast<__m256i*>(ad), mdy);
  _mm256_store_si256(reinterpret_cast<__m256i*>(ax), mxh);
  for (int k = 0; k < 4; ++k) {
    r.dbeta += ab[k];
    r.dgamma += ag[k];
  }
  for (int k = 0; k < 8; ++k) {
    r.max_dy = std::max(r.max_dy, ad[k]);
    r.max_xhat = std::max(r.max_xhat, ax[k]);
  }
  return r;
}

struct BwdChannel {
  int64_t mb14 = 0, mg = 0, cg = 0;  // mb·2^14, mg, cγ
  int s = 0;                         // L + 22
};

template <bool kMask>
inline void backward_element(const int32_t* dy, const int16_t* xhat, const uint8_t* mask, const BwdChannel& k,
                             int64_t* dx, int64_t i) {
  const int64_t u = int64_t{masked<kMask>(dy, mask, i)} * (int64_t{1} << 22) - k.mb14 - int64_t{xhat[i]} * k.mg;
  dx[i] = shift_right_rhe_branch_free(u * k.cg, k.s);
}

// Low 64 bits of a·b per lane (b_hi = b >> 32): exact whenever the product fits int64, whatever the signs.
__attribute__((target("avx2"))) inline __m256i mullo64(__m256i a, __m256i b, __m256i b_hi) {
  const __m256i cross = _mm256_add_epi64(_mm256_mul_epu32(a, b_hi), _mm256_mul_epu32(_mm256_srli_epi64(a, 32), b));
  return _mm256_add_epi64(_mm256_mul_epu32(a, b), _mm256_slli_epi64(cross, 32));
}

// How pass 2 multiplies: kNarrow when |U| and |cγ| fit int32 (one 32x32 multiply for U·cγ, the
// common case in training), kSmallMg when only mg does, kWide otherwise (64-bit products mod 2^64).
enum class BwdProducts { kNarrow, kSmallMg, kWide };

template <bool kMask, BwdProducts kProducts>
__attribute__((target("avx2"))) void backward_channel_avx2(const int32_t* dy, const int16_t* xhat, const uint8_t* mask,
                                                           const ChannelView& v, const BwdChannel& k, int64_t* dx) {
  const __m256i zero = _mm256_setzero_si256();
  const __m256i mb14 = _mm256_set1_epi64x(k.mb14), mg = _mm256_set1_epi64x(k.mg), cg = _mm256_set1_epi64x(k.cg);
  const __m256i mg_hi = _mm256_srli_epi64(mg, 32), cg_hi = _mm256_srli_epi64(cg, 32);
  const RoundShift r = round_shift_avx2(k.s);
  for (int64_t n = 0; n < v.batch; ++n) {
    const int64_t row = n * v.stride;
    int64_t j = 0;
    for (; j + 4 <= v.inner; j += 4) {
      const int64_t i = row + j;
      __m256i e = _mm256_cvtepi32_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i*>(dy + i)));
      if constexpr (kMask) {
        int32_t m4;
        std::memcpy(&m4, mask + i, 4);
        e = _mm256_andnot_si256(_mm256_cmpeq_epi64(_mm256_cvtepu8_epi64(_mm_cvtsi32_si128(m4)), zero), e);
      }
      const __m256i xh = _mm256_cvtepi16_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(xhat + i)));
      const __m256i xm = kProducts == BwdProducts::kWide ? mullo64(xh, mg, mg_hi) : _mm256_mul_epi32(xh, mg);
      const __m256i u = _mm256_sub_epi64(_mm256_sub_epi64(_mm256_slli_epi64(e, 22), mb14), xm);
      const __m256i p = kProducts == BwdProducts::kNarrow ? _mm256_mul_epi32(u, cg) : mullo64(u, cg, cg_hi);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dx + i), rshift_avx2(p, r));
    }
    for (int64_t i = row + j; i < row + v.inner; ++i) backward_element<kMask>(dy, xhat, mask, k, dx, i);
  }
}

// The same with AVX-512: 8 int64 lanes a step, vpmullq for the 64-bit products, the arithmetic
// rounding shift (the bound keeps |p| + 2^(s-1) < 2^62), masked loads and stores for a row's tail.
// DxT = int32_t stores dx narrowed (vpmovqd), for channels whose bound proves it fits.
template <bool kFull, bool kMask, BwdProducts kProducts, typename DxT>
OCTET_AVX512 inline __m512i backward8_512(const int32_t* dy, const int16_t* xhat, const uint8_t* mask, int64_t i,
                                       __mmask8 lanes, __m512i mb14, __m512i mg, __m512i cg, __m512i bias,
                                       __m128i sh, DxT* dx) {
  __mmask8 take = lanes;  // lanes whose error passes the ReLU mask
  if constexpr (kMask) {
    const __m128i m = kFull ? _mm_loadl_epi64(reinterpret_cast<const __m128i*>(mask + i))
                            : _mm_maskz_loadu_epi8(lanes, mask + i);
    take = static_cast<__mmask8>(_mm_test_epi8_mask(m, m)) & lanes;
  }
  const __m256i e32 = kFull ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(dy + i))
                            : _mm256_maskz_loadu_epi32(lanes, dy + i);
  const __m128i x16 = kFull ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(xhat + i))
                            : _mm_maskz_loadu_epi16(lanes, xhat + i);
  const __m512i e = _mm512_maskz_cvtepi32_epi64(take, e32);
  const __m512i xh = _mm512_maskz_cvtepi16_epi64(k8, x16);
  const __m512i xm =
      kProducts == BwdProducts::kWide ? _mm512_maskz_mullo_epi64(k8, xh, mg) : _mm512_maskz_mul_epi32(k8, xh, mg);
  const __m512i u = _mm512_sub_epi64(_mm512_sub_epi64(_mm512_maskz_slli_epi64(k8, e, 22), mb14), xm);
  const __m512i p =
      kProducts == BwdProducts::kNarrow ? _mm512_maskz_mul_epi32(k8, u, cg) : _mm512_maskz_mullo_epi64(k8, u, cg);
  const __m512i r = rshift_512(p, bias, sh);
  if constexpr (std::is_same_v<DxT, int32_t>) {
    if constexpr (kFull)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dx + i), _mm512_maskz_cvtepi64_epi32(k8, r));
    else
      _mm512_mask_cvtepi64_storeu_epi32(dx + i, lanes, r);
  } else if constexpr (kFull) {
    _mm512_storeu_si512(dx + i, r);
  } else {
    _mm512_mask_storeu_epi64(dx + i, lanes, r);
  }
  return r;
}

// Returns max |dx| of the channel, measured on the values as they are stored.
template <bool kMask, BwdProducts kProducts, typename DxT>
OCTET_AVX512 uint64_t backward_channel_avx512(const int32_t* dy, const int16_t* xhat, const uint8_t* mask,
                                              const ChannelView& v, const BwdChannel& k, DxT* dx) {
  const __m512i mb14 = _mm512_set1_epi64(k.mb14), mg = _mm512_set1_epi64(k.mg), cg = _mm512_set1_epi64(k.cg);
  const __m512i bias = _mm512_set1_epi64((int64_t{1} << (k.s - 1)) - 1);
  const __m128i sh = _mm_cvtsi32_si128(k.s);
  const int64_t body = v.inner - v.inner % 8;
  const auto tail = static_cast<__mmask8>((1u << (v.inner % 8)) - 1);
  __m512i lo = _mm512_setzero_si512(), hi = lo;
  for (int64_t n = 0; n < v.batch; ++n) {
    const int64_t row = n * v.stride;
    for (int64_t j = 0; j < body; j += 8) {
      const __m512i r = backward8_512<true, kMask, kProducts, DxT>(dy, xhat, mask, row + j, k8, mb14, mg, cg, bias, sh, dx);
      lo = _mm512_mask_min_epi64(lo, k8, lo, r);  // (the unmasked forms trip GCC 12's -Wuninitialized)
      hi = _mm512_mask_max_epi64(hi, k8, hi, r);
    }
    if (body < v.inner) {
      const __m512i r =
          backward8_512<false, kMask, kProducts, DxT>(dy, xhat, mask, row + body, tail, mb14, mg, cg, bias, sh, dx);
      lo = _mm512_mask_min_epi64(lo, tail, lo, r);  // lanes past the row are not stored
      hi = _mm512_mask_max_epi64(hi, tail, hi, r);
    }
  }
  alignas(64) int64_t lanes_lo[8], lanes_hi[8];
  _mm512_store_si512(lanes_lo, lo);
  _mm512_store_si512(lanes_hi, hi);
  uint64_t m = 0;
  for (int j = 0; j < 8; ++j)
    m = std::max({m, static_cast<uint64_t>(lanes_hi[j]), 0 - static_cast<uint64_t>(lanes_lo[j])});
  return m;
}

// Chooses the products as backward_all does for AVX2.
template <bool kMask, typename DxT>
uint64_t backward_avx512(const int32_t* dy, const int16_t* xhat, const uint8_t* mask, const ChannelView& v,
                         const BwdChannel& k, DxT* dx, int128 max_u) {
  const auto in_int32 = [](int128 m) { return m <= std::numeric_limits<int32_t>::max(); };
  const int128 cg = k.cg < 0 ? -static_cast<int128>(k.cg) : static_cast<int128>(k.cg);
  const int128 mg = k.mg < 0 ? -static_cast<int128>(k.mg) : static_cast<int128>(k.mg);
  if (in_int32(max_u) && in_int32(cg))
    return backward_channel_avx512<kMask, BwdProducts::kNarrow, DxT>(dy, xhat, mask, v, k, dx);
  if (in_int32(mg))
    return backward_channel_avx512<kMask, BwdProducts::kSmallMg, DxT>(dy, xhat, mask, v, k, dx);
  return backward_channel_avx512<kMask, BwdProducts::kWide, DxT>(dy, xhat, mask, v, k, dx);
}

// True when every dx of a fast-path channel fits int32: |U·cγ| <= max_u·|cγ|, and rounding
// the shift by s adds at most 1 to its floor.
bool dx_fits_int32(int128 max_u, const BwdChannel& k) {
  return ((max_u * abs128(k.cg)) >> k.s) + 1 <= std::numeric_limits<int32_t>::max();
}

// max |dx| over a channel's rows, read back after they were written (the paths other than AVX-512).
uint64_t channel_max_magnitude(const int64_t* dx, const ChannelView& v) {
  uint64_t m = 0;
  for (int64_t n = 0; n < v.batch; ++n) m = std::max(m, max_magnitude_fast(dx + n * v.stride, v.inner, 1));
  return m;
}

template <bool kMask>
void backward_channel_portable(const int32_t* dy, const int16_t* xhat, const uint8_t* mask, const ChannelView& v,
                               const BwdChannel& k, int64_t* dx) {
  for (int64_t n = 0; n < v.batch; ++n)
    for (int64_t j = 0, i = n * v.stride; j < v.inner; ++j, ++i) backward_element<kMask>(dy, xhat, mask, k, dx, i);
}

// The reference arithmetic: U in int64 (modulo 2^64, as the reference's int64 expression
// compiles), the int128 product, the checked narrowing.
template <bool kMask>
void backward_channel_exact(const int32_t* dy, const int16_t* xhat, const uint8_t* mask, const ChannelView& v,
                            const BwdChannel& k, int64_t* dx) {
  for (int64_t n = 0; n < v.batch; ++n)
    for (int64_t j = 0, i = n * v.stride; j < v.inner; ++j, ++i) {
      // As the reference: U in int128, an error if it leaves int64.
      const int64_t u = narrow_checked(static_cast<int128>(masked<kMask>(dy, mask, i)) * (int64_t{1} << 22) - k.mb14 -
                                           static_cast<int128>(xhat[i]) * k.mg,
                                       "BN U");
      dx[i] = narrow_checked(shift_right_round_half_even(static_cast<int128>(u) * k.cg, k.s), "BN dx");
    }
}

template <bool kMask>
BwdSums channel_sums(const int32_t* d0, const int16_t* x0, const uint8_t* m0, const ChannelView& v, bool avx2) {
  if (avx2) return sums_avx2<kMask>(d0, x0, m0, v);
  BwdSums sums;
  for (int64_t n = 0; n < v.batch; ++n) sums_portable<kMask>(d0, x0, m0, n * v.stride, n * v.stride + v.inner, sums);
  return sums;
}

template <bool kMask>
BnBackwardSums sums_all(const Tensor<int32_t>& dy, const uint8_t* mask, const Tensor<int16_t>& xhat, int threads) {
  const ChannelView v(dy.shape);
  if (xhat.shape != dy.shape) throw std::invalid_argument("bn_backward: x̂ and dy shapes differ");
  BnBackwardSums out{std::vector<int64_t>(v.channels), std::vector<int64_t>(v.channels)};
  const bool avx2 = bn_relu_fast_uses_avx2();
  parallel_for(v.channels, threads, [&](int64_t c) {
    const int64_t off = c * v.inner;
    const BwdSums sums = channel_sums<kMask>(dy.data.data() + off, xhat.data.data() + off, kMask ? mask + off : nullptr, v, avx2);
    out.dbeta[c] = static_cast<int64_t>(sums.dbeta);
    out.dgamma[c] = static_cast<int64_t>(sums.dgamma);
  });
  return out;
}

// With dx_narrow, on AVX-512, when every channel takes the fast path and dx_fits_int32: dx
// goes to *dx_narrow in int32 (out.dx left empty); otherwise to out.dx in int64.
template <bool kMask>
BnBackward backward_all(const Tensor<int32_t>& dy, const uint8_t* mask, const Tensor<int16_t>& xhat,
                        const Tensor<int16_t>& gamma, const BnStats& s, int threads, const BnBackwardSums* batch_sums,
                        uint64_t* dx_max_abs = nullptr, Tensor<int32_t>* dx_narrow = nullptr) {
  const ChannelView v(dy.shape);
  if (xhat.shape != dy.shape) throw std::invalid_argument("bn_backward: x̂ and dy shapes differ");
  if (gamma.size() != v.channels) throw std::invalid_argument("bn_backward: gamma does not match the channel count");
  if (batch_sums && (static_cast<int64_t>(batch_sums->dbeta.size()) != v.channels ||
                     static_cast<int64_t>(batch_sums->dgamma.size()) != v.channels))
    throw std::invalid_argument("bn_backward: batch sums do not match the channel count");
  const int e1 = dy.exp;
  BnBackward out{Tensor<int64_t>(), Tensor<int32_t>({v.channels}, -14), Tensor<int32_t>({v.channels}, -14)};
  const bool avx2 = bn_relu_fast_uses_avx2();
  if (!(avx2 && bn_relu_fast_uses_avx512())) dx_narrow = nullptr;
  if (dx_narrow) *dx_narrow = Tensor<int32_t>();
  // With several threads and every channel on the int64 path: the images in contiguous
  // groups, one per thread, as the conv passes split the batch (each thread reads the errors
  // its own core wrote). Pass 1 per group and channel, the partial sums added (modulo 2^64
  // as the one-pass sums, maxima by max); pass 2 per group over every channel.
  const ImageGroups split(v, threads);
  const int groups = split.count;
  if (groups > 1 && avx2) {
    const auto group_view = [&](int64_t g, int64_t* n0) { return split.view(v, g, n0); };
    std::vector<BwdSums> part(static_cast<size_t>(groups * v.channels));
    parallel_for(groups, groups, [&](int64_t g) {
      int64_t n0;
      const ChannelView sub = group_view(g, &n0);
      if (sub.batch == 0) return;
      for (int64_t c = 0; c < v.channels; ++c) {
        const int64_t off = n0 * v.stride + c * v.inner;
        part[static_cast<size_t>(g * v.channels + c)] = channel_sums<kMask>(
            dy.data.data() + off, xhat.data.data() + off, kMask ? mask + off : nullptr, sub, avx2);
      }
    });
    std::vector<BwdChannel> ks(static_cast<size_t>(v.channels));
    std::vector<int128> max_us(static_cast<size_t>(v.channels));
    bool all_fit = true;
    for (int64_t c = 0; c < v.channels && all_fit; ++c) {
      BwdSums sums;
      for (int g = 0; g < groups; ++g) {
        const BwdSums& q = part[static_cast<size_t>(g * v.channels + c)];
        sums.dbeta += q.dbeta;
        sums.dgamma += q.dgamma;
        sums.max_dy = std::max(sums.max_dy, q.max_dy);
        sums.max_xhat = std::max(sums.max_xhat, q.max_xhat);
      }
      const int64_t dbeta = batch_sums ? batch_sums->dbeta[c] : static_cast<int64_t>(sums.dbeta);
      const int64_t dgamma = batch_sums ? batch_sums->dgamma[c] : static_cast<int64_t>(sums.dgamma);
      out.g_beta.data[c] = sat32(shift_round_half_even(dbeta, e1 + 14));
      out.g_gamma.data[c] = sat32(shift_round_half_even(dgamma, e1 - 7 + 14));
      const int64_t mb = divide_round_half_even(shift_left_checked(dbeta, 8), s.count);
      BwdChannel& k = ks[static_cast<size_t>(c)];
      k.mg = divide_round_half_even(shift_left_checked(dgamma, 8), s.count);
      k.cg = int64_t{gamma.data[c]} * s.recip[c];
      k.mb14 = shift_left_checked(mb, 14);
      k.s = s.recip_shift[c] + 22;
      const int128 max_u = (static_cast<int128>(sums.max_dy) << 22) + abs128(k.mb14) + sums.max_xhat * abs128(k.mg);
      max_us[static_cast<size_t>(c)] = max_u;
      all_fit = k.s >= 1 && k.s <= kMaxFastShift && max_u <= std::numeric_limits<int64_t>::max() &&
                max_u * abs128(k.cg) + (static_cast<int128>(1) << (k.s - 1)) < kFastLimit;
    }
    if (all_fit) {
      bool narrow = dx_narrow != nullptr;
      for (int64_t c = 0; c < v.channels && narrow; ++c)
        narrow = dx_fits_int32(max_us[static_cast<size_t>(c)], ks[static_cast<size_t>(c)]);
      if (narrow)
        *dx_narrow = Tensor<int32_t>(dy.shape, e1 - 16, Uninitialized{});
      else
        out.dx = Tensor<int64_t>(dy.shape, e1 - 16, Uninitialized{});
      std::vector<uint64_t> group_max(static_cast<size_t>(groups), 0);
      const auto in_int32 = [](int128 m) { return m <= std::numeric_limits<int32_t>::max(); };
      parallel_for(groups, groups, [&](int64_t g) {
        int64_t n0;
        const ChannelView sub = group_view(g, &n0);
        if (sub.batch == 0) return;
        uint64_t m = 0;
        for (int64_t c = 0; c < v.channels; ++c) {
          const int64_t off = n0 * v.stride + c * v.inner;
          const int32_t* d0 = dy.data.data() + off;
          const int16_t* x0 = xhat.data.data() + off;
          const uint8_t* m0 = kMask ? mask + off : nullptr;
          const BwdChannel& k = ks[static_cast<size_t>(c)];
          const int128 max_u = max_us[static_cast<size_t>(c)];
          if (narrow) {
            m = std::max(m, backward_avx512<kMask>(d0, x0, m0, sub, k, dx_narrow->data.data() + off, max_u));
            continue;
          }
          int64_t* dx0 = out.dx.data.data() + off;
          if (bn_relu_fast_uses_avx512()) {
            m = std::max(m, backward_avx512<kMask>(d0, x0, m0, sub, k, dx0, max_u));
            continue;
          }
          if (in_int32(max_u) && in_int32(abs128(k.cg)))
            backward_channel_avx2<kMask, BwdProducts::kNarrow>(d0, x0, m0, sub, k, dx0);
          else if (in_int32(abs128(k.mg)))
            backward_channel_avx2<kMask, BwdProducts::kSmallMg>(d0, x0, m0, sub, k, dx0);
          else
            backward_channel_avx2<kMask, BwdProducts::kWide>(d0, x0, m0, sub, k, dx0);
          if (dx_max_abs) m = std::max(m, channel_max_magnitude(dx0, sub));
        }
        group_max[static_cast<size_t>(g)] = m;
      });
      if (dx_max_abs) *dx_max_abs = *std::max_element(group_max.begin(), group_max.end());
      return out;
    }
  }
  // Per channel. With dx_narrow, every channel writes int32; one that cannot (its bound, or
  // a channel off the AVX-512 fast path) marks the attempt failed, and it is redone in int64.
  if (dx_narrow)
    *dx_narrow = Tensor<int32_t>(dy.shape, e1 - 16, Uninitialized{});
  else
    out.dx = Tensor<int64_t>(dy.shape, e1 - 16, Uninitialized{});
  std::atomic<bool> narrow_failed{false};
  std::vector<uint64_t> channel_max(dx_max_abs ? static_cast<size_t>(v.channels) : 0);
  parallel_for(v.channels, threads, [&](int64_t c) {
    const int64_t off = c * v.inner;
    const int32_t* d0 = dy.data.data() + off;
    const int16_t* x0 = xhat.data.data() + off;
    const uint8_t* m0 = kMask ? mask + off : nullptr;
    int64_t* dx0 = dx_narrow ? nullptr : out.dx.data.data() + off;
    // This tensor's sums (and its maxima, which choose the arithmetic below); a shard of a
    // data-parallel batch takes the batch's sums instead.
    const BwdSums sums = channel_sums<kMask>(d0, x0, m0, v, avx2);
    const int64_t dbeta = batch_sums ? batch_sums->dbeta[c] : static_cast<int64_t>(sums.dbeta);
    const int64_t dgamma = batch_sums ? batch_sums->dgamma[c] : static_cast<int64_t>(sums.dgamma);
    out.g_beta.data[c] = sat32(shift_round_half_even(dbeta, e1 + 14));
    out.g_gamma.data[c] = sat32(shift_round_half_even(dgamma, e1 - 7 + 14));
    const int64_t mb = divide_round_half_even(shift_left_checked(dbeta, 8), s.count);
    BwdChannel k;
    k.mg = divide_round_half_even(shift_left_checked(dgamma, 8), s.count);
    k.cg = int64_t{gamma.data[c]} * s.recip[c];
    k.mb14 = shift_left_checked(mb, 14);
    k.s = s.recip_shift[c] + 22;
    const int128 max_u = (static_cast<int128>(sums.max_dy) << 22) + abs128(k.mb14) + sums.max_xhat * abs128(k.mg);
    // (max_u bounds U in int64 even when cγ = 0; otherwise the exact path finds any U overflow.)
    const bool fits = k.s >= 1 && k.s <= kMaxFastShift && max_u <= std::numeric_limits<int64_t>::max() &&
                      max_u * abs128(k.cg) + (static_cast<int128>(1) << (k.s - 1)) < kFastLimit;
    const auto in_int32 = [](int128 m) { return m <= std::numeric_limits<int32_t>::max(); };
    if (dx_narrow) {
      if (!fits || !dx_fits_int32(max_u, k)) {
        narrow_failed = true;
        return;
      }
      const uint64_t m = backward_avx512<kMask>(d0, x0, m0, v, k, dx_narrow->data.data() + off, max_u);
      if (dx_max_abs) channel_max[static_cast<size_t>(c)] = m;
      return;
    }
    if (fits && avx2 && bn_relu_fast_uses_avx512()) {
      const uint64_t m = backward_avx512<kMask>(d0, x0, m0, v, k, dx0, max_u);
      if (dx_max_abs) channel_max[static_cast<size_t>(c)] = m;
      return;
    }
    if (!fits)
      backward_channel_exact<kMask>(d0, x0, m0, v, k, dx0);
    else if (!avx2)
      backward_channel_portable<kMask>(d0, x0, m0, v, k, dx0);
    else if (in_int32(max_u) && in_int32(abs128(k.cg)))
      backward_channel_avx2<kMask, BwdProducts::kNarrow>(d0, x0, m0, v, k, dx0);
    else if (in_int32(abs128(k.mg)))
      backward_channel_avx2<kMask, BwdProducts::kSmallMg>(d0, x0, m0, v, k, dx0);
    else
      backward_channel_avx2<kMask, BwdProducts::kWide>(d0, x0, m0, v, k, dx0);
    if (dx_max_abs) channel_max[static_cast<size_t>(c)] = channel_max_magnitude(dx0, v);
  });
  if (narrow_failed) {
    *dx_narrow = Tensor<int32_t>();
    return backward_all<kMask>(dy, mask, xhat, gamma, s, threads, batch_sums, dx_max_abs);
  }
  if (dx_max_abs) *dx_max_abs = channel_max.empty() ? 0 : *std::max_element(channel_max.begin(), channel_max.end());
  return out;
}
}  // namespace

uint64_t isqrt_via_double(uint128 m) {
  if (m >> 100 != 0) return isqrt(m);
  // m < 2^100: the double root is within 2^50·2^-52 of the true root, so t moves at most one step.
  uint64_t t = static_cast<uint64_t>(std::sqrt(static_cast<double>(m)));
  while (static_cast<uint128>(t) * t > m) --t;
  while (static_cast<uint128>(t + 1) * (t + 1) <= m) ++t;
  return t;
}

namespace {
// Channel c's S2 from its moments: their 64-bit sum when count·max|x|² proves it cannot have
// wrapped, else the reference's 128-bit sum over the channel again.
uint128 exact_s2(const Tensor<int32_t>& x, const ChannelView& v, int64_t c, const Moments& m, int64_t count) {
  const uint128 max_sq = static_cast<uint128>(m.max_abs) * m.max_abs;
  if (static_cast<uint128>(count) * max_sq <= std::numeric_limits<uint64_t>::max()) return m.s2;
  const int32_t* x0 = x.data.data() + c * v.inner;
  uint128 s2 = 0;
  for (int64_t n = 0; n < v.batch; ++n)
    for (int64_t j = 0; j < v.inner; ++j) {
      const int64_t xv = x0[n * v.stride + j];
      s2 += static_cast<uint128>(xv * xv);
    }
  return s2;
}
}  // namespace

BnMoments bn_moments_fast(const Tensor<int32_t>& x, int threads) {
  const ChannelView v(x.shape);
  if (x.exp < -15 || x.exp > 0)
    throw std::invalid_argument("batch norm: input exponent " + std::to_string(x.exp) + " outside [-15, 0]");
  BnMoments out;
  out.count = v.batch * v.inner;
  if (out.count > (int64_t{1} << 24)) throw std::invalid_argument("batch norm: more than 2^24 elements per channel");
  out.input_shift = x.exp + 15;
  out.s1.resize(v.channels);
  out.s2.resize(v.channels);
  const bool avx2 = bn_relu_fast_uses_avx2();
  // With several threads: the images in contiguous groups, one per thread, as the conv passes
  // split them (parallel_for over the batch), so each thread reads the outputs its own core
  // wrote; each group's moments of every channel, then summed (S1 exactly, S2 modulo 2^64 as
  // before, max|x| by max). The split never changes a result.
  const ImageGroups split(v, threads);
  const int groups = split.count;
  if (groups > 1) {
    std::vector<std::vector<Moments>> partial(static_cast<size_t>(groups), std::vector<Moments>(v.channels));
    parallel_for(groups, groups, [&](int64_t g) {
      int64_t n0 = 0;
      const ChannelView sub = split.view(v, g, &n0);
      if (sub.batch > 0) moments_block(x.data.data() + n0 * v.stride, sub, 0, partial[static_cast<size_t>(g)], avx2);
    });
    for (int64_t c = 0; c < v.channels; ++c) {
      Moments m;
      for (const std::vector<Moments>& pg : partial) {
        const Moments& q = pg[static_cast<size_t>(c)];
        m.s1 += q.s1;
        m.s2 += q.s2;
        m.max_abs = std::max(m.max_abs, q.max_abs);
      }
      out.s1[c] = m.s1;
      out.s2[c] = exact_s2(x, v, c, m, out.count);
    }
    return out;
  }
  // Blocks of channels whose rows make >= 2^11 contiguous elements (at least one block per thread),
  // split evenly. The sums are exact, so the split never changes a result.
  const int64_t per_block = std::clamp<int64_t>(2048 / v.inner, 1, v.channels);
  const int64_t blocks =
      std::max((v.channels + per_block - 1) / per_block, std::min<int64_t>(v.channels, std::max(threads, 1)));
  const int64_t block = (v.channels + blocks - 1) / blocks;
  parallel_for(blocks, threads, [&](int64_t b) {
    const int64_t c0 = b * block;
    std::vector<Moments> moments(static_cast<size_t>(std::min(block, v.channels - c0)));
    moments_block(x.data.data(), v, c0, moments, avx2);
    for (int64_t c = c0; c < c0 + static_cast<int64_t>(moments.size()); ++c) {
      const Moments& m = moments[static_cast<size_t>(c - c0)];
      out.s1[c] = m.s1;
      out.s2[c] = exact_s2(x, v, c, m, out.count);
    }
  });
  return out;
}

BnStats bn_batch_statistics_fast(const Tensor<int32_t>& x, int threads) {
  return bn_statistics_from_moments(bn_moments_fast(x, threads), isqrt_via_double);
}

BnForward bn_forward_fast(const Tensor<int32_t>& x, const BnStats& s, const Tensor<int16_t>& gamma,
                          const Tensor<int16_t>& beta, int threads) {
  BnForward out{Tensor<int16_t>(x.shape, -7, Uninitialized{}), Tensor<int32_t>(x.shape, -14, Uninitialized{})};
  forward_all<true, false>(x, s, gamma, beta, FwdOut{out.xhat.data.data(), out.y.data.data(), nullptr, nullptr},
                           threads);
  return out;
}

BnReluForward bn_relu_forward_fast(const Tensor<int32_t>& x, const BnStats& s, const Tensor<int16_t>& gamma,
                                   const Tensor<int16_t>& beta, int threads) {
  BnReluForward out{Tensor<int16_t>(x.shape, -7, Uninitialized{}),
                    ReluForward{Tensor<uint8_t>(x.shape, -7, Uninitialized{}), std::vector<uint8_t>(x.data.size())}};
  forward_all<false, true>(
      x, s, gamma, beta, FwdOut{out.xhat.data.data(), nullptr, out.relu.a.data.data(), out.relu.mask.data()}, threads);
  return out;
}

BnBackward bn_backward_fast(const Tensor<int32_t>& dy, const Tensor<int16_t>& xhat, const Tensor<int16_t>& gamma,
                            const BnStats& s, int threads, const BnBackwardSums* batch_sums) {
  return backward_all<false>(dy, nullptr, xhat, gamma, s, threads, batch_sums);
}

BnBackward bn_relu_backward_fast(const Tensor<int32_t>& e1, const std::vector<uint8_t>& mask,
                                 const Tensor<int16_t>& xhat, const Tensor<int16_t>& gamma, const BnStats& s,
                                 int threads, const BnBackwardSums* batch_sums, uint64_t* dx_max_abs,
                                 Tensor<int32_t>* dx_narrow) {
  if (mask.size() != e1.data.size()) throw std::invalid_argument("relu_backward: mask size differs from the error");
  return backward_all<true>(e1, mask.data(), xhat, gamma, s, threads, batch_sums, dx_max_abs, dx_narrow);
}

BnBackwardSums bn_relu_backward_sums_fast(const Tensor<int32_t>& e1, const std::vector<uint8_t>& mask,
                                          const Tensor<int16_t>& xhat, int threads) {
  if (mask.size() != e1.data.size()) throw std::invalid_argument("relu_backward: mask size differs from the error");
  return sums_all<true>(e1, mask.data(), xhat, threads);
}

}  // namespace octet::golden
