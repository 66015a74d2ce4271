// Fast conv kernels: with AVX2, shifted-tap implicit GEMMs on padded int16 planes
// (golden/tap_conv.*, vpmaddwd, or vpdpwssd on zmm), with VNNI the forward pass on bytes
// (golden/tap_conv_u8.*, vpdpbusd); otherwise im2col + the portable int16 GEMM.
// Threaded over the batch. Bit-identical to the reference kernels of conv.h, with the same fallbacks to
// them outside the int16 / int32 bounds (testbench/golden/test_fast_conv.cpp: >= 1000
// random shapes, the small-ResNet layers, tile edges, flush intervals).
#pragma once

#include <string>
#include <vector>

#include "golden/conv.h"
#include "golden/quantizers_fast.h"

namespace octet::golden {

Tensor<int32_t> conv2d_forward_fast(const Tensor<uint8_t>& x, const Tensor<int8_t>& w, ConvParams p, int threads);
// With out_max: max |result| when a SIMD path measured it while writing, else unknown.
Tensor<int64_t> conv2d_backward_data_fast(const Tensor<int32_t>& e, const Tensor<int8_t>& w, ConvParams p,
                                          const Shape& input_shape, int threads, KnownMax* out_max = nullptr);
// The same result stored in int32 (out, exponent e.exp + w.exp) when a SIMD path proves every
// sum fits int32 (tap_conv::backward_data_narrow); false otherwise (then out is unusable and
// conv2d_backward_data_fast gives the result in int64).
bool conv2d_backward_data_fast_narrow(const Tensor<int32_t>& e, const Tensor<int8_t>& w, ConvParams p,
                                      const Shape& input_shape, int threads, Tensor<int32_t>& out,
                                      KnownMax* out_max = nullptr);
Tensor<int64_t> conv2d_weight_grad_fast(const Tensor<uint8_t>& x, const Tensor<int32_t>& e, ConvParams p,
                                        const Shape& weight_shape, int threads);

// The instruction paths, each exact (docs/numerics.md, "Fast kernels: 8-bit multiply-add
// bounds"), chosen at run time; a pass a path has no kernel for runs the next path below it:
//   portable     im2col + the portable int16 GEMM (any CPU);
//   avx2         tap_conv's int16 kernels (vpmaddwd), all three passes;
//   avx2_u8      forward on bytes with vpmaddubsw where max(x) * max|w| <= 16383, else avx2;
//   avx_vnni     forward on bytes, vpdpbusd on ymm (AVX-VNNI, exact for any bytes), else avx2;
//   avx512_vnni  the same on zmm (AVX-512 VNNI + BW + VL); backward data and weight gradient
//                on the int16 rows with vpdpwssd on zmm.
// The default is the fastest the CPU has (avx512_vnni, avx_vnni, avx2 or portable; avx2_u8
// gains only ~7% on the forward pass, and only for |w| <= 64, so it is chosen by name only),
// or the environment variable OCTET_CONV_PATH=<name> read at the first call.
enum class ConvPath { portable, avx2, avx2_u8, avx_vnni, avx512_vnni };

const char* conv_path_name(ConvPath path);
bool conv_path_supported(ConvPath path);
std::vector<ConvPath> conv_paths_supported();  // every path this CPU can run, portable first
ConvPath fast_conv_path();
// Tests and benchmarks: run `path` from now on (std::invalid_argument when this CPU cannot).
// Not for use while kernels run on other threads.
void fast_conv_set_path(ConvPath path);
// The path named `name` (as conv_path_name), or octet::InputError naming `what`.
ConvPath parse_conv_path(const std::string& name, const std::string& what);

// True when a SIMD path (not portable) is in use (reported by benchmarks).
bool fast_kernels_use_avx2();
// Tests: false runs the portable im2col path on an AVX2 host too (true restores the fastest
// path the CPU has). Not for use while kernels run on other threads.
void fast_kernels_set_avx2(bool enabled);

}  // namespace octet::golden
