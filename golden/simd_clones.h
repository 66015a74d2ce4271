// Hot element loops are compiled twice, for AVX2 and for the baseline x86-64 the build
// targets (-O3 without -mavx2); the loader picks the AVX2 clone on CPUs that have it.
#pragma once

// OCTET_NO_SIMD_CLONES builds the baseline code only (a test checks that path on AVX2 hosts).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(OCTET_NO_SIMD_CLONES)
#define OCTET_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
// Loops that gain from AVX-512's 64-bit shifts, min / max and narrowing stores (the quantizers'
// int64 inputs) get a third clone; streaming adds measured slower with it and keep two.
#define OCTET_SIMD_CLONES_AVX512 __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#define OCTET_HAVE_SIMD_CLONES 1  // also: hand-written AVX2 paths behind __builtin_cpu_supports
#else
#define OCTET_SIMD_CLONES
#define OCTET_SIMD_CLONES_AVX512
#define OCTET_HAVE_SIMD_CLONES 0
#endif
