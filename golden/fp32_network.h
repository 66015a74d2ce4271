// The FP32 twin: the network of a NetworkDesc in plain float arithmetic, trained with standard
// SGD with momentum, to compare accuracy side by side with the integer golden engine. Same graph,
// same parameter order (network_params), same batch-norm definition as docs/numerics.md §5.4
// (x^ = (x - mu) / (sigma + eps), eps = 2^-15, biased sigma, running averages of mu and
// sigma + eps with momentum 1 - 2^-b, b = 3 unless set), but no quantization anywhere.
// NetworkT<double> (Fp64Network) is the same code in double, used by the gradient checks.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "golden/fp32_layers.h"
#include "golden/network_desc.h"

namespace octet::golden {

template <typename T>
class NetworkT {
 public:
  // initial_params: one vector per network_params(desc) entry, in that order, of matching size.
  NetworkT(NetworkDesc desc, std::vector<std::vector<T>> initial_params);

  // Training-mode forward (batch statistics; updates the BN running statistics), softmax
  // cross-entropy averaged over the batch, and backward. Returns the mean loss; the parameter
  // gradients are in grads(). images: batch x C x H x W; labels: batch class indices.
  T forward_backward(const T* images, const Label* labels, int batch);

  // v = momentum * v + g (+ weight_decay * w for conv and linear weights only); w -= lr * v.
  void sgd_step(T lr, T momentum, T weight_decay);

  // Inference mode (BN running statistics): arg-max class per sample (first maximum).
  void predict(const T* images, int batch, std::vector<int>& classes);

  // Mean loss without side effects (no gradients, no running-statistics update), in training
  // mode (batch statistics) or inference mode.
  T loss(const T* images, const Label* labels, int batch, bool train_mode);

  // Logits (batch x classes) of the last forward pass.
  const std::vector<T>& logits() const { return vals_[static_cast<size_t>(desc_.output)]; }

  std::vector<std::vector<T>>& params() { return params_; }
  const std::vector<std::vector<T>>& params() const { return params_; }
  const std::vector<std::vector<T>>& grads() const { return grads_; }
  std::vector<std::vector<T>>& momentum_buffers() { return velocity_; }
  const std::vector<ParamDesc>& param_descs() const { return pdesc_; }
  const NetworkDesc& desc() const { return desc_; }

  // BN running statistics of a bnrelu node (index into desc().nodes): mean and sigma + eps.
  std::vector<T>& running_mean(int node) { return run_mean_.at(static_cast<size_t>(node)); }
  std::vector<T>& running_scale(int node) { return run_scale_.at(static_cast<size_t>(node)); }

  // Worker threads (default: hardware concurrency). Results may differ in the last bits
  // between thread counts (summation order of weight gradients), never in correctness.
  void set_threads(int threads) { threads_ = threads < 1 ? 1 : threads; }
  // Running-statistics momentum 1 - 2^-shift (the integer path's bn_decay_shift).
  void set_bn_decay_shift(int shift) { bn_momentum_ = 1.0 - std::ldexp(1.0, -shift); }
  int threads() const { return threads_; }

  // Wall time per node (seconds) spent in forward and backward since construction or the last
  // reset_timing(): for performance reports (indices into desc().nodes).
  const std::vector<double>& forward_seconds() const { return fwd_seconds_; }
  const std::vector<double>& backward_seconds() const { return bwd_seconds_; }
  void reset_timing();

  // When on, forward_backward also computes the gradient with respect to the images.
  void set_compute_input_grad(bool on) { input_grad_ = on; }
  const std::vector<T>& input_grad() const { return errs_.front(); }

 private:
  void forward(const T* images, int batch, bool train, bool update_running);
  void backward(int batch);
  fp32::ConvGeom conv_geom(int node, int batch) const;
  fp32::PoolGeom pool_geom(int node, int batch) const;
  const std::vector<int64_t>& shape_of(int node) const { return desc_.nodes[static_cast<size_t>(node)].out_shape; }

  NetworkDesc desc_;
  std::vector<ParamDesc> pdesc_;
  std::vector<int> param_base_;  // per node: index of its first parameter, or -1
  std::vector<std::vector<T>> params_, grads_, velocity_;
  std::vector<std::vector<T>> vals_, errs_;               // per node: batch x C x H x W
  std::vector<std::vector<T>> bn_mean_, bn_sigma_;        // per bnrelu node: batch statistics
  std::vector<std::vector<T>> run_mean_, run_scale_;      // per bnrelu node: running statistics
  std::vector<std::vector<int32_t>> argmax_;              // per maxpool node
  std::vector<double> fwd_seconds_, bwd_seconds_;
  int threads_ = 1;
  bool input_grad_ = false;
  double bn_momentum_ = fp32::kBnMomentum;
};

using Fp32Network = NetworkT<float>;
using Fp64Network = NetworkT<double>;

extern template class NetworkT<float>;
extern template class NetworkT<double>;

}  // namespace octet::golden
