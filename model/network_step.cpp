#include "model/network_step.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "golden/activation.h"
#include "golden/int_network.h"
#include "golden/loss.h"
#include "golden/pooling.h"
#include "golden/residual.h"
#include "model/lowering.h"
#include "model/storage_widths.h"

namespace octet::model {

using golden::NodeDesc;
using golden::OpKind;
using golden::Tensor;

namespace {

// Bytes per element of each tensor class: model/storage_widths.h, the one table.
using namespace storage;  // NOLINT: the width constants kAct, kE2, ... read as a table here
constexpr double kActBytes = kAct, kStreamBytes = kStream, kWideBytes = kWide, kE2Bytes = kE2, kE1Bytes = kE1;
constexpr double kXhatBytes = kXhat, kMaskBytes = kMask;

int64_t b(int64_t n, double bytes) { return bytes_of(n, bytes); }

Tensor<int32_t> to_int32(const Tensor<uint8_t>& a) {
  Tensor<int32_t> t(a.shape, a.exp);
  std::copy(a.data.begin(), a.data.end(), t.data.begin());
  return t;
}

template <typename T>
Tensor<T> reshaped(Tensor<T> t, golden::Shape s) {
  t.shape = std::move(s);
  return t;
}

golden::PoolParams pool_params(const NodeDesc& d) { return golden::PoolParams{d.kernel, d.stride, d.pad, d.global}; }

bool is_activation(const NodeDesc& d) { return d.value_kind == golden::ValueKind::kActivation; }

Issued one(Op* op, std::function<void()> then = nullptr) { return Issued{{op}, std::move(then)}; }

}  // namespace

void run_network_step(Units units, StepJob& job, Ledger& ledger) {
  const golden::NetworkDesc& net = *job.network;
  const StepGraph graph = build_training_step(net);
  NetworkStep step(units, job, graph, ledger);
  Scheduler scheduler(ledger, *units.arena);
  const int layers = static_cast<int>(net.nodes.size()) - 1;  // progress counts 3 passes of every node but the input
  const auto issue = [&](const StepOp& op) { return step.issue(op); };
  const auto group_done = [&](const StepGroup& g) {
        if (g.phase == StepGroup::kBackward) step.release(g);
        if (!job.progress || g.phase == StepGroup::kLoss) return;
        const std::string& name = net.nodes[static_cast<size_t>(g.node)].name;
        if (g.phase == StepGroup::kForward) job.progress(name + " forward", g.node, 3 * layers);
        if (g.phase == StepGroup::kBackward) job.progress(name + " backward", 2 * layers + 1 - g.node, 3 * layers);
        if (g.phase == StepGroup::kUpdate) job.progress(name + " update", 2 * layers + g.node, 3 * layers);
  };
  if (job.schedule == Schedule::kSerial)
    scheduler.run(graph, issue, group_done);
  else
    scheduler.run_concurrent(graph, issue, [&](const StepOp& op) { return step.accum_use(op); },
                             job.config.accum_sram_kib * 1024, group_done);
  if (job.state) ++job.state->step;
}

NetworkStep::NetworkStep(Units units, const StepJob& job, const StepGraph& graph, Ledger& ledger)
    : u_(units),
      net_(*job.network),
      graph_(graph),
      L_(ledger),
      cfg_(job.config),
      fs_(job.state),
      N_(job.batch),
      decay_lambda_(job.weight_decay_lambda),
      res_(net_, cfg_) {
  const size_t nodes = net_.nodes.size(), params = graph.params.size();
  values_.resize(nodes);
  err_.resize(nodes);
  quantized_err_.resize(nodes);
  e2_matrix_.resize(nodes);
  grad_raw_.resize(params);
  grad_raw_home_.resize(params);
  grad_fused_.assign(params, 0);
  grads_.resize(params);
  if (fs_) values_[0].act = fs_->images;
}

int64_t NetworkStep::elems(int i) const { return N_ * golden::node_elements(node(i)); }

NetworkStep::GemmDims NetworkStep::gemm_dims(int i) const {
  const NodeDesc& d = node(i);
  const bool conv = d.kind == OpKind::kConv;
  const int64_t f = conv ? node(d.inputs[0]).out_shape[0] * d.kernel * d.kernel : elems(d.inputs[0]) / N_;
  const int64_t m = conv ? N_ * d.out_shape[1] * d.out_shape[2] : N_;
  return GemmDims{f, m, d.out_channels};
}

void NetworkStep::release(const StepGroup& g) {
  if (!fs_) return;
  const auto i = static_cast<size_t>(g.node);
  err_[i] = {};
  quantized_err_[i] = {};
  e2_matrix_[i] = {};
}

Issued NetworkStep::issue(const StepOp& op) {
  Issued is = dispatch(op);
  if (step_op_unit(op.kind) == Unit::kSystolicArray)
    is.frees_unit = u_.array->second_to_last_block();
  else if (!is.ops.empty())
    is.frees_unit = is.ops.front();
  return is;
}

AccumUse NetworkStep::accum_use(const StepOp& op) const {
  using T = TensorRef;
  const int i = op.node;
  const auto holds = [](Handoff h, T t, int64_t n) {
    return h.ints ? AccumUse{AccumUse::kHolds, t, bytes_of(n, kAccumBytes)} : AccumUse{};
  };
  const auto gemm_use = [&](Handoff h, T t, int64_t n) { return h.ints ? holds(h, t, n) : AccumUse{AccumUse::kHalves, {}, 0}; };
  // An error producer's output: a part for the merge that follows, or the error itself.
  const T part = op.merges ? T{T::kErrorContribution, i, op.target} : T{T::kError, op.target};
  switch (op.kind) {
    case StepOpKind::kForwardGemm: return gemm_use(res_.value_home_if(i, elems(i)), {T::kValue, i}, elems(i));
    case StepOpKind::kWeightGradGemm: {
      const auto [f, m, co] = gemm_dims(i);
      return gemm_use(resident_if(cfg_, f * co, true, false), {T::kGradRaw, op.param}, f * co);
    }
    case StepOpKind::kBackwardDataGemm:
      return gemm_use(res_.contribution_home(i, op.target, elems(op.target), op.merges), part, elems(op.target));
    case StepOpKind::kBnBackward:
    case StepOpKind::kPoolBackward:
      if (op.target < 0) return {};
      return holds(res_.contribution_home(i, op.target, elems(op.target), op.merges), part, elems(op.target));
    case StepOpKind::kErrorMerge:
      if (!op.completes) return {};
      return holds(res_.final_home(i, op.target, elems(op.target)), {T::kError, op.target}, elems(op.target));
    case StepOpKind::kLoss: return holds(res_.final_home(-1, op.target, elems(op.target)), {T::kError, op.target}, elems(op.target));
    case StepOpKind::kErrorPassThrough:
      if (op.target != i - 1) return {};
      return holds(res_.error_home_of(i), part, elems(op.target));
    default: return {};
  }
}

Issued NetworkStep::dispatch(const StepOp& op) {
  switch (op.kind) {
    case StepOpKind::kForwardGemm: return forward_gemm(op);
    case StepOpKind::kBnForward: return bn_forward(op);
    case StepOpKind::kMaxPoolForward:
    case StepOpKind::kAvgPoolForward: return pool_forward(op);
    case StepOpKind::kResidualAdd: return residual_add(op);
    case StepOpKind::kLoss: return loss(op);
    case StepOpKind::kQuantizeE2: return quantize_error(op, SqMode::kFlag, kE2Bytes);
    case StepOpKind::kLinearBiasGrad: return linear_bias_grad(op);
    case StepOpKind::kWeightGradGemm: return weight_grad_gemm(op);
    case StepOpKind::kQuantizeGradient: return quantize_gradient(op);
    case StepOpKind::kBackwardDataGemm: return backward_data_gemm(op);
    case StepOpKind::kQuantizeE1: return quantize_error(op, SqMode::kShift, kE1Bytes);
    case StepOpKind::kBnBackward: return bn_backward(op);
    case StepOpKind::kPoolBackward: return pool_backward(op);
    case StepOpKind::kErrorPassThrough: return error_pass_through(op);
    case StepOpKind::kErrorMerge: return error_merge(op);
    case StepOpKind::kRunningStatsWriteback: return running_stats_writeback(op);
    case StepOpKind::kOptimizerUpdate: return optimizer_update(op);
    case StepOpKind::kQuantizeActivation: break;  // topology rows only
  }
  throw std::logic_error("network step: unknown operation");
}

std::vector<Op*> NetworkStep::gemm(int rec, const GemmShape& s, double out_bytes, GemmData* data, Handoff keep) {
  return u_.array->issue_gemm(*u_.dram, cfg_, rec, s, out_bytes, data, keep);
}

Op* NetworkStep::vector(int rec, int64_t n, ElementActions per, const VuShape& shape, StreamTraffic t,
                        std::function<VuJob()> job, std::function<void(VuOutcome&)> done) {
  if (!fs_) job = nullptr, done = nullptr;
  return u_.vu->run(rec, n, per, shape, t, std::move(job), std::move(done));
}

VuShape NetworkStep::pool_shape(int i, VuOp op) const {
  const NodeDesc& d = node(i);
  const golden::Shape& s = node(d.inputs[0]).out_shape;  // {C, H, W}
  VuShape v;
  v.op = op;
  v.in = {N_, s[0], s[1], s[2]};
  v.pool = pool_params(d);
  return v;
}

void NetworkStep::contribute(const StepOp& op, Tensor<int64_t> e, Handoff home) {
  if (op.merges) {
    parts_[{op.node, op.target}] = ErrorPart{std::move(e), home};
    return;
  }
  res_.error_home(op.target) = home;
  if (fs_) err_[static_cast<size_t>(op.target)] = std::move(e);
}

// ---- forward ---------------------------------------------------------------------------------

Issued NetworkStep::forward_gemm(const StepOp& op) {
  const int i = op.node, p = op.param;
  const NodeDesc& d = node(i);
  const NodeValue& iv = values_[static_cast<size_t>(d.inputs[0])];
  const Handoff keep = res_.decide_value_home(i, elems(i));
  if (d.kind == OpKind::kConv) {
    const int64_t ho = d.out_shape[1], wo = d.out_shape[2], ci = node(d.inputs[0]).out_shape[0];
    GemmShape s{N_ * ho * wo, ci * d.kernel * d.kernel, d.out_channels, 1, kActBytes, 1};
    s.x_reuse = window_reuse(d.kernel, d.kernel, d.stride, d.stride);
    if (!fs_) return Issued{gemm(op.record, s, kStreamBytes, nullptr, keep), nullptr};
    const golden::ConvParams cp{d.stride, d.pad};
    const golden::Shape os{N_, d.out_channels, ho, wo};
    auto g = std::make_shared<GemmData>();
    g->kind = GemmKind::kForward;
    g->act = im2col(iv.act, d.kernel, cp, os);
    g->weight = weight_matrix(fs_->weight8[static_cast<size_t>(p)]);
    g->out = Tensor<int64_t>({s.m, s.n}, g->act.exp + g->weight.exp);
    return Issued{gemm(op.record, s, kStreamBytes, g.get(), keep), [this, g, i, os] {
                    values_[static_cast<size_t>(i)].wide = narrow_checked(rows_to_nchw(g->out, os), "conv forward");
                  }};
  }
  const int64_t f = elems(d.inputs[0]) / N_;
  const GemmShape s{N_, f, d.out_channels, 1, kActBytes, 1};
  if (!fs_) return Issued{gemm(op.record, s, kStreamBytes, nullptr, keep), nullptr};
  auto g = std::make_shared<GemmData>();
  g->kind = GemmKind::kForward;
  g->act = reshaped(iv.act, {N_, f});
  g->weight = weight_matrix(fs_->weight8[static_cast<size_t>(p)]);
  g->out = Tensor<int64_t>({s.m, s.n}, g->act.exp + g->weight.exp);
  return Issued{gemm(op.record, s, kStreamBytes, g.get(), keep), [this, g, i, p, s] {
                  // The bias is preloaded into the accumulators (on the output grid, as golden linear_forward).
                  const Tensor<int32_t>& bias = fs_->bias[static_cast<size_t>(p + 1)];
                  if (bias.exp != g->out.exp) throw std::logic_error("linear: bias is not on the output grid");
                  for (int64_t r = 0; r < N_; ++r)
                    for (int64_t o = 0; o < s.n; ++o)
                      g->out.data[static_cast<size_t>(r * s.n + o)] += bias.data[static_cast<size_t>(o)];
                  values_[static_cast<size_t>(i)].wide = narrow_checked(g->out, "linear forward");
                }};
}

Issued NetworkStep::bn_forward(const StepOp& op) {
  const int i = op.node, p = op.param;
  const NodeDesc& d = node(i);
  const int src = d.inputs[0];
  const int64_t n_out = elems(i), n_in = elems(src);
  const double in_b = is_activation(node(src)) ? kActBytes : kStreamBytes;
  // Two passes over the input (statistics, normalise); A, x̂ and the mask to DRAM.
  const StreamTraffic t = Io{}.in(n_in, in_b, kFp32, 2, res_.value_home(src))
                              .dram(0, b(n_out, kActBytes + kXhatBytes + kMaskBytes), 0, b(n_out, 2 * kFp32 + kFp32Mask)).t;
  std::function<BnForwardJob()> jb;
  std::function<void(BnForwardOutcome&)> done;
  if (fs_) {
    jb = [this, i, p, src] {
      const NodeValue& iv = values_[static_cast<size_t>(src)];
      return BnForwardJob{is_activation(node(src)) ? to_int32(iv.act) : iv.wide, fs_->affine[static_cast<size_t>(p)],
                          fs_->affine[static_cast<size_t>(p + 1)], fs_->running[static_cast<size_t>(i)],
                          fs_->bn_decay_shift};
    };
    done = [this, i](BnForwardOutcome& o) {
      NodeValue& v = values_[static_cast<size_t>(i)];
      v.stats = std::move(o.stats);
      v.running = std::move(o.running);
      v.xhat = std::move(o.xhat);
      v.act = std::move(o.act);
      v.mask = std::move(o.mask);
    };
  }
  return one(u_.bn->forward(op.record, n_in, d.out_shape[0], t, jb, done));
}

Issued NetworkStep::pool_forward(const StepOp& op) {
  const int i = op.node;
  const NodeDesc& d = node(i);
  const int src = d.inputs[0];
  const int64_t n_out = elems(i), n_in = elems(src);
  const bool mx = op.kind == StepOpKind::kMaxPoolForward;
  const StreamTraffic t = mx ? Io{}.dram(b(n_in, kActBytes), b(n_out, kActBytes + kPoolIndex), b(n_in, kFp32), b(n_out, kFp32 + kFp32PoolIndex)).t
                             : Io{}.dram(b(n_in, kActBytes), b(n_out, kActBytes), b(n_in, kFp32), b(n_out, kFp32)).t;
  return one(vector(op.record, n_in, {mx ? 0 : 1, mx ? 1 : 0, 0}, pool_shape(i, mx ? VuOp::kMaxPool : VuOp::kAvgPool), t,
                    [this, src] {
                      VuJob j;
                      j.act = values_[static_cast<size_t>(src)].act;
                      return j;
                    },
                    [this, i](VuOutcome& o) {
                      NodeValue& v = values_[static_cast<size_t>(i)];
                      v.act = std::move(o.act);
                      v.argmax = std::move(o.argmax);
                    }));
}

Issued NetworkStep::residual_add(const StepOp& op) {
  const int i = op.node;
  const NodeDesc& d = node(i);
  const int a = d.inputs[0], c = d.inputs[1];
  const int64_t n_out = elems(i);
  const StreamTraffic t = Io{}.in(n_out, is_activation(node(a)) ? kActBytes : kStreamBytes, kFp32, 1, res_.value_home(a))
                              .in(n_out, is_activation(node(c)) ? kActBytes : kStreamBytes, kFp32, 1, res_.value_home(c))
                              .out(n_out, kStreamBytes, kFp32).t;
  VuShape shape;
  shape.op = VuOp::kResidualAdd;
  shape.n = n_out;
  return one(vector(op.record, n_out, {1, 0, 0}, shape, t,
                    [this, a, c] {
                      const NodeValue& va = values_[static_cast<size_t>(a)];
                      const NodeValue& vc = values_[static_cast<size_t>(c)];
                      VuJob j;
                      j.a32 = is_activation(node(a)) ? to_int32(va.act) : va.wide;
                      j.b32 = is_activation(node(c)) ? to_int32(vc.act) : vc.wide;
                      return j;
                    },
                    [this, i](VuOutcome& o) { values_[static_cast<size_t>(i)].wide = std::move(o.out32); }));
}

Issued NetworkStep::loss(const StepOp& op) {
  const int out = op.target;
  const int64_t n = elems(out);
  // Integer softmax: max, table lookups, sum, division per class.
  res_.error_home(out) = res_.final_home(-1, out, n);
  const StreamTraffic t =
      Io{}.in(n, kStreamBytes, kFp32, 1, res_.value_home(out)).out(n, kWideBytes, kFp32, res_.error_home(out)).t;
  VuShape shape;
  shape.op = VuOp::kLoss;
  shape.rows = N_;
  shape.cols = n / N_;
  return one(vector(op.record, n, {2, 1, 1}, shape, t,
                    [this, out] {
                      VuJob j;
                      j.a32 = values_[static_cast<size_t>(out)].wide;
                      j.labels = fs_->labels;
                      return j;
                    },
                    [this, out](VuOutcome& o) { err_[static_cast<size_t>(out)] = std::move(o.out64); }));
}

}  // namespace octet::model
