// The kernels of an integer training step, as the reference loop nests (the contract's
// truth) or their fast twins (vectorised, threaded, tested bit-identical to the reference).
// IntNetwork picks one set per run (IntTrainOptions::reference_kernels); results never differ.
#pragma once

#include "golden/activation.h"
#include "golden/activation_fast.h"
#include "golden/batch_norm.h"
#include "golden/batch_norm_fast.h"
#include "golden/conv.h"
#include "golden/fast_conv.h"
#include "golden/quantizers.h"
#include "golden/quantizers_fast.h"
#include "golden/residual.h"
#include "golden/residual_fast.h"

namespace octet::golden {

struct StepKernels {
  bool reference = false;
  int threads = 1;

  Tensor<int32_t> conv_forward(const Tensor<uint8_t>& x, const Tensor<int8_t>& w, ConvParams p) const {
    return reference ? conv2d_forward(x, w, p) : conv2d_forward_fast(x, w, p, threads);
  }
  Tensor<int64_t> conv_backward_data(const Tensor<int32_t>& e, const Tensor<int8_t>& w, ConvParams p,
                                     const Shape& input_shape) const {
    return reference ? conv2d_backward_data(e, w, p, input_shape)
                     : conv2d_backward_data_fast(e, w, p, input_shape, threads);
  }
  Tensor<int64_t> conv_weight_grad(const Tensor<uint8_t>& x, const Tensor<int32_t>& e, ConvParams p,
                                   const Shape& weight_shape) const {
    return reference ? conv2d_weight_grad(x, e, p, weight_shape)
                     : conv2d_weight_grad_fast(x, e, p, weight_shape, threads);
  }
  Tensor<int32_t> shift_quantize(const Tensor<int64_t>& x, int k) const {
    return reference ? golden::shift_quantize(x, k, threads) : shift_quantize_fast(x, k, threads);
  }
  Tensor<int32_t> flag_quantize(const Tensor<int64_t>& x, int k) const {
    return reference ? golden::flag_quantize(x, k, threads) : flag_quantize_fast(x, k, threads);
  }
  Tensor<int32_t> constant_factor_quantize(const Tensor<int64_t>& x, const CqParams& q) const {
    return reference ? golden::constant_factor_quantize(x, q, threads) : constant_factor_quantize_fast(x, q, threads);
  }
  Tensor<int32_t> residual_add(const Tensor<int32_t>& a, const Tensor<int32_t>& b) const {
    return reference ? golden::residual_add(a, b) : residual_add_fast(a, b, threads);
  }
  BnStats bn_batch_statistics(const Tensor<int32_t>& x) const {
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
  BnBackward bn_relu_backward(const Tensor<int32_t>& e1, const std::vector<uint8_t>& mask, const Tensor<int16_t>& xhat,
                              const Tensor<int16_t>& gamma, const BnStats& s) const {
    if (!reference) return bn_relu_backward_fast(e1, mask, xhat, gamma, s, threads);
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
};

}  // namespace octet::golden
