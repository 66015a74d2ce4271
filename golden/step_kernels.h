// The kernels of an integer training step, as the reference loop nests (the contract's
// truth) or their fast twins (vectorised, threaded, tested bit-identical to the reference).
// IntNetwork picks one set per run (IntTrainOptions::reference_kernels); results never differ.
// With a reducer, the tensors are one shard of a data-parallel batch and every batch-wide
// quantity (BN moments and backward sums, the E1/E2 scale's max |x|) is reduced across the
// shards before it is used (golden/batch_reducer.h), so each shard computes its slice of the
// whole batch's result. The fast kernels keep an error in int32 where a bound proves its values
// fit (golden/error_tensor.h); the reference kernels see and make only int64 errors.
#pragma once

#include <span>

#include "golden/activation.h"
#include "golden/activation_fast.h"
#include "golden/batch_norm.h"
#include "golden/batch_norm_fast.h"
#include "golden/batch_reducer.h"
#include "golden/conv.h"
#include "golden/error_tensor.h"
#include "golden/fast_conv.h"
#include "golden/quantizers.h"
#include "golden/quantizers_fast.h"
#include "golden/residual.h"
#include "golden/residual_fast.h"

namespace octet::golden {

struct StepKernels {
  bool reference = false;
  int threads = 1;
  const BatchReducer* reducer = nullptr;  // null: the tensors are the whole batch

  Tensor<int32_t> conv_forward(const Tensor<uint8_t>& x, const Tensor<int8_t>& w, ConvParams p) const {
    return reference ? conv2d_forward(x, w, p) : conv2d_forward_fast(x, w, p, threads);
  }
  // out_max: max |result| where the fast kernel measured it (unknown from the reference).
  ErrorTensor conv_backward_data(const Tensor<int32_t>& e, const Tensor<int8_t>& w, ConvParams p,
                                 const Shape& input_shape, KnownMax* out_max = nullptr) const {
    if (out_max) *out_max = KnownMax{};
    if (reference) return conv2d_backward_data(e, w, p, input_shape);
    Tensor<int32_t> narrow;
    if (conv2d_backward_data_fast_narrow(e, w, p, input_shape, threads, narrow, out_max))
      return ErrorTensor::of_narrow(std::move(narrow));
    return conv2d_backward_data_fast(e, w, p, input_shape, threads, out_max);
  }
  Tensor<int64_t> conv_weight_grad(const Tensor<uint8_t>& x, const Tensor<int32_t>& e, ConvParams p,
                                   const Shape& weight_shape) const {
    return reference ? conv2d_weight_grad(x, e, p, weight_shape)
                     : conv2d_weight_grad_fast(x, e, p, weight_shape, threads);
  }
  // x_max: max |x| if a producer measured it (the fast quantizer then does not scan x).
  // An error tensor: its int32 form straight into the fast quantizer (the max measured if unknown).
  Tensor<int32_t> shift_quantize(const ErrorTensor& x, int k, KnownMax x_max = {}) const {
    if (!x.is_narrow()) return shift_quantize(x.wide, k, x_max);
    const uint64_t m = x_max.known ? x_max.value : max_magnitude_fast(x.narrow.data.data(), x.size(), threads);
    return shift_quantize_with_max_fast(x.narrow, k, batch_max(m), threads);
  }
  Tensor<int32_t> flag_quantize(const ErrorTensor& x, int k, KnownMax x_max = {}) const {
    if (!x.is_narrow()) return flag_quantize(x.wide, k, x_max);
    const uint64_t m = x_max.known ? x_max.value : max_magnitude_fast(x.narrow.data.data(), x.size(), threads);
    return flag_quantize_with_max_fast(x.narrow, k, batch_max(m), threads);
  }
  Tensor<int32_t> shift_quantize(const Tensor<int64_t>& x, int k, KnownMax x_max = {}) const {
    if (!reference && x_max.known) return shift_quantize_with_max_fast(x, k, batch_max(x_max.value), threads);
    if (reducer) return reference ? shift_quantize_with_max(x, k, batch_max(x), threads)
                                  : shift_quantize_with_max_fast(x, k, batch_max(x), threads);
    return reference ? golden::shift_quantize(x, k, threads) : shift_quantize_fast(x, k, threads);
  }
  Tensor<int32_t> flag_quantize(const Tensor<int64_t>& x, int k, KnownMax x_max = {}) const {
    if (!reference && x_max.known) return flag_quantize_with_max_fast(x, k, batch_max(x_max.value), threads);
    if (reducer) return reference ? flag_quantize_with_max(x, k, batch_max(x), threads)
                                  : flag_quantize_with_max_fast(x, k, batch_max(x), threads);
    return reference ? golden::flag_quantize(x, k, threads) : flag_quantize_fast(x, k, threads);
  }
  // max |x| over every shard of the batch.
  uint64_t batch_max(const Tensor<int64_t>& x) const {
    const uint64_t m = reference ? tensor_max_magnitude(x.data.data(), x.size())
                                 : max_magnitude_fast(x.data.data(), x.size(), threads);
    return batch_max(m);
  }
  // A shard's max |x| reduced over every shard of the batch.
  uint64_t batch_max(uint64_t shard_max) const { return reducer ? reducer->max(shard_max) : shard_max; }
  // Sums a tensor of per-shard partial sums (a weight gradient) across the shards.
  void batch_sum(std::span<int64_t> v) const {
    if (reducer) reducer->sum(v);
  }
  Tensor<int32_t> constant_factor_quantize(const Tensor<int64_t>& x, const CqParams& q) const {
    return reference ? golden::constant_factor_quantize(x, q, threads) : constant_factor_quantize_fast(x, q, threads);
  }
  Tensor<int32_t> residual_add(const Tensor<int32_t>& a, const Tensor<int32_t>& b) const {
    return reference ? golden::residual_add(a, b) : residual_add_fast(a, b, threads);
  }
  BnStats bn_batch_statistics(const Tensor<int32_t>& x) const {
    if (reducer) {
      BnMoments m = reference ? bn_moments(x, threads) : bn_moments_fast(x, threads);
      reducer->sum(std::span<int64_t>(m.s1));
      reducer->sum(std::span<uint128>(m.s2));
      m.count = reducer->sum(m.count);
      return bn_statistics_from_moments(m, reference ? isqrt : isqrt_via_double);
    }
    return reference ? golden::bn_batch_statistics(x, threads) : bn_batch_statistics_fast(x, threads);
  }
  // Batch norm then the ReLU quantizer (x̂, the 8-bit activation and its mask; y is not kept).
  BnReluForward bn_relu_forward(const Tensor<int32_t>& x, const BnStats& s, const Tensor<int16_t>& gamma,
                                const Tensor<int16_t>& beta) const {
    if (!reference) return bn_relu_forward_fast(x, s, gamma, beta, threads);
    BnForward bn = bn_forward(x, s, gamma, beta, threads);
    return BnReluForward{std::move(bn.xhat), relu_quantize(bn.y)};
  }
  // The ReLU mask on E1, then the batch-norm backward.
  // dx_max: max |dx| where the fast kernel measured it (unknown from the reference).
  // *dx: the error to the input (int32 where the fast kernel proved it fits); b.dx is then empty.
  BnBackward bn_relu_backward(const Tensor<int32_t>& e1, const std::vector<uint8_t>& mask, const Tensor<int16_t>& xhat,
                              const Tensor<int16_t>& gamma, const BnStats& s, ErrorTensor* dx,
                              KnownMax* dx_max = nullptr) const {
    uint64_t m = 0;
    Tensor<int32_t> narrow;
    BnBackward b = bn_relu_backward_impl(e1, mask, xhat, gamma, s, dx_max && !reference ? &m : nullptr,
                                         reference ? nullptr : &narrow);
    if (dx_max) *dx_max = reference ? KnownMax{} : KnownMax{true, m};
    *dx = narrow.empty() ? ErrorTensor(std::move(b.dx)) : ErrorTensor::of_narrow(std::move(narrow));
    b.dx = {};
    return b;
  }
  BnBackward bn_relu_backward_impl(const Tensor<int32_t>& e1, const std::vector<uint8_t>& mask,
                                   const Tensor<int16_t>& xhat, const Tensor<int16_t>& gamma, const BnStats& s,
                                   uint64_t* dx_max, Tensor<int32_t>* dx_narrow) const {
    if (reducer) {
      const Tensor<int32_t> dy = reference ? relu_backward(e1, mask) : Tensor<int32_t>{};
      BnBackwardSums sums = reference ? bn_backward_sums(dy, xhat, threads) : bn_relu_backward_sums_fast(e1, mask, xhat, threads);
      reducer->sum(std::span<int64_t>(sums.dbeta));
      reducer->sum(std::span<int64_t>(sums.dgamma));
      return reference ? bn_backward(dy, xhat, gamma, s, threads, &sums)
                       : bn_relu_backward_fast(e1, mask, xhat, gamma, s, threads, &sums, dx_max, dx_narrow);
    }
    if (!reference) return bn_relu_backward_fast(e1, mask, xhat, gamma, s, threads, nullptr, dx_max, dx_narrow);
    return bn_backward(relu_backward(e1, mask), xhat, gamma, s, threads);
  }
  // Sums an error into a node's accumulated error (the first one is taken as it is).
  void accumulate_error(Tensor<int64_t>& into, Tensor<int64_t>&& e) const {
    if (!reference) return accumulate_error_fast(into, std::move(e), threads);
    into = into.empty() ? std::move(e) : error_add(into, e);
  }
  // The same for an error that another node also receives (a residual add's fan-out).
  void accumulate_error(Tensor<int64_t>& into, const Tensor<int64_t>& e) const {
    if (!reference) return accumulate_error_fast(into, e, threads, KeepOperand{});
    into = into.empty() ? e : error_add(into, e);
  }
  // Both, on error tensors, keeping *into_max (max |into|, before and after) from e_max and
  // the in-place sum. The reference's errors are all int64.
  void accumulate_error(ErrorTensor& into, ErrorTensor&& e, KnownMax* into_max, KnownMax e_max) const {
    if (!reference) return accumulate_error_fast(into, std::move(e), threads, into_max, e_max);
    accumulate_error(into.wide, std::move(e.wide));
  }
  void accumulate_error(ErrorTensor& into, const ErrorTensor& e, KnownMax* into_max, KnownMax e_max) const {
    if (!reference) return accumulate_error_fast(into, e, threads, KeepOperand{}, into_max, e_max);
    accumulate_error(into.wide, e.wide);
  }
};

}  // namespace octet::golden
