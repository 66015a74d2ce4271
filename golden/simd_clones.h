// Hot element loops are compiled twice, for AVX2 and for the baseline x86-64 the build
// targets (-O3 without -mavx2); the loader picks the AVX2 clone on CPUs that have it.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__)
#define OCTET_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define OCTET_SIMD_CLONES
#endif
