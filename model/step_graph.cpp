#include "model/step_graph.h"

#include <algorithm>

namespace octet::model {

using golden::NodeDesc;
using golden::OpKind;

const char* step_op_kind_name(StepOpKind k) {
  switch (k) {
    case StepOpKind::kForwardGemm: return "forward_gemm";
    case StepOpKind::kBnForward: return "bn_forward";
    case StepOpKind::kMaxPoolForward: return "maxpool_forward";
    case StepOpKind::kAvgPoolForward: return "avgpool_forward";
    case StepOpKind::kResidualAdd: return "residual_add";
    case StepOpKind::kLoss: return "loss";
    case StepOpKind::kQuantizeE2: return "quantize_e2";
    case StepOpKind::kLinearBiasGrad: return "linear_bias_grad";
    case StepOpKind::kWeightGradGemm: return "wgrad_gemm";
    case StepOpKind::kQuantizeGradient: return "quantize_gradient";
    case StepOpKind::kBackwardDataGemm: return "backward_gemm";
    case StepOpKind::kQuantizeE1: return "quantize_e1";
    case StepOpKind::kBnBackward: return "bn_backward";
    case StepOpKind::kPoolBackward: return "pool_backward";
    case StepOpKind::kErrorPassThrough: return "error_pass_through";
    case StepOpKind::kErrorMerge: return "error_merge";
    case StepOpKind::kRunningStatsWriteback: return "running_stats_writeback";
    case StepOpKind::kOptimizerUpdate: return "optimizer_update";
    case StepOpKind::kQuantizeActivation: return "quantize_activation";
  }
  return "?";
}

Unit step_op_unit(StepOpKind k) {
  switch (k) {
    case StepOpKind::kForwardGemm:
    case StepOpKind::kWeightGradGemm:
    case StepOpKind::kBackwardDataGemm: return Unit::kSystolicArray;
    case StepOpKind::kQuantizeE2:
    case StepOpKind::kQuantizeE1:
    case StepOpKind::kQuantizeGradient:
    case StepOpKind::kQuantizeActivation: return Unit::kShiftQuantizer;
    case StepOpKind::kOptimizerUpdate: return Unit::kOptimizerUnit;
    case StepOpKind::kMaxPoolForward:
    case StepOpKind::kAvgPoolForward:
    case StepOpKind::kResidualAdd:
    case StepOpKind::kLoss:
    case StepOpKind::kLinearBiasGrad:
    case StepOpKind::kPoolBackward:
    case StepOpKind::kErrorMerge: return Unit::kVectorUnit;
    case StepOpKind::kErrorPassThrough: return Unit::kCount;
    default: return Unit::kBnUnit;  // the BN passes and the running statistics' write-back
  }
}

std::string tensor_name(const TensorRef& t, const golden::NetworkDesc& net) {
  const auto node = [&](int i) { return net.nodes[static_cast<size_t>(i)].name; };
  switch (t.kind) {
    case TensorRef::kValue: return "value(" + node(t.index) + ")";
    case TensorRef::kBnSaved: return "bn_saved(" + node(t.index) + ")";
    case TensorRef::kRunning: return "running(" + node(t.index) + ")";
    case TensorRef::kArgmax: return "argmax(" + node(t.index) + ")";
    case TensorRef::kError: return "error(" + node(t.index) + ")";
    case TensorRef::kErrorContribution: return "error_part(" + node(t.index) + "->" + node(t.target) + ")";
    case TensorRef::kE2: return "e2(" + node(t.index) + ")";
    case TensorRef::kE1: return "e1(" + node(t.index) + ")";
    case TensorRef::kGradRaw: return "grad_raw(" + std::to_string(t.index) + ")";
    case TensorRef::kGrad: return "grad(" + std::to_string(t.index) + ")";
    case TensorRef::kParam: return "param(" + std::to_string(t.index) + ")";
  }
  return "?";
}

namespace {

using T = TensorRef;

struct Walk {
  const golden::NetworkDesc& net;
  StepGraph g;
  std::vector<int> consumers, arrived;  // per node: readers of its value; error contributions so far

  explicit Walk(const golden::NetworkDesc& n) : net(n) {
    const size_t nodes = net.nodes.size();
    consumers.assign(nodes, 0);
    arrived.assign(nodes, 0);
    for (const NodeDesc& d : net.nodes)
      for (int in : d.inputs) ++consumers[static_cast<size_t>(in)];
    g.params = golden::network_params(net);
    g.first_param.assign(nodes, -1);
    for (size_t p = 0; p < g.params.size(); ++p) {
      int& f = g.first_param[static_cast<size_t>(g.params[p].node)];
      if (f < 0) f = static_cast<int>(p);
    }
  }

  const NodeDesc& node(int i) const { return net.nodes[static_cast<size_t>(i)]; }

  int open(const std::string& layer, const std::string& kind, Pass pass) {
    g.records.push_back(RecordDesc{layer, kind, pass});
    return static_cast<int>(g.records.size()) - 1;
  }
  StepOp& add(StepOpKind kind, int i, int rec, std::vector<TensorRef> reads, std::vector<TensorRef> writes) {
    StepOp op;
    op.kind = kind;
    op.node = i;
    op.param = i >= 0 ? g.first_param[static_cast<size_t>(i)] : -1;
    op.record = rec;
    op.reads = std::move(reads);
    op.writes = std::move(writes);
    g.ops.push_back(std::move(op));
    return g.ops.back();
  }
  void group(StepGroup::Phase phase, int i, int first) {
    g.groups.push_back(StepGroup{phase, i, first, static_cast<int>(g.ops.size())});
  }
  int next() const { return static_cast<int>(g.ops.size()); }

  // Node i's contribution to err[target], made by `kind`: written as the error itself when it
  // is the first to arrive, else as a part that a merge operation then adds.
  void contribute(StepOpKind kind, int i, int rec, std::vector<TensorRef> reads, std::vector<TensorRef> writes,
                  int target) {
    const auto ut = static_cast<size_t>(target);
    const bool merges = arrived[ut]++ > 0;
    const bool completes = arrived[ut] == consumers[ut];
    const T part = merges ? T{T::kErrorContribution, i, target} : T{T::kError, target};
    writes.push_back(part);
    StepOp& op = add(kind, i, rec, std::move(reads), std::move(writes));
    op.target = target;
    op.merges = merges;
    op.completes = completes;
    if (!merges) return;
    StepOp& m = add(StepOpKind::kErrorMerge, i, rec, {part, T{T::kError, target}}, {T{T::kError, target}});
    m.target = target;
    m.merges = true;
    m.completes = completes;
  }

  void forward(int i) {
    const NodeDesc& d = node(i);
    const int p = g.first_param[static_cast<size_t>(i)];
    const int rec = open(d.name, golden::op_name(d.kind), Pass::kForward);
    const T in{T::kValue, d.inputs[0]}, out{T::kValue, i};
    switch (d.kind) {
      case OpKind::kConv: add(StepOpKind::kForwardGemm, i, rec, {in, {T::kParam, p}}, {out}); return;
      case OpKind::kLinear: add(StepOpKind::kForwardGemm, i, rec, {in, {T::kParam, p}, {T::kParam, p + 1}}, {out}); return;
      case OpKind::kBnRelu:
        add(StepOpKind::kBnForward, i, rec, {in, {T::kParam, p}, {T::kParam, p + 1}, {T::kRunning, i}},
            {out, {T::kBnSaved, i}, {T::kRunning, i}});
        return;
      case OpKind::kMaxPool: add(StepOpKind::kMaxPoolForward, i, rec, {in}, {out, {T::kArgmax, i}}); return;
      case OpKind::kAvgPool: add(StepOpKind::kAvgPoolForward, i, rec, {in}, {out}); return;
      case OpKind::kAdd: add(StepOpKind::kResidualAdd, i, rec, {in, {T::kValue, d.inputs[1]}}, {out}); return;
      case OpKind::kInput: return;
    }
  }

  void loss() {
    const int rec = open("loss", "loss", Pass::kForward);
    const int out = net.output;
    StepOp& op = add(StepOpKind::kLoss, -1, rec, {{T::kValue, out}}, {{T::kError, out}});
    op.target = out;
  }

  void backward(int i) {
    const NodeDesc& d = node(i);
    const int p = g.first_param[static_cast<size_t>(i)];
    const int src = d.inputs[0];
    const bool need = node(src).kind != OpKind::kInput;
    const T err{T::kError, i};
    switch (d.kind) {
      case OpKind::kConv:
      case OpKind::kLinear: {
        const int rec_b = open(d.name, golden::op_name(d.kind), Pass::kBackwardData);
        const T e2{T::kE2, i};
        add(StepOpKind::kQuantizeE2, i, rec_b, {err}, {e2});
        if (d.kind == OpKind::kLinear) add(StepOpKind::kLinearBiasGrad, i, rec_b, {err}, {{T::kGrad, p + 1}});
        // Weight gradient before backward data (independent given E2), so that the raw E1 is
        // the last thing this node produces and can stay on chip for the next node.
        const int rec_w = open(d.name, golden::op_name(d.kind), Pass::kWeightGrad);
        add(StepOpKind::kWeightGradGemm, i, rec_w, {{T::kValue, src}, e2}, {{T::kGradRaw, p}});
        add(StepOpKind::kQuantizeGradient, i, rec_w, {{T::kGradRaw, p}, {T::kParam, p}}, {{T::kGrad, p}});
        if (need) contribute(StepOpKind::kBackwardDataGemm, i, rec_b, {e2, {T::kParam, p}}, {}, src);
        return;
      }
      case OpKind::kBnRelu: {
        const int rec = open(d.name, "bnrelu", Pass::kBackwardData);
        const T e1{T::kE1, i};
        add(StepOpKind::kQuantizeE1, i, rec, {err}, {e1});
        std::vector<T> reads{e1, {T::kBnSaved, i}, {T::kParam, p}}, writes{{T::kGrad, p}, {T::kGrad, p + 1}};
        if (need)
          contribute(StepOpKind::kBnBackward, i, rec, reads, writes, src);
        else
          add(StepOpKind::kBnBackward, i, rec, reads, writes);
        return;
      }
      case OpKind::kMaxPool:
      case OpKind::kAvgPool: {
        const int rec = open(d.name, golden::op_name(d.kind), Pass::kBackwardData);
        if (!need) return;
        std::vector<T> reads{err};
        if (d.kind == OpKind::kMaxPool) reads.push_back({T::kArgmax, i});
        contribute(StepOpKind::kPoolBackward, i, rec, reads, {}, src);
        return;
      }
      case OpKind::kAdd: {
        const int rec = open(d.name, "add", Pass::kBackwardData);
        for (int s : d.inputs)
          if (node(s).kind != OpKind::kInput) contribute(StepOpKind::kErrorPassThrough, i, rec, {err}, {}, s);
        return;
      }
      case OpKind::kInput: return;
    }
  }

  void update(int i) {
    const NodeDesc& d = node(i);
    const int p = g.first_param[static_cast<size_t>(i)];
    if (p < 0) return;
    const int rec = open(d.name, golden::op_name(d.kind), Pass::kUpdate);
    if (d.kind == OpKind::kBnRelu) add(StepOpKind::kRunningStatsWriteback, i, rec, {{T::kRunning, i}}, {{T::kRunning, i}});
    for (size_t q = static_cast<size_t>(p); q < g.params.size() && g.params[q].node == i; ++q) {
      const int qi = static_cast<int>(q);
      StepOp& op = add(StepOpKind::kOptimizerUpdate, i, rec, {{T::kGrad, qi}, {T::kParam, qi}}, {{T::kParam, qi}});
      op.param = qi;
    }
  }

};

}  // namespace

// Each operation follows the last writer of what it reads or writes (read after write,
// write after write) and every reader since that write of what it writes (write after read).
void link_dependencies(StepGraph& g) {
  struct Uses {
    TensorRef t;
    int writer = -1;
    std::vector<int> readers;
  };
  std::vector<Uses> uses;
  const auto find = [&](const TensorRef& t) -> Uses& {
    for (Uses& u : uses)
      if (u.t == t) return u;
    uses.push_back(Uses{t, -1, {}});
    return uses.back();
  };
  for (int k = 0; k < static_cast<int>(g.ops.size()); ++k) {
    StepOp& op = g.ops[static_cast<size_t>(k)];
    for (const TensorRef& t : op.reads) {
      Uses& u = find(t);
      if (u.writer >= 0) op.deps.push_back(u.writer);
    }
    for (const TensorRef& t : op.writes) {
      Uses& u = find(t);
      if (u.writer >= 0) op.deps.push_back(u.writer);
      op.deps.insert(op.deps.end(), u.readers.begin(), u.readers.end());
    }
    for (const TensorRef& t : op.reads) find(t).readers.push_back(k);
    for (const TensorRef& t : op.writes) {
      Uses& u = find(t);
      u.writer = k;
      u.readers.clear();
    }
    std::sort(op.deps.begin(), op.deps.end());
    op.deps.erase(std::unique(op.deps.begin(), op.deps.end()), op.deps.end());
    op.deps.erase(std::remove(op.deps.begin(), op.deps.end(), k), op.deps.end());
  }
}

StepGraph build_training_step(const golden::NetworkDesc& net) {
  Walk w(net);
  const int nodes = static_cast<int>(net.nodes.size());
  for (int i = 1; i < nodes; ++i) {
    const int first = w.next();
    w.forward(i);
    w.group(StepGroup::kForward, i, first);
  }
  {
    const int first = w.next();
    w.loss();
    w.group(StepGroup::kLoss, -1, first);
  }
  for (int i = nodes - 1; i >= 1; --i) {
    const int first = w.next();
    w.backward(i);
    w.group(StepGroup::kBackward, i, first);
  }
  for (int i = 1; i < nodes; ++i) {
    const int first = w.next();
    w.update(i);
    w.group(StepGroup::kUpdate, i, first);
  }
  link_dependencies(w.g);
  return std::move(w.g);
}

}  // namespace octet::model
