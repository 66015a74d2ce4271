// The WAGEUBN quantizers in integer form (docs/numerics.md §4). Each works on a
// whole tensor (the power-of-two scale comes from the tensor's max |x|) and has an
// element function so that hardware lanes and fast kernels can be checked against it.
#pragma once

#include <cstdint>
#include <limits>
#include <string>

#include "golden/counter_rng.h"
#include "golden/tensor.h"

namespace octet::golden {

// Bit-widths the quantizers accept; anything else is rejected with std::invalid_argument.
inline constexpr int kMinBits = 2;
inline constexpr int kMaxBits = 31;
inline constexpr int kMaxFlagBits = 16;  // the E2 payload in fine units must fit int32

void check_bits(const char* quantizer, int k, int max_bits = kMaxBits);

// A quantizer's output exponent computed in int64; std::overflow_error if it leaves int.
int output_exponent(const char* quantizer, int64_t exp);

// ---- scale -------------------------------------------------------------------------
// r = round(log2 max|x|) over payloads; 0 for an all-zero tensor (contract §4.0).
int tensor_scale_log2(const int64_t* x, int64_t n);
// max_i |x[i]| (2^63 for INT64_MIN), 0 for n = 0.
uint64_t tensor_max_magnitude(const int64_t* x, int64_t n);
// r from max|x| alone: a data-parallel step reduces the shards' maxima, then every shard takes
// the scale of the whole batch from it (docs/numerics.md §12).
int scale_log2_of_max(uint64_t max_magnitude);

// ---- direct quantization Q(x, k), contract §4.1 ----------------------------------------
// Re-express `x` (at exponent `in_exp`) on the grid 2^out_exp with round-half-even,
// then saturate to [lo, hi].
int64_t requantize_element(int64_t x, int in_exp, int out_exp, int64_t lo, int64_t hi);

enum class Clip { kSymmetric, kStorage };  // ±(2^(k-1)-1), or the int32 storage range

// ---- shift quantization SQ (E1), contract §4.2 ----------------------------------------
// Output exponent: in_exp + r - (k-1); payload clipped to ±(2^(k-1)-1).
int64_t shift_quantize_element(int64_t x, int r, int k);

// ---- constant-factor quantization CQ (G), contract §4.3 --------------------------------
struct CqParams {
  int log2_scale = 7;     // gradient scale 2^s (128 by default)
  int out_exp = -14;      // constant output exponent
  StreamKey key;          // make_stream_key(seed, step, tensor id)
};
int64_t constant_factor_quantize_element(int64_t x, int r, const CqParams& p, uint64_t index);

// ---- flag quantization (E2), contract §4.4 --------------------------------------------
// Payload in fine units (exponent in_exp + r - 2(k-1)): |p| <= 2^(k-1) on the fine
// grid, or a multiple of 2^(k-1) up to (2^(k-1)-1)*2^(k-1) on the coarse grid.
int64_t flag_quantize_element(int64_t x, int r, int k);

// The hardware code of an E2 payload: a signed k-bit value in ±(2^(k-1)-1) plus
// the flag (fine = true: the value counts fine units, else coarse units).
struct FlagCode {
  int32_t value = 0;
  bool fine = false;
};
FlagCode flag_encode(int64_t payload, int k);
int64_t flag_decode(FlagCode code, int k);

// ---- tensor-level wrappers ----------------------------------------------------------------
Tensor<int32_t> direct_quantize(const Tensor<int64_t>& x, int k, Clip clip);
Tensor<int32_t> requantize(const Tensor<int64_t>& x, int out_exp, int64_t lo, int64_t hi);
// `threads` splits the elements among workers; each element's result is a pure function
// of its value, the tensor scale and its index, so the split never changes a bit.
Tensor<int32_t> shift_quantize(const Tensor<int64_t>& x, int k, int threads = 1);
Tensor<int32_t> constant_factor_quantize(const Tensor<int64_t>& x, const CqParams& p, int threads = 1);
Tensor<int32_t> flag_quantize(const Tensor<int64_t>& x, int k, int threads = 1);
// The same on one shard of a tensor whose max |x| over all shards is `batch_max` (>= this
// shard's own max): the scale is the whole tensor's, so the shards' outputs are the slices of
// the whole tensor's output.
Tensor<int32_t> shift_quantize_with_max(const Tensor<int64_t>& x, int k, uint64_t batch_max, int threads = 1);
Tensor<int32_t> flag_quantize_with_max(const Tensor<int64_t>& x, int k, uint64_t batch_max, int threads = 1);

// Widen any integer tensor to the quantizers' int64 input.
template <typename T>
Tensor<int64_t> widen(const Tensor<T>& t) {
  Tensor<int64_t> out(t.shape, t.exp);
  for (int64_t i = 0; i < t.size(); ++i) out.data[static_cast<size_t>(i)] = t.data[static_cast<size_t>(i)];
  return out;
}

}  // namespace octet::golden
