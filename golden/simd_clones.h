// Hot element loops are compiled twice, for AVX2 and for the baseline x86-64 the build
// targets (-O3 without -mavx2); the loader picks the AVX2 clone on CPUs that have it.
#pragma once

// OCTET_NO_SIMD_CLONES builds the baseline code only (a test checks that path on AVX2 hosts).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(OCTET_NO_SIMD_CLONES)
#define OCTET_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define OCTET_SIMD_CLONES
#endif
