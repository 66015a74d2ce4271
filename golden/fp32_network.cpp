#include "golden/fp32_network.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

namespace octet::golden {

using namespace fp32;

template <typename T>
NetworkT<T>::NetworkT(NetworkDesc desc, std::vector<std::vector<T>> initial_params)
    : desc_(std::move(desc)), pdesc_(network_params(desc_)), params_(std::move(initial_params)) {
  if (params_.size() != pdesc_.size())
    throw std::invalid_argument("network '" + desc_.name + "' has " + std::to_string(pdesc_.size()) +
                                " parameter tensors, got " + std::to_string(params_.size()));
  const size_t nodes = desc_.nodes.size();
  param_base_.assign(nodes, -1);
  for (size_t p = 0; p < pdesc_.size(); ++p) {
    if (static_cast<int64_t>(params_[p].size()) != pdesc_[p].size())
      throw std::invalid_argument("parameter " + pdesc_[p].name + " needs " + std::to_string(pdesc_[p].size()) +
                                  " values, got " + std::to_string(params_[p].size()));
    int& base = param_base_[static_cast<size_t>(pdesc_[p].node)];
    if (base < 0) base = static_cast<int>(p);
    grads_.emplace_back(params_[p].size(), T(0));
    velocity_.emplace_back(params_[p].size(), T(0));
  }
  vals_.resize(nodes);
  errs_.resize(nodes);
  bn_mean_.resize(nodes);
  bn_sigma_.resize(nodes);
  run_mean_.resize(nodes);
  run_scale_.resize(nodes);
  argmax_.resize(nodes);
  for (size_t i = 0; i < nodes; ++i)
    if (desc_.nodes[i].kind == OpKind::kBnRelu) {
      const size_t C = static_cast<size_t>(desc_.nodes[i].out_shape[0]);
      bn_mean_[i].assign(C, T(0));
      bn_sigma_[i].assign(C, T(0));
      run_mean_[i].assign(C, T(0));
      run_scale_[i].assign(C, T(1));
    }
  threads_ = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  reset_timing();
}

template <typename T>
void NetworkT<T>::reset_timing() {
  fwd_seconds_.assign(desc_.nodes.size(), 0.0);
  bwd_seconds_.assign(desc_.nodes.size(), 0.0);
}

namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

template <typename T>
ConvGeom NetworkT<T>::conv_geom(int node, int batch) const {
  const NodeDesc& n = desc_.nodes[static_cast<size_t>(node)];
  const auto& in = shape_of(n.inputs[0]);
  ConvGeom g;
  g.N = batch;
  g.Ci = static_cast<int>(in[0]);
  g.H = static_cast<int>(in[1]);
  g.W = static_cast<int>(in[2]);
  g.Co = n.out_channels;
  g.k = n.kernel;
  g.s = n.stride;
  g.p = n.pad;
  return g;
}

template <typename T>
PoolGeom NetworkT<T>::pool_geom(int node, int batch) const {
  const NodeDesc& n = desc_.nodes[static_cast<size_t>(node)];
  const auto& in = shape_of(n.inputs[0]);
  const int C = static_cast<int>(in[0]), H = static_cast<int>(in[1]), W = static_cast<int>(in[2]);
  if (n.global) return PoolGeom::global(batch, C, H, W);
  return PoolGeom{batch, C, H, W, n.kernel, n.kernel, n.stride, n.pad};
}

template <typename T>
void NetworkT<T>::forward(const T* images, int batch, bool train, bool update_running) {
  if (batch < 1) throw std::invalid_argument("batch must be >= 1");
  for (size_t i = 0; i < desc_.nodes.size(); ++i)
    vals_[i].resize(static_cast<size_t>(batch * node_elements(desc_.nodes[i])));
  std::copy(images, images + vals_[0].size(), vals_[0].begin());
  for (size_t i = 1; i < desc_.nodes.size(); ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    const NodeDesc& n = desc_.nodes[i];
    const int node = static_cast<int>(i);
    const T* x = vals_[static_cast<size_t>(n.inputs[0])].data();
    T* y = vals_[i].data();
    const int base = param_base_[i];
    switch (n.kind) {
      case OpKind::kConv:
        conv2d_forward(conv_geom(node, batch), x, params_[static_cast<size_t>(base)].data(), y, threads_);
        break;
      case OpKind::kLinear:
        linear_forward(batch, static_cast<int>(node_elements(desc_.nodes[static_cast<size_t>(n.inputs[0])])),
                       n.out_channels, x, params_[static_cast<size_t>(base)].data(),
                       params_[static_cast<size_t>(base) + 1].data(), y);
        break;
      case OpKind::kBnRelu: {
        const int C = static_cast<int>(n.out_shape[0]), HW = static_cast<int>(n.out_shape[1] * n.out_shape[2]);
        const T* gamma = params_[static_cast<size_t>(base)].data();
        const T* beta = params_[static_cast<size_t>(base) + 1].data();
        if (train) {
          batchnorm_train_forward(batch, C, HW, x, gamma, beta, y, bn_mean_[i].data(), bn_sigma_[i].data(), true,
                                  threads_);
          if (update_running) {
            const T m = static_cast<T>(bn_momentum_), r = static_cast<T>(1.0 - bn_momentum_);
            for (int c = 0; c < C; ++c) {
              run_mean_[i][c] = m * run_mean_[i][c] + r * bn_mean_[i][c];
              run_scale_[i][c] = m * run_scale_[i][c] + r * (bn_sigma_[i][c] + static_cast<T>(kBnEps));
            }
          }
        } else {
          batchnorm_infer_forward(batch, C, HW, x, gamma, beta, run_mean_[i].data(), run_scale_[i].data(), y, true,
                                  threads_);
        }
        break;
      }
      case OpKind::kMaxPool:
        argmax_[i].resize(vals_[i].size());
        maxpool_forward(pool_geom(node, batch), x, y, argmax_[i].data(), threads_);
        break;
      case OpKind::kAvgPool:
        avgpool_forward(pool_geom(node, batch), x, y, threads_);
        break;
      case OpKind::kAdd: {
        const T* b = vals_[static_cast<size_t>(n.inputs[1])].data();
        for (size_t e = 0; e < vals_[i].size(); ++e) y[e] = x[e] + b[e];
        break;
      }
      case OpKind::kInput: break;
    }
    fwd_seconds_[i] += seconds_since(t0);
  }
}

template <typename T>
void NetworkT<T>::backward(int batch) {
  for (size_t i = desc_.nodes.size() - 1; i >= 1; --i) {
    const auto t0 = std::chrono::steady_clock::now();
    const NodeDesc& n = desc_.nodes[i];
    const int node = static_cast<int>(i);
    const size_t in = static_cast<size_t>(n.inputs[0]);
    const T* x = vals_[in].data();
    const T* dy = errs_[i].data();
    T* dx = (in == 0 && !input_grad_) ? nullptr : errs_[in].data();
    const size_t base = static_cast<size_t>(param_base_[i]);
    switch (n.kind) {
      case OpKind::kConv:
        conv2d_backward(conv_geom(node, batch), x, params_[base].data(), dy, dx, grads_[base].data(), threads_);
        break;
      case OpKind::kLinear:
        linear_backward(batch, static_cast<int>(node_elements(desc_.nodes[in])), n.out_channels, x,
                        params_[base].data(), dy, dx, grads_[base].data(), grads_[base + 1].data());
        break;
      case OpKind::kBnRelu: {
        const int C = static_cast<int>(n.out_shape[0]), HW = static_cast<int>(n.out_shape[1] * n.out_shape[2]);
        batchnorm_backward(batch, C, HW, x, params_[base].data(), bn_mean_[i].data(), bn_sigma_[i].data(), dy,
                           vals_[i].data(), dx, grads_[base].data(), grads_[base + 1].data(), threads_);
        break;
      }
      case OpKind::kMaxPool:
        if (dx) maxpool_backward(pool_geom(node, batch), argmax_[i].data(), dy, dx);
        break;
      case OpKind::kAvgPool:
        if (dx) avgpool_backward(pool_geom(node, batch), dy, dx, threads_);
        break;
      case OpKind::kAdd:
        for (int k = 0; k < 2; ++k) {
          const size_t src = static_cast<size_t>(n.inputs[static_cast<size_t>(k)]);
          if (src == 0 && !input_grad_) continue;
          T* d = errs_[src].data();
          for (size_t e = 0; e < errs_[i].size(); ++e) d[e] += dy[e];
        }
        break;
      case OpKind::kInput: break;
    }
    bwd_seconds_[i] += seconds_since(t0);
  }
}

template <typename T>
T NetworkT<T>::forward_backward(const T* images, const Label* labels, int batch) {
  forward(images, batch, true, true);
  for (size_t i = 0; i < desc_.nodes.size(); ++i) {
    if (i == 0 && !input_grad_) continue;
    errs_[i].assign(vals_[i].size(), T(0));
  }
  const size_t out = static_cast<size_t>(desc_.output);
  const double loss =
      softmax_cross_entropy(batch, desc_.num_classes(), vals_[out].data(), labels, errs_[out].data());
  backward(batch);
  return static_cast<T>(loss);
}

template <typename T>
T NetworkT<T>::loss(const T* images, const Label* labels, int batch, bool train_mode) {
  forward(images, batch, train_mode, false);
  return static_cast<T>(softmax_cross_entropy<T>(batch, desc_.num_classes(),
                                                 vals_[static_cast<size_t>(desc_.output)].data(), labels, nullptr));
}

template <typename T>
void NetworkT<T>::sgd_step(T lr, T momentum, T weight_decay) {
  for (size_t p = 0; p < params_.size(); ++p) {
    const T wd = pdesc_[p].kind == ParamDesc::kWeight ? weight_decay : T(0);
    T* w = params_[p].data();
    T* v = velocity_[p].data();
    const T* g = grads_[p].data();
    for (size_t i = 0; i < params_[p].size(); ++i) {
      v[i] = momentum * v[i] + g[i] + wd * w[i];
      w[i] -= lr * v[i];
    }
  }
}

template <typename T>
void NetworkT<T>::predict(const T* images, int batch, std::vector<int>& classes) {
  forward(images, batch, false, false);
  const int K = desc_.num_classes();
  const T* z = vals_[static_cast<size_t>(desc_.output)].data();
  classes.resize(static_cast<size_t>(batch));
  for (int n = 0; n < batch; ++n) {
    const T* row = z + static_cast<size_t>(n) * K;
    classes[static_cast<size_t>(n)] = static_cast<int>(std::max_element(row, row + K) - row);
  }
}

template class NetworkT<float>;
template class NetworkT<double>;

}  // namespace octet::golden
