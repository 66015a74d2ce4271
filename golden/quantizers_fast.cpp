#include "golden/quantizers_fast.h"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "golden/int_math.h"
#include "golden/parallel.h"
#include "golden/simd_clones.h"

#if OCTET_HAVE_SIMD_CLONES
#include <immintrin.h>
#endif

namespace octet::golden {

namespace {

constexpr uint64_t kInt32MagnitudeLimit = uint64_t{1} << 31;  // max|x| below this: 32-bit lanes

// A magnitude a times 2^shift (make_scale(shift)), branch-free: ((a << ls) + bias + ((a >> s) & parity)) >> s.
// A right shift (s >= 1, ls = 0) rounds half to even: adding 2^(s-1) - 1 plus the bit that
// lands in the result's lsb carries into it exactly when the dropped part is above half,
// or equal to half with an odd quotient. A left shift has s = 0, bias = parity = 0.
template <typename U>
struct Scale {
  int ls = 0;
  int s = 0;
  U bias = 0;
  U parity = 0;
};

template <typename U>
Scale<U> make_scale(int shift) {
  if (shift >= 0) return Scale<U>{shift, 0, 0, 0};
  const int s = -shift;
  return Scale<U>{0, s, static_cast<U>((U{1} << (s - 1)) - 1), 1};
}

template <typename U>
[[gnu::always_inline]] inline U apply(U a, const Scale<U>& c) {
  return ((a << c.ls) + c.bias + ((a >> c.s) & c.parity)) >> c.s;
}

// All ones if the element, read (from int64 or int32) as S, is negative; else zero.
template <typename S, typename U>
[[gnu::always_inline]] inline U sign_mask(int64_t x) {
  return static_cast<S>(x) < 0 ? ~U{0} : U{0};
}

template <typename S, typename U, typename T>
[[gnu::always_inline]] inline void shift_quantize_lanes(const T* __restrict x, int32_t* __restrict out,
                                                        int64_t n, Scale<U> sc, U lim) {
  for (int64_t i = 0; i < n; ++i) {
    const U sgn = sign_mask<S, U>(x[i]);
    const U a = (static_cast<U>(static_cast<S>(x[i])) ^ sgn) - sgn;
    U q = apply(a, sc);
    q = q < lim ? q : lim;
    out[i] = static_cast<int32_t>((q ^ sgn) - sgn);
  }
}

// Flag quantizer: fine grid below `fine_below` (0: never), else the clipped coarse grid.
template <typename S, typename U, typename T>
[[gnu::always_inline]] inline void flag_quantize_lanes(const T* __restrict x, int32_t* __restrict out, int64_t n,
                                                       Scale<U> fine, Scale<U> coarse, U lim, int coarse_unit_log2,
                                                       U fine_below) {
  for (int64_t i = 0; i < n; ++i) {
    const U sgn = sign_mask<S, U>(x[i]);
    const U a = (static_cast<U>(static_cast<S>(x[i])) ^ sgn) - sgn;
    const U f = apply(a, fine);
    U c = apply(a, coarse);
    c = (c < lim ? c : lim) << coarse_unit_log2;
    const U p = a < fine_below ? f : c;
    out[i] = static_cast<int32_t>((p ^ sgn) - sgn);
  }
}

void min_max_portable(const int64_t* __restrict x, int64_t n, int64_t* lo_out, int64_t* hi_out) {
  int64_t lo = std::numeric_limits<int64_t>::max(), hi = std::numeric_limits<int64_t>::min();
  for (int64_t i = 0; i < n; ++i) {
    lo = x[i] < lo ? x[i] : lo;
    hi = x[i] > hi ? x[i] : hi;
  }
  *lo_out = lo;
  *hi_out = hi;
}

#if OCTET_HAVE_SIMD_CLONES
// AVX2 has compare + blend but no 64-bit min/max; one accumulator pair would wait on the
// compare-blend latency, so four independent pairs each take every fourth vector.
__attribute__((target("avx2"))) void min_max_avx2(const int64_t* x, int64_t n, int64_t* lo_out, int64_t* hi_out) {
  __m256i lo[4], hi[4];
  for (int j = 0; j < 4; ++j) {
    lo[j] = _mm256_set1_epi64x(std::numeric_limits<int64_t>::max());
    hi[j] = _mm256_set1_epi64x(std::numeric_limits<int64_t>::min());
  }
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int j = 0; j < 4; ++j) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i + 4 * j));
      lo[j] = _mm256_blendv_epi8(lo[j], v, _mm256_cmpgt_epi64(lo[j], v));
      hi[j] = _mm256_blendv_epi8(hi[j], v, _mm256_cmpgt_epi64(v, hi[j]));
    }
  int64_t l, h;
  min_max_portable(x + i, n - i, &l, &h);
  alignas(32) int64_t lanes_lo[4], lanes_hi[4];
  for (int j = 0; j < 4; ++j) {
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes_lo), lo[j]);
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes_hi), hi[j]);
    for (int k = 0; k < 4; ++k) {
      l = std::min(l, lanes_lo[k]);
      h = std::max(h, lanes_hi[k]);
    }
  }
  *lo_out = l;
  *hi_out = h;
}
#endif

#if OCTET_HAVE_SIMD_CLONES
// AVX-512 has 64-bit min / max (vpminsq, vpmaxsq): two accumulator pairs of 8 lanes.
// (The masked forms: GCC 12's unmasked intrinsics trip -Wuninitialized.)
__attribute__((target("avx512f"))) void min_max_avx512(const int64_t* x, int64_t n, int64_t* lo_out, int64_t* hi_out) {
  constexpr __mmask8 all = 0xFF;
  __m512i lo0 = _mm512_set1_epi64(std::numeric_limits<int64_t>::max()), lo1 = lo0;
  __m512i hi0 = _mm512_set1_epi64(std::numeric_limits<int64_t>::min()), hi1 = hi0;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512i a = _mm512_loadu_si512(x + i), b = _mm512_loadu_si512(x + i + 8);
    lo0 = _mm512_mask_min_epi64(lo0, all, lo0, a);
    hi0 = _mm512_mask_max_epi64(hi0, all, hi0, a);
    lo1 = _mm512_mask_min_epi64(lo1, all, lo1, b);
    hi1 = _mm512_mask_max_epi64(hi1, all, hi1, b);
  }
  int64_t l, h;
  min_max_portable(x + i, n - i, &l, &h);
  alignas(64) int64_t lanes_lo[8], lanes_hi[8];
  _mm512_store_si512(lanes_lo, _mm512_mask_min_epi64(lo0, all, lo0, lo1));
  _mm512_store_si512(lanes_hi, _mm512_mask_max_epi64(hi0, all, hi0, hi1));
  for (int k = 0; k < 8; ++k) {
    l = std::min(l, lanes_lo[k]);
    h = std::max(h, lanes_hi[k]);
  }
  *lo_out = l;
  *hi_out = h;
}
#endif

void min_max_kernel(const int64_t* x, int64_t n, int64_t* lo_out, int64_t* hi_out) {
#if OCTET_HAVE_SIMD_CLONES
  static const bool avx512 = __builtin_cpu_supports("avx512f");
  if (avx512) return min_max_avx512(x, n, lo_out, hi_out);
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (avx2) return min_max_avx2(x, n, lo_out, hi_out);
#endif
  min_max_portable(x, n, lo_out, hi_out);
}

OCTET_SIMD_CLONES_AVX512 void shift_quantize_32(const int64_t* x, int32_t* out, int64_t n, Scale<uint32_t> sc, uint32_t lim) {
  shift_quantize_lanes<int32_t, uint32_t>(x, out, n, sc, lim);
}
OCTET_SIMD_CLONES_AVX512 void shift_quantize_64(const int64_t* x, int32_t* out, int64_t n, Scale<uint64_t> sc, uint64_t lim) {
  shift_quantize_lanes<int64_t, uint64_t>(x, out, n, sc, lim);
}
OCTET_SIMD_CLONES_AVX512 void flag_quantize_32(const int64_t* x, int32_t* out, int64_t n, Scale<uint32_t> fine,
                                        Scale<uint32_t> coarse, uint32_t lim, int unit_log2, uint32_t fine_below) {
  flag_quantize_lanes<int32_t, uint32_t>(x, out, n, fine, coarse, lim, unit_log2, fine_below);
}
OCTET_SIMD_CLONES_AVX512 void flag_quantize_64(const int64_t* x, int32_t* out, int64_t n, Scale<uint64_t> fine,
                                        Scale<uint64_t> coarse, uint64_t lim, int unit_log2, uint64_t fine_below) {
  flag_quantize_lanes<int64_t, uint64_t>(x, out, n, fine, coarse, lim, unit_log2, fine_below);
}
// The same on int32 error storage (ErrorTensor's narrow form): half the bytes read. 64-bit
// lanes serve the one int32 value whose magnitude, 2^31, does not fit them.
OCTET_SIMD_CLONES_AVX512 void shift_quantize_32_from32(const int32_t* x, int32_t* out, int64_t n, Scale<uint32_t> sc,
                                                uint32_t lim) {
  shift_quantize_lanes<int32_t, uint32_t>(x, out, n, sc, lim);
}
void shift_quantize_64_from32(const int32_t* x, int32_t* out, int64_t n, Scale<uint64_t> sc, uint64_t lim) {
  shift_quantize_lanes<int64_t, uint64_t>(x, out, n, sc, lim);
}
OCTET_SIMD_CLONES_AVX512 void flag_quantize_32_from32(const int32_t* x, int32_t* out, int64_t n, Scale<uint32_t> fine,
                                               Scale<uint32_t> coarse, uint32_t lim, int unit_log2,
                                               uint32_t fine_below) {
  flag_quantize_lanes<int32_t, uint32_t>(x, out, n, fine, coarse, lim, unit_log2, fine_below);
}
void flag_quantize_64_from32(const int32_t* x, int32_t* out, int64_t n, Scale<uint64_t> fine, Scale<uint64_t> coarse,
                             uint64_t lim, int unit_log2, uint64_t fine_below) {
  flag_quantize_lanes<int64_t, uint64_t>(x, out, n, fine, coarse, lim, unit_log2, fine_below);
}

OCTET_SIMD_CLONES_AVX512 void min_max_32(const int32_t* __restrict x, int64_t n, int32_t* lo_out, int32_t* hi_out) {
  int32_t lo = std::numeric_limits<int32_t>::max(), hi = std::numeric_limits<int32_t>::min();
  for (int64_t i = 0; i < n; ++i) {
    lo = x[i] < lo ? x[i] : lo;
    hi = x[i] > hi ? x[i] : hi;
  }
  *lo_out = lo;
  *hi_out = hi;
}

// Constant-factor quantizer over elements [begin, end): `drop` bits below the output grid.
// The reference draws only when the dropped fraction is nonzero; drawing always gives the
// same result (a zero fraction is never above a draw) and keeps the loop branch-free.
OCTET_SIMD_CLONES_AVX512 void cq_kernel(const int64_t* __restrict x, int32_t* __restrict out, int64_t begin, int64_t end,
                                 int drop, uint64_t lim, uint64_t key) {
  if (drop <= 0) {
    for (int64_t i = begin; i < end; ++i) {
      const uint64_t sgn = x[i] < 0 ? ~uint64_t{0} : 0;
      const uint64_t a = (static_cast<uint64_t>(x[i]) ^ sgn) - sgn;
      uint64_t q = a << -drop;
      q = q < lim ? q : lim;
      out[i] = static_cast<int32_t>((q ^ sgn) - sgn);
    }
    return;
  }
  // drop <= 62, so the draw, the fraction and a >> drop (+1) all lie below 2^62: signed
  // compares (AVX2 has no unsigned 64-bit compare) give the same answers.
  const uint64_t mask = (uint64_t{1} << drop) - 1;
  const auto lim_s = static_cast<int64_t>(lim);
  uint64_t counter = key + (static_cast<uint64_t>(begin) + 1) * kSplitMixGamma;  // random_bits' argument
  for (int64_t i = begin; i < end; ++i) {
    const uint64_t sgn = x[i] < 0 ? ~uint64_t{0} : 0;
    const uint64_t a = (static_cast<uint64_t>(x[i]) ^ sgn) - sgn;
    const auto draw = static_cast<int64_t>(mix64(counter) >> (64 - drop));
    counter += kSplitMixGamma;
    int64_t q = static_cast<int64_t>(a >> drop) + (draw < static_cast<int64_t>(a & mask) ? 1 : 0);
    q = q < lim_s ? q : lim_s;
    out[i] = static_cast<int32_t>((static_cast<uint64_t>(q) ^ sgn) - sgn);
  }
}

template <typename T>
void check_input(const char* quantizer, const Tensor<T>& x) {
  if (x.empty()) throw std::invalid_argument(std::string(quantizer) + ": empty tensor");
}

int scale_of(uint64_t m) { return m == 0 ? 0 : round_log2(m); }

}  // namespace

uint64_t max_magnitude_fast(const int64_t* x, int64_t n, int threads) {
  if (n <= 0) return 0;
  const int workers = element_workers(n, threads);
  std::vector<int64_t> lo(static_cast<size_t>(workers)), hi(static_cast<size_t>(workers));
  for_each_chunk(n, workers, [&](int64_t c, int64_t begin, int64_t end) {
    min_max_kernel(x + begin, end - begin, &lo[static_cast<size_t>(c)], &hi[static_cast<size_t>(c)]);
  });
  uint64_t m = 0;
  for (int c = 0; c < workers; ++c) {
    if (hi[c] > 0) m = std::max(m, static_cast<uint64_t>(hi[c]));
    if (lo[c] < 0) m = std::max(m, 0 - static_cast<uint64_t>(lo[c]));
  }
  return m;
}

uint64_t max_magnitude_fast(const int32_t* x, int64_t n, int threads) {
  if (n <= 0) return 0;
  const int workers = element_workers(n, threads);
  std::vector<int32_t> lo(static_cast<size_t>(workers)), hi(static_cast<size_t>(workers));
  for_each_chunk(n, workers, [&](int64_t c, int64_t begin, int64_t end) {
    min_max_32(x + begin, end - begin, &lo[static_cast<size_t>(c)], &hi[static_cast<size_t>(c)]);
  });
  uint64_t m = 0;
  for (int c = 0; c < workers; ++c) m = std::max({m, static_cast<uint64_t>(std::max<int64_t>(hi[c], 0)),
                                                  static_cast<uint64_t>(-std::min<int64_t>(lo[c], 0))});
  return m;
}

int tensor_scale_log2_fast(const int64_t* x, int64_t n, int threads) {
  return scale_of(max_magnitude_fast(x, n, threads));
}

Tensor<int32_t> shift_quantize_fast(const Tensor<int64_t>& x, int k, int threads) {
  return shift_quantize_with_max_fast(x, k, max_magnitude_fast(x.data.data(), x.size(), threads), threads);
}

namespace {
template <typename T>
Tensor<int32_t> shift_quantize_impl(const Tensor<T>& x, int k, uint64_t m, int threads) {
  check_bits("shift_quantize", k);
  check_input("shift_quantize", x);
  const int64_t n = x.size();
  const int workers = element_workers(n, threads);
  const int r = scale_of(m);
  Tensor<int32_t> out(x.shape, output_exponent("shift_quantize", int64_t{x.exp} + r - (k - 1)), Uninitialized{});
  const int shift = (k - 1) - r;  // the payload is |x| * 2^shift
  const uint64_t lim = (uint64_t{1} << (k - 1)) - 1;
  const T* in = x.data.data();
  int32_t* o = out.data.data();
  // 32-bit lanes: |x| < 2^31; a left shift happens only for r <= k-1 (then |x| << shift < 2^k);
  // a right shift adds at most 2^30 to |x|. Either way no uint32 overflow.
  const bool narrow = m < kInt32MagnitudeLimit;
  for_each_chunk(n, workers, [&](int64_t, int64_t begin, int64_t end) {
    if constexpr (std::is_same_v<T, int32_t>) {
      if (narrow)
        shift_quantize_32_from32(in + begin, o + begin, end - begin, make_scale<uint32_t>(shift), static_cast<uint32_t>(lim));
      else
        shift_quantize_64_from32(in + begin, o + begin, end - begin, make_scale<uint64_t>(shift), lim);
    } else if (narrow)
      shift_quantize_32(in + begin, o + begin, end - begin, make_scale<uint32_t>(shift), static_cast<uint32_t>(lim));
    else  // r >= 31 > k-1: a right shift by at most 62 of |x| <= 2^63; the sum stays below 2^64
      shift_quantize_64(in + begin, o + begin, end - begin, make_scale<uint64_t>(shift), lim);
  });
  return out;
}
}  // namespace

Tensor<int32_t> shift_quantize_with_max_fast(const Tensor<int64_t>& x, int k, uint64_t m, int threads) {
  return shift_quantize_impl(x, k, m, threads);
}

Tensor<int32_t> shift_quantize_with_max_fast(const Tensor<int32_t>& x, int k, uint64_t m, int threads) {
  return shift_quantize_impl(x, k, m, threads);
}

Tensor<int32_t> flag_quantize_fast(const Tensor<int64_t>& x, int k, int threads) {
  return flag_quantize_with_max_fast(x, k, max_magnitude_fast(x.data.data(), x.size(), threads), threads);
}

namespace {
template <typename T>
Tensor<int32_t> flag_quantize_impl(const Tensor<T>& x, int k, uint64_t m, int threads) {
  check_bits("flag_quantize", k, kMaxFlagBits);
  check_input("flag_quantize", x);
  const int64_t n = x.size();
  const int workers = element_workers(n, threads);
  const int r = scale_of(m);
  Tensor<int32_t> out(x.shape, output_exponent("flag_quantize", int64_t{x.exp} + r - 2 * (k - 1)), Uninitialized{});
  const int coarse_shift = r - (k - 1);
  const int fine_shift = coarse_shift - (k - 1);
  const uint64_t lim = (uint64_t{1} << (k - 1)) - 1;
  // Fine grid iff |x| < 2^coarse_shift; for coarse_shift <= 0 only 0 qualifies, and 0 maps to 0
  // on either grid, so the fine grid is then never chosen. coarse_shift <= 62 (r <= 63).
  const uint64_t fine_below = coarse_shift <= 0 ? 0 : uint64_t{1} << coarse_shift;
  const T* in = x.data.data();
  int32_t* o = out.data.data();
  // 32-bit lanes: the selected grid's value is < 2^(k-1) fine units or a clipped coarse value
  // (< 2^30); a left shift by -shift happens only for r <= 2(k-1) where it stays below 2^31
  // on the chosen grid; the unchosen grid may wrap, which is harmless in unsigned lanes.
  const bool narrow = m < kInt32MagnitudeLimit;
  for_each_chunk(n, workers, [&](int64_t, int64_t begin, int64_t end) {
    if constexpr (std::is_same_v<T, int32_t>) {
      if (narrow)
        flag_quantize_32_from32(in + begin, o + begin, end - begin, make_scale<uint32_t>(-fine_shift),
                                make_scale<uint32_t>(-coarse_shift), static_cast<uint32_t>(lim), k - 1,
                                static_cast<uint32_t>(fine_below));
      else
        flag_quantize_64_from32(in + begin, o + begin, end - begin, make_scale<uint64_t>(-fine_shift),
                                make_scale<uint64_t>(-coarse_shift), lim, k - 1, fine_below);
    } else if (narrow)
      flag_quantize_32(in + begin, o + begin, end - begin, make_scale<uint32_t>(-fine_shift),
                       make_scale<uint32_t>(-coarse_shift), static_cast<uint32_t>(lim), k - 1,
                       static_cast<uint32_t>(fine_below));
    else
      flag_quantize_64(in + begin, o + begin, end - begin, make_scale<uint64_t>(-fine_shift),
                       make_scale<uint64_t>(-coarse_shift), lim, k - 1, fine_below);
  });
  return out;
}
}  // namespace

Tensor<int32_t> flag_quantize_with_max_fast(const Tensor<int64_t>& x, int k, uint64_t m, int threads) {
  return flag_quantize_impl(x, k, m, threads);
}

Tensor<int32_t> flag_quantize_with_max_fast(const Tensor<int32_t>& x, int k, uint64_t m, int threads) {
  return flag_quantize_impl(x, k, m, threads);
}

Tensor<int32_t> constant_factor_quantize_fast(const Tensor<int64_t>& x, const CqParams& p, int threads) {
  if (p.log2_scale < 1 || p.log2_scale > kMaxBits - 1)
    throw std::invalid_argument("constant_factor_quantize: log2 of the gradient scale s=" +
                                std::to_string(p.log2_scale) + " outside [1, 30]");
  check_input("constant_factor_quantize", x);
  const int64_t n = x.size();
  const int workers = element_workers(n, threads);
  const int r = scale_of(max_magnitude_fast(x.data.data(), n, workers));
  Tensor<int32_t> out(x.shape, p.out_exp, Uninitialized{});
  const uint64_t lim = (uint64_t{1} << p.log2_scale) - 1;
  // drop = r - s <= 62 (r <= 63, s >= 1); for drop <= 0, r <= s so |x| << -drop < 2^(s+1).
  const int drop = r - p.log2_scale;
  const int64_t* in = x.data.data();
  int32_t* o = out.data.data();
  for_each_chunk(n, workers,
                 [&](int64_t, int64_t begin, int64_t end) { cq_kernel(in, o, begin, end, drop, lim, p.key.value); });
  return out;
}

}  // namespace octet::golden
