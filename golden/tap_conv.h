// AVX2 "shifted-tap" convolution kernels behind fast_conv.cpp: implicit GEMM without im2col.
// Each image is padded (and, for stride s, split into s*s phase planes) once, so that every
// kernel tap is a unit-stride shifted read of the same planes; outputs are computed on the
// padded grid and the extra columns are dropped on store. Exact integer sums, so the results
// are bit-identical to the reference loop nests of conv.h. The caller checks the int16 /
// int32 bounds (fast_conv.cpp) and that the CPU has AVX2.
#pragma once

#include <cstdint>

#include "golden/conv.h"

namespace octet::golden::tap_conv {

// avx2: vpmaddwd + vpaddd on ymm; avx512_vnni: vpdpwssd on zmm (the same exact int32 sums;
// the caller checks that the CPU has AVX-512 F, BW and VNNI).
enum class Isa { avx2, avx512_vnni };

// dst[i*cols + j] = src[i*ld + j] for rows x cols int32 (AVX2: a grid's valid columns into
// an output plane, the row tails by masked moves; nothing past a row is read or written).
void copy_grid_rows(const int32_t* src, int64_t ld, int64_t rows, int64_t cols, int32_t* dst);

// out must be {N, Co, Ho, Wo}; every partial sum of C*K*K products fits int32.
void forward(const Tensor<uint8_t>& x, const Tensor<int8_t>& w, ConvParams p, int threads, Tensor<int32_t>& out,
             Isa isa = Isa::avx2);

// out must be the zeroed input shape and Co * max|e| * w_max_abs < 2^31 (so that one tap
// of products fits int32; partial sums go to int64 after as many taps as fit). Returns
// false, with out unusable, when some |e| does not fit int16 (checked while packing).
// With out_max_abs, a true return also gives max |out| (measured while the output is written).
bool backward_data(const Tensor<int32_t>& e, const Tensor<int8_t>& w, ConvParams p, int64_t w_max_abs, int threads,
                   Tensor<int64_t>& out, Isa isa = Isa::avx2, uint64_t* out_max_abs = nullptr);
// The same into int32: exact when, for every image, each phase's taps sum in one int32 pass
// (taps · Co · max|e| · w_max_abs <= INT32_MAX, the image's max|e| measured while packing;
// every output is one phase's sum). Otherwise (or when some |e| does not fit int16) returns
// false, with out unusable.
bool backward_data_narrow(const Tensor<int32_t>& e, const Tensor<int8_t>& w, ConvParams p, int64_t w_max_abs,
                          int threads, Tensor<int32_t>& out, Isa isa, uint64_t* out_max_abs);

// grad must be the zeroed weight shape. Int32 lanes go to int64 before they can overflow
// (from the packed max|e| and x <= 255). Returns false, with grad unusable, when some |e|
// does not fit int16.
bool weight_grad(const Tensor<uint8_t>& x, const Tensor<int32_t>& e, ConvParams p, int threads,
                 Tensor<int64_t>& grad, Isa isa = Isa::avx2);

}  // namespace octet::golden::tap_conv
