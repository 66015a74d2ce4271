#include "golden/int_network.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <istream>
#include <ostream>
#include <stdexcept>
#include <utility>

#include "golden/activation.h"
#include "golden/conv.h"
#include "golden/counter_rng.h"
#include "golden/fast_conv.h"
#include "golden/int_math.h"
#include "golden/loss.h"
#include "golden/optimizer_fast.h"
#include "golden/pooling.h"
#include "golden/quantizers.h"
#include "golden/residual.h"
#include "golden/step_kernels.h"

namespace octet::golden {

namespace {

constexpr int kErrorBits = kIntErrorBits;
constexpr uint64_t kPurposeGradient = 1;
constexpr uint64_t kPurposeInit = 2;

// The value a node produces for one batch, and what its backward pass needs.
struct NodeValue {
  Tensor<uint8_t> act;    // activation nodes (input, bnrelu, maxpool, avgpool)
  Tensor<int32_t> wide;   // stream and logits nodes (conv, add, linear)
  BnStats stats;          // bnrelu
  Tensor<int16_t> xhat;   // bnrelu
  std::vector<uint8_t> mask;     // bnrelu (ReLU) 
  std::vector<int64_t> argmax;   // maxpool
};

Shape with_batch(int64_t n, const Shape& chw) { return {n, chw[0], chw[1], chw[2]}; }

Tensor<int32_t> to_int32(const Tensor<uint8_t>& a) {
  Tensor<int32_t> t(a.shape, a.exp);
  std::copy(a.data.begin(), a.data.end(), t.data.begin());
  return t;
}

// A node's value as an int32 tensor: a stream as it is (no copy), an activation widened into `tmp`.
const Tensor<int32_t>& as_stream(const NodeDesc& d, const NodeValue& v, Tensor<int32_t>& tmp) {
  if (d.value_kind != ValueKind::kActivation) return v.wide;
  tmp = to_int32(v.act);
  return tmp;
}

template <typename T>
Tensor<T> reshaped(Tensor<T> t, Shape s) {
  if (shape_elements(s) != t.size()) throw std::logic_error("reshape changes the element count");
  t.shape = std::move(s);
  return t;
}

PoolParams pool_params(const NodeDesc& d) { return PoolParams{d.kernel, d.stride, d.pad, d.global}; }

struct Forward {
  std::vector<NodeValue> values;
};

}  // namespace

CqParams gradient_cq_params(uint64_t seed, uint64_t step, int param, int gscale_log2) {
  CqParams q;
  q.log2_scale = gscale_log2;
  q.out_exp = kIntGradientExp;
  q.key = make_stream_key(seed, step, 16 * static_cast<uint64_t>(param) + kPurposeGradient);
  return q;
}

Tensor<int32_t> linear_bias_grad(const Tensor<int64_t>& err, const BatchReducer* reducer) {
  const int64_t N = err.shape.at(0), classes = err.shape.at(1);
  std::vector<int64_t> sums(static_cast<size_t>(classes), 0);
  for (int64_t o = 0; o < classes; ++o)
    for (int64_t n = 0; n < N; ++n)  // checked: err is any int64 here (the loss error's own bound is §7.1)
      if (__builtin_add_overflow(sums[o], err.data[n * classes + o], &sums[o]))
        throw std::overflow_error("linear_bias_grad: sum leaves the int64 accumulator");
  if (reducer) reducer->sum(std::span<int64_t>(sums));
  Tensor<int32_t> gb({classes}, kIntGradientExp);
  for (int64_t o = 0; o < classes; ++o)
    gb.data[o] =
        static_cast<int32_t>(saturate(shift_round_half_even(sums[o], err.exp - kIntGradientExp), INT32_MIN, INT32_MAX));
  return gb;
}

uint64_t training_state_digest(uint64_t seed, uint64_t step, const std::vector<ParamState>& states,
                               const std::vector<BnRunning>& running) {
  uint64_t h = mix64(seed ^ (step * kSplitMixGamma));
  const auto absorb = [&h](int64_t v) { h = mix64(h ^ static_cast<uint64_t>(v)) + kSplitMixGamma; };
  for (const ParamState& s : states) {
    for (int32_t v : s.master.data) absorb(v);
    for (int32_t v : s.momentum.data) absorb(v);
  }
  for (const BnRunning& r : running) {
    for (int64_t v : r.mean_acc) absorb(v);
    for (int64_t v : r.sigma_acc) absorb(v);
  }
  return h;
}

IntNetwork::IntNetwork(NetworkDesc desc, uint64_t seed, IntTrainOptions options)
    : desc_(std::move(desc)), seed_(seed), options_(options), params_(network_params(desc_)) {
  first_param_.assign(desc_.nodes.size(), -1);
  running_.resize(desc_.nodes.size());
  for (size_t p = 0; p < params_.size(); ++p) {
    const ParamDesc& pd = params_[p];
    if (first_param_[pd.node] < 0) first_param_[pd.node] = static_cast<int>(p);
    Tensor<int32_t> master;
    switch (pd.kind) {
      case ParamDesc::kWeight:
        master = init_weight_master(pd.shape, pd.fan_in, seed_, 16 * p + kPurposeInit);
        break;
      case ParamDesc::kGamma:
        master = constant_master(pd.shape, 1 << 23);
        break;
      case ParamDesc::kBeta:
      case ParamDesc::kBias:
        master = constant_master(pd.shape, 0);
        break;
    }
    states_.push_back(make_param_state(std::move(master)));
  }
  for (size_t i = 0; i < desc_.nodes.size(); ++i)
    if (desc_.nodes[i].kind == OpKind::kBnRelu) running_[i] = BnRunning(desc_.nodes[i].out_shape[0]);
  derive_working_copies();
}

void IntNetwork::set_states(std::vector<ParamState> states) {
  if (states.size() != states_.size()) throw std::invalid_argument("IntNetwork::set_states: wrong number of parameters");
  for (size_t p = 0; p < states.size(); ++p)
    if (states[p].master.shape != states_[p].master.shape || states[p].momentum.shape != states_[p].momentum.shape ||
        states[p].master.exp != states_[p].master.exp || states[p].momentum.exp != states_[p].momentum.exp)
      throw std::invalid_argument("IntNetwork::set_states: parameter " + params_[p].name + " has another shape or exponent");
  states_ = std::move(states);
  derive_working_copies();
}

void IntNetwork::derive_working_copies() {
  weight8_.assign(params_.size(), {});
  affine_.assign(params_.size(), {});
  bias_.assign(params_.size(), {});
  for (size_t p = 0; p < params_.size(); ++p) {
    switch (params_[p].kind) {
      case ParamDesc::kWeight:
        weight8_[p] = options_.reference_kernels ? derive_weight8(states_[p].master) : derive_weight8_fast(states_[p].master);
        break;
      case ParamDesc::kGamma:
      case ParamDesc::kBeta: affine_[p] = derive_bn_affine(states_[p].master); break;
      case ParamDesc::kBias: bias_[p] = derive_bias(states_[p].master); break;
    }
  }
}

namespace {
// Runs the forward pass; training mode uses batch statistics, inference the running ones.
Forward run_forward(const NetworkDesc& desc, const IntTrainOptions& opt, const Tensor<uint8_t>& images, bool training,
                    const std::vector<int>& first_param, const std::vector<Tensor<int8_t>>& weight8,
                    const std::vector<Tensor<int16_t>>& affine, const std::vector<Tensor<int32_t>>& bias,
                    const std::vector<BnRunning>& running) {
  const int64_t N = images.shape.at(0);
  if (images.shape != with_batch(N, desc.input().out_shape))
    throw std::invalid_argument("images do not match the network input shape");
  const StepKernels k{opt.reference_kernels, opt.threads, training ? opt.reducer : nullptr};
  Forward f;
  f.values.resize(desc.nodes.size());
  for (size_t i = 0; i < desc.nodes.size(); ++i) {
    const NodeDesc& d = desc.nodes[i];
    NodeValue& v = f.values[i];
    const int p = first_param[i];
    switch (d.kind) {
      case OpKind::kInput:
        v.act = images;
        break;
      case OpKind::kConv: {
        const NodeValue& in = f.values[d.inputs[0]];
        const ConvParams cp{d.stride, d.pad};
        v.wide = k.conv_forward(in.act, weight8[p], cp);
        break;
      }
      case OpKind::kLinear: {
        const NodeValue& in = f.values[d.inputs[0]];
        const Tensor<uint8_t> flat = reshaped(in.act, {N, in.act.size() / N});
        v.wide = linear_forward(flat, weight8[p], bias[p + 1]);
        break;
      }
      case OpKind::kBnRelu: {
        Tensor<int32_t> widened;
        const Tensor<int32_t>& x = as_stream(desc.nodes[d.inputs[0]], f.values[d.inputs[0]], widened);
        v.stats = training ? k.bn_batch_statistics(x) : bn_running_statistics(running[i], x.exp, x.size() / x.shape[1]);
        BnReluForward bn = k.bn_relu_forward(x, v.stats, affine[p], affine[p + 1]);
        v.act = std::move(bn.relu.a);
        v.mask = std::move(bn.relu.mask);
        v.xhat = std::move(bn.xhat);
        break;
      }
      case OpKind::kMaxPool: {
        MaxPoolForward m = maxpool_forward(f.values[d.inputs[0]].act, pool_params(d));
        v.act = std::move(m.out);
        v.argmax = std::move(m.argmax);
        break;
      }
      case OpKind::kAvgPool:
        v.act = avgpool_forward(f.values[d.inputs[0]].act, pool_params(d), opt.threads);
        break;
      case OpKind::kAdd: {
        Tensor<int32_t> widened0, widened1;
        v.wide = k.residual_add(as_stream(desc.nodes[d.inputs[0]], f.values[d.inputs[0]], widened0),
                                as_stream(desc.nodes[d.inputs[1]], f.values[d.inputs[1]], widened1));
        break;
      }
    }
  }
  return f;
}
}  // namespace

Tensor<int32_t> IntNetwork::infer(const Tensor<uint8_t>& images) const {
  Forward f = run_forward(desc_, options_, images, false, first_param_, weight8_, affine_, bias_, running_);
  return std::move(f.values[desc_.output].wide);
}

IntStepResult IntNetwork::train_step(const Tensor<uint8_t>& images, const std::vector<Label>& labels, int lr_q,
                                     int gscale_log2) {
  Forward f = run_forward(desc_, options_, images, true, first_param_, weight8_, affine_, bias_, running_);
  const int64_t N = images.shape[0];
  const BatchReducer* reducer = options_.reducer;
  const int64_t batch = reducer ? reducer->sum(N) : N;  // the global batch

  // Loss error and the step's report.
  const Tensor<int32_t>& logits = f.values[desc_.output].wide;
  const SoftmaxLoss loss = softmax_cross_entropy(logits, labels, batch);
  IntStepResult result;
  const int64_t classes = logits.shape[1];
  for (int64_t n = 0; n < N; ++n) {
    const int32_t* z = &logits.data[n * classes];
    result.correct += (std::max_element(z, z + classes) - z) == labels[n];
    const double p = std::max(1.0, static_cast<double>(loss.prob.data[n * classes + labels[n]])) / 32768.0;
    result.loss -= std::log(p) / static_cast<double>(batch);
  }
  if (reducer) {
    result.correct = reducer->sum(result.correct);
    reducer->sum(std::span<double>(&result.loss, 1));
  }

  // Backward, in reverse node order; errors into a node are summed before it is processed.
  std::vector<ErrorTensor> err(desc_.nodes.size());
  // max |err| where a fast kernel measured it while writing (the error quantizers then skip their scan).
  std::vector<KnownMax> err_max(desc_.nodes.size());
  std::vector<Tensor<int32_t>> grads(params_.size());
  const StepKernels k{options_.reference_kernels, options_.threads, reducer};
  // A residual add's error fans out to its inputs; instead of a copy per input, the inputs
  // that have no error yet share one tensor: shared_from[j] = the node whose err holds node
  // j's error (err[j] stays empty). Before that tensor is changed, moved or freed, each node
  // still sharing it gets its own copy (unshare), so every node sees the values it would
  // have seen with copies.
  std::vector<int> shared_from(desc_.nodes.size(), -1);
  const auto unshare = [&](int owner) {
    for (size_t j = 0; j < shared_from.size(); ++j)
      if (shared_from[j] == owner) {
        err[j] = err[owner];
        err_max[j] = err_max[owner];
        shared_from[j] = -1;
      }
  };
  // err[into] (after unsharing it) += e, as StepKernels::accumulate_error.
  const auto accumulate = [&](int into, auto&& e, KnownMax e_max) {
    unshare(into);
    k.accumulate_error(err[into], std::forward<decltype(e)>(e), &err_max[into], e_max);
  };
  err[desc_.output] = ErrorTensor(loss.error);
  for (int i = static_cast<int>(desc_.nodes.size()) - 1; i >= 0; --i) {
    const NodeDesc& d = desc_.nodes[i];
    NodeValue& v = f.values[i];
    if (d.kind == OpKind::kInput) continue;
    if (shared_from[i] >= 0 && d.kind == OpKind::kAdd) unshare(shared_from[i]);  // an add moves its error on
    const ErrorTensor& ei = shared_from[i] >= 0 ? err[shared_from[i]] : err[i];  // this node's error
    const KnownMax ei_max = shared_from[i] >= 0 ? err_max[shared_from[i]] : err_max[i];
    if (ei.empty()) throw std::logic_error("node '" + d.name + "' received no error");
    const int p = first_param_[i];
    // A weight gradient: the batch sum of its shards' partial sums, then decay and CQ.
    const auto cq = [&](Tensor<int64_t> g_raw, int param) {
      k.batch_sum(std::span<int64_t>(g_raw.data));
      if (options_.weight_decay_lambda >= 0) add_weight_decay(g_raw, weight8_[param], options_.weight_decay_lambda);
      return k.constant_factor_quantize(g_raw, gradient_cq_params(seed_, step_, param, gscale_log2));
    };
    const bool input_needs_error = desc_.nodes[d.inputs[0]].kind != OpKind::kInput;
    switch (d.kind) {
      case OpKind::kLinear: {
        const NodeValue& in = f.values[d.inputs[0]];
        const Tensor<uint8_t> flat = reshaped(in.act, {N, in.act.size() / N});
        const Tensor<int64_t> ei64 = widened(ei);  // the logits' error: batch x classes
        grads[p + 1] = linear_bias_grad(ei64, reducer);
        const Tensor<int32_t> e2 = k.flag_quantize(ei64, kErrorBits);
        grads[p] = cq(linear_weight_grad(flat, e2), p);
        if (input_needs_error)
          accumulate(d.inputs[0], ErrorTensor(reshaped(linear_backward_data(e2, weight8_[p]), in.act.shape)), KnownMax{});
        break;
      }
      case OpKind::kConv: {
        const NodeValue& in = f.values[d.inputs[0]];
        const Tensor<int32_t> e2 = k.flag_quantize(ei, kErrorBits, ei_max);
        const ConvParams cp{d.stride, d.pad};
        grads[p] = cq(k.conv_weight_grad(in.act, e2, cp, params_[p].shape), p);
        if (input_needs_error) {
          KnownMax m;
          ErrorTensor dx = k.conv_backward_data(e2, weight8_[p], cp, in.act.shape, &m);
          accumulate(d.inputs[0], std::move(dx), m);
        }
        break;
      }
      case OpKind::kBnRelu: {
        const Tensor<int32_t> e1 = k.shift_quantize(ei, kErrorBits, ei_max);
        KnownMax m;
        ErrorTensor dx;
        BnBackward b = k.bn_relu_backward(e1, v.mask, v.xhat, affine_[p], v.stats, &dx, &m);
        grads[p] = std::move(b.g_gamma);
        grads[p + 1] = std::move(b.g_beta);
        if (input_needs_error) accumulate(d.inputs[0], std::move(dx), m);
        break;
      }
      case OpKind::kMaxPool:
        if (input_needs_error)
          accumulate(d.inputs[0], ErrorTensor(maxpool_backward(widened(ei, options_.threads), v.argmax,
                                                               f.values[d.inputs[0]].act.shape)),
                     KnownMax{});
        break;
      case OpKind::kAvgPool:
        if (input_needs_error)
          accumulate(d.inputs[0],
                     ErrorTensor(avgpool_backward(widened(ei, options_.threads), f.values[d.inputs[0]].act.shape,
                                                  pool_params(d), options_.threads)),
                     KnownMax{});
        break;
      case OpKind::kAdd: {
        // Inputs with an error already add this one to it; the others share it: the one
        // processed last (the lowest index) takes the tensor, the rest read it there.
        std::vector<int> fresh;
        bool distinct = true;
        for (size_t j = 0; j < d.inputs.size(); ++j)
          for (size_t j2 = 0; j2 < j; ++j2) distinct = distinct && d.inputs[j] != d.inputs[j2];
        for (const int in : d.inputs) {
          if (desc_.nodes[in].kind == OpKind::kInput) continue;
          if (distinct && err[in].empty() && shared_from[in] < 0)
            fresh.push_back(in);
          else
            accumulate(in, std::as_const(err[i]), err_max[i]);
        }
        if (!fresh.empty()) {
          unshare(i);
          const int owner = *std::min_element(fresh.begin(), fresh.end());
          accumulate(owner, std::move(err[i]), err_max[i]);
          for (const int in : fresh)
            if (in != owner) shared_from[in] = owner;
        }
        break;
      }
      case OpKind::kInput:
        break;
    }
    unshare(i);
    err[i] = {};  // free as we go
    shared_from[i] = -1;
  }

  // Update: running statistics, then every parameter, then the working copies.
  for (size_t i = 0; i < desc_.nodes.size(); ++i)
    if (desc_.nodes[i].kind == OpKind::kBnRelu) bn_update_running(running_[i], f.values[i].stats, options_.bn_decay_shift);
  for (size_t p = 0; p < params_.size(); ++p)
    (options_.reference_kernels ? momentum_update : momentum_update_fast)(states_[p], grads[p], lr_q);
  derive_working_copies();
  ++step_;
  return result;
}

// ---- checkpoints ----------------------------------------------------------------------
// Format and checks: golden/checkpoint.h, docs/checkpoint-format.md. A malformed or mismatched
// checkpoint is a CheckpointError (an InputError: the programs exit with status 2).

void IntNetwork::save(std::ostream& out, const RunConfig& config) const {
  CheckpointContents c;
  c.config = config;
  c.network_name = desc_.name;
  c.network_digest = network_digest(desc_);
  c.seed = seed_;
  c.step = step_;
  for (const ParamState& s : states_) {
    c.masters.emplace_back(s.master.data.begin(), s.master.data.end());
    c.momenta.emplace_back(s.momentum.data.begin(), s.momentum.data.end());
  }
  for (const BnRunning& r : running_) {
    c.running_mean.push_back(r.mean_acc);
    c.running_sigma.push_back(r.sigma_acc);
  }
  c.state_digest = state_digest();
  const std::string bytes = encode_checkpoint(c);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("checkpoint: write failed");
}

RunConfig IntNetwork::load(std::istream& in, const std::string& origin) {
  CheckpointContents c = read_checkpoint(in, origin);
  const auto fail = [&](const std::string& field, const std::string& what) {
    throw CheckpointError(origin + ": field '" + field + "': " + what);
  };
  if (c.network_name != desc_.name)
    fail("network", "checkpoint is of network '" + printable(c.network_name) + "', this one is '" + desc_.name + "'");
  if (c.network_digest != network_digest(desc_))
    fail("network_digest", "the checkpoint's network '" + desc_.name + "' has another structure than " + desc_.origin);
  if (c.masters.size() != states_.size())
    fail("parameters", std::to_string(c.masters.size()) + " tensors, the network has " + std::to_string(states_.size()));
  if (c.running_mean.size() != running_.size())
    fail("running", std::to_string(c.running_mean.size()) + " nodes, the network has " + std::to_string(running_.size()));
  // Restore into a copy so that a failed load leaves this network untouched.
  IntNetwork copy = *this;
  copy.seed_ = c.seed;
  copy.step_ = c.step;
  for (size_t p = 0; p < states_.size(); ++p) {
    if (c.masters[p].size() != states_[p].master.data.size())
      fail(params_[p].name, std::to_string(c.masters[p].size()) + " elements, the network has " +
                                std::to_string(states_[p].master.data.size()));
    copy.states_[p].master.data.assign(c.masters[p].begin(), c.masters[p].end());
    copy.states_[p].momentum.data.assign(c.momenta[p].begin(), c.momenta[p].end());
  }
  for (size_t i = 0; i < running_.size(); ++i) {
    if (c.running_mean[i].size() != running_[i].mean_acc.size())
      fail(desc_.nodes[i].name + ".running", std::to_string(c.running_mean[i].size()) + " channels, the network has " +
                                                 std::to_string(running_[i].mean_acc.size()));
    copy.running_[i].mean_acc = std::move(c.running_mean[i]);
    copy.running_[i].sigma_acc = std::move(c.running_sigma[i]);
  }
  if (copy.state_digest() != c.state_digest)
    fail("state_digest", "the restored state does not match the digest stored with it");
  copy.derive_working_copies();
  *this = std::move(copy);
  return std::move(c.config);
}

uint64_t IntNetwork::state_digest() const { return training_state_digest(seed_, step_, states_, running_); }

}  // namespace octet::golden
