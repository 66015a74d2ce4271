// Element kernels shared by the fast ReLU and the fused BN+ReLU (docs/numerics.md §5.5):
// A = sat(rshift(y, 7), 0, 255) and mask = (0 < y <= 255·2^7), portable, 8-wide AVX2 and
// 16-wide AVX-512.
// rshift is monotone and rshift(0) = 0, rshift(255·2^7) = 255, so clamping y to [0, 255·2^7]
// first gives the saturated result and keeps the rounding add inside int32.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace octet::golden::simd {

inline constexpr int32_t kReluTop = 255 * 128;

inline void relu_element(int32_t y, uint8_t* act, uint8_t* mask) {
  const int32_t yc = y < 0 ? 0 : (y > kReluTop ? kReluTop : y);
  *act = static_cast<uint8_t>((yc + 63 + ((yc >> 7) & 1)) >> 7);
  *mask = static_cast<uint8_t>((y > 0) & (y <= kReluTop));
}

// Eight int32 lanes (each 0..255) to eight bytes.
__attribute__((target("avx2"))) inline void store8_u8(uint8_t* dst, __m256i v) {
  const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  _mm_storel_epi64(reinterpret_cast<__m128i*>(dst), _mm_packus_epi16(w, w));
}

__attribute__((target("avx2"))) inline void relu8_avx2(__m256i y, uint8_t* act, uint8_t* mask) {
  const __m256i zero = _mm256_setzero_si256(), top = _mm256_set1_epi32(kReluTop), one = _mm256_set1_epi32(1);
  const __m256i yc = _mm256_min_epi32(_mm256_max_epi32(y, zero), top);
  const __m256i odd = _mm256_and_si256(_mm256_srli_epi32(yc, 7), one);
  const __m256i q = _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(yc, _mm256_set1_epi32(63)), odd), 7);
  const __m256i pass = _mm256_andnot_si256(_mm256_cmpgt_epi32(y, top), _mm256_cmpgt_epi32(y, zero));
  store8_u8(act, q);
  store8_u8(mask, _mm256_and_si256(pass, one));
}

// The same on 16 lanes with AVX-512 (F, BW, VL); kFull = false stores only the lanes in `lanes`
// (a row's tail without scalar code). GCC 12 warns (-Werror) on the undefined pass-through
// operand of the unmasked AVX-512 intrinsics, so the all-lanes zero-masked forms are used.
template <bool kFull>
__attribute__((target("avx512f,avx512bw,avx512vl"))) inline void relu16_avx512(__m512i y, __mmask16 lanes,
                                                                               uint8_t* act, uint8_t* mask) {
  constexpr __mmask16 all = 0xFFFF;
  const __m512i zero = _mm512_setzero_si512(), top = _mm512_set1_epi32(kReluTop);
  const __m512i yc = _mm512_maskz_min_epi32(all, _mm512_maskz_max_epi32(all, y, zero), top);
  const __m512i odd = _mm512_and_si512(_mm512_maskz_srli_epi32(all, yc, 7), _mm512_set1_epi32(1));
  const __m512i q = _mm512_maskz_srli_epi32(all, _mm512_add_epi32(_mm512_add_epi32(yc, _mm512_set1_epi32(63)), odd), 7);
  const __mmask16 pass = _mm512_cmpgt_epi32_mask(y, zero) & _mm512_cmple_epi32_mask(y, top);
  const __m128i ones = _mm_maskz_mov_epi8(pass, _mm_set1_epi8(1));
  if constexpr (kFull) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(act), _mm512_maskz_cvtepi32_epi8(all, q));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(mask), ones);
  } else {
    _mm512_mask_cvtepi32_storeu_epi8(act, lanes, q);
    _mm_mask_storeu_epi8(mask, lanes, ones);
  }
}

}  // namespace octet::golden::simd
