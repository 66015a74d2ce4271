// Layer kernels of the FP32 twin (golden/fp32_network.h), templated on the scalar type (float for
// the twin, double for gradient checks). Tensors are NCHW, row-major. Backward functions
// ACCUMULATE (+=) into input gradients (a tensor read by several nodes sums its errors) and
// OVERWRITE parameter gradients. `threads` is an upper bound on worker threads.
#pragma once

#include <cstdint>

#include "golden/label.h"

namespace octet::golden::fp32 {

// Batch-norm epsilon added to sigma (x^ = (x - mu) / (sigma + eps)) and running-average momentum.
inline constexpr double kBnEps = 1.0 / 32768.0;              // 2^-15
inline constexpr double kBnMomentum = 1.0 - 1.0 / 8.0;       // 1 - 2^-3, as the integer path

struct ConvGeom {
  int N = 1, Ci = 1, H = 1, W = 1, Co = 1, k = 1, s = 1, p = 0;
  int Ho() const { return (H + 2 * p - k) / s + 1; }
  int Wo() const { return (W + 2 * p - k) / s + 1; }
};

// y[N,Co,Ho,Wo] = conv(x[N,Ci,H,W], w[Co,Ci,k,k]) with zero padding p and stride s (no bias).
template <typename T>
void conv2d_forward(const ConvGeom& g, const T* x, const T* w, T* y, int threads);
// dx += conv^T(dy, w) (skipped when dx is null); dw = sum over the batch (overwritten).
template <typename T>
void conv2d_backward(const ConvGeom& g, const T* x, const T* w, const T* dy, T* dx, T* dw, int threads);

// y[N,O] = x[N,I] * w[O,I]^T + b[O].
template <typename T>
void linear_forward(int N, int I, int O, const T* x, const T* w, const T* b, T* y);
// dx += dy * w (skipped when dx is null); dw = dy^T * x; db = sum_n dy (overwritten).
template <typename T>
void linear_backward(int N, int I, int O, const T* x, const T* w, const T* dy, T* dx, T* dw, T* db);

// Batch norm over N x HW elements per channel of x[N,C,HW]. Training mode: batch mean mu and
// biased sigma = sqrt(mean((x - mu)^2)); y = gamma * (x - mu) / (sigma + eps) + beta.
// mean[C] and sigma[C] are outputs (kept for the backward pass). If relu, y = max(0, y).
template <typename T>
void batchnorm_train_forward(int N, int C, int HW, const T* x, const T* gamma, const T* beta, T* y, T* mean,
                             T* sigma, bool relu, int threads);
// Inference: y = gamma * (x - run_mean) / run_scale + beta (run_scale averages sigma + eps).
template <typename T>
void batchnorm_infer_forward(int N, int C, int HW, const T* x, const T* gamma, const T* beta, const T* run_mean,
                             const T* run_scale, T* y, bool relu, int threads);
// Exact gradient of the training-mode forward. dy is the error at the BN output; when relu_out
// is not null it is the ReLU output of a fused bnrelu and dy is masked by relu_out > 0.
// dx += ..., dgamma and dbeta overwritten.
template <typename T>
void batchnorm_backward(int N, int C, int HW, const T* x, const T* gamma, const T* mean, const T* sigma,
                        const T* dy, const T* relu_out, T* dx, T* dgamma, T* dbeta, int threads);

template <typename T>
void relu_forward(int64_t n, const T* x, T* y);
// dx += dy where y > 0.
template <typename T>
void relu_backward(int64_t n, const T* y, const T* dy, T* dx);

// Square-window pooling; a global pool is kh = H, kw = W, s = 1, p = 0. Padding positions never
// take part: max over real elements, average divides by the number of real elements.
struct PoolGeom {
  int N = 1, C = 1, H = 1, W = 1, kh = 1, kw = 1, s = 1, p = 0;
  int Ho() const { return (H + 2 * p - kh) / s + 1; }
  int Wo() const { return (W + 2 * p - kw) / s + 1; }
  static PoolGeom global(int N, int C, int H, int W) { return {N, C, H, W, H, W, 1, 0}; }
};
// argmax[N,C,Ho,Wo]: index y*W + x in the input plane of the first maximum (row-major window order).
template <typename T>
void maxpool_forward(const PoolGeom& g, const T* x, T* y, int32_t* argmax, int threads);
template <typename T>
void maxpool_backward(const PoolGeom& g, const int32_t* argmax, const T* dy, T* dx);
template <typename T>
void avgpool_forward(const PoolGeom& g, const T* x, T* y, int threads);
template <typename T>
void avgpool_backward(const PoolGeom& g, const T* dy, T* dx, int threads);

// Mean softmax cross-entropy over the batch; dlogits = (softmax - onehot) / N (overwritten, may be
// null). Labels must be < classes.
template <typename T>
double softmax_cross_entropy(int N, int classes, const T* logits, const Label* labels, T* dlogits);

}  // namespace octet::golden::fp32
