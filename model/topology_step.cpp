#include "model/topology_step.h"

#include <algorithm>
#include <initializer_list>
#include <stdexcept>
#include <string>

#include "model/storage_widths.h"

namespace octet::model {

namespace {

using namespace storage;  // NOLINT: the width constants kAct, kE2, ... read as a table here
constexpr double kActBytes = kAct, kStreamBytes = kStream, kWideBytes = kWide, kE2Bytes = kE2;

int64_t b(int64_t n, double bytes) { return bytes_of(n, bytes); }

// A product of a topology row's sizes, refused (std::overflow_error naming the row) if it leaves int64.
int64_t row_product(const std::string& row, std::initializer_list<int64_t> factors) {
  int64_t p = 1;
  for (int64_t f : factors)
    if (__builtin_mul_overflow(p, f, &p))
      throw std::overflow_error("topology row '" + row + "': its sizes multiply beyond 64 bits");
  return p;
}
// The schedule counts at most 16 actions or bytes per MAC; every other count of a row (elements,
// weights) is at most its MAC count. So once this product fits, none of them can wrap.
void check_row_macs(const std::string& row, const GemmShape& g) { row_product(row, {g.m, g.d, g.n, g.groups, 16}); }

// A topology row as the step sees it.
struct Layer {
  std::string name, kind;
  GemmShape fwd;     // M x D x N
  int64_t in_elems;  // layer input elements (batch included)
};

std::vector<Layer> topology_layers(const Topology& t, int64_t N) {
  std::vector<Layer> layers;
  for (const ConvLayerSpec& c : t.conv) {
    const int64_t oh = c.ofmap_h(), ow = c.ofmap_w();
    Layer l{c.name, "conv", {}, row_product(c.name, {N, c.ifmap_h, c.ifmap_w, c.channels})};
    const int64_t m = row_product(c.name, {N, oh, ow});
    if (c.depthwise)
      l.fwd = GemmShape{m, row_product(c.name, {c.filter_h, c.filter_w}), 1, c.channels, kActBytes, 1};
    else
      l.fwd = GemmShape{m, row_product(c.name, {c.filter_h, c.filter_w, c.channels}), c.num_filter, 1, kActBytes, 1};
    l.fwd.x_reuse = window_reuse(c.filter_h, c.filter_w, c.stride_h, c.stride_w);
    check_row_macs(c.name, l.fwd);
    layers.push_back(l);
  }
  for (const GemmLayerSpec& g : t.gemm) {
    layers.push_back(Layer{g.name, "gemm", GemmShape{g.m, g.k, g.n, 1, kActBytes, 1}, row_product(g.name, {g.m, g.k})});
    check_row_macs(g.name, layers.back().fwd);
  }
  return layers;
}

// The concurrent schedule of a topology's step (model/scheduler.h): the same operations as
// the serial one, as a graph of what each reads and writes. Row r (1-based; 0: the batch):
// forward GEMM reads act(r-1) and the weights and writes raw(r), Q reads raw(r) and writes
// act(r); E2 reads err(r) (and, for the last row, act(r): the loss error needs the output),
// the weight-gradient GEMM reads act(r-1) and e2(r), CQ the raw gradient and the weights
// (weight decay), the backward-data GEMM e2(r) and the weights and writes err(r-1); the
// update reads grad(r) and writes the weights.
void run_topology_concurrent(Units u, StepJob& job, Ledger& L, const std::vector<Layer>& layers) {
  const AccelConfig& cfg = job.config;
  const int total = static_cast<int>(layers.size());
  using T = TensorRef;
  const auto act = [](int r) { return T{T::kValue, r}; };
  const auto raw = [](int r) { return T{T::kBnSaved, r}; };  // a row's raw GEMM output
  const auto err = [](int r) { return T{T::kError, r}; };
  const auto e2 = [](int r) { return T{T::kE2, r}; };
  const auto graw = [](int r) { return T{T::kGradRaw, r}; };
  const auto grad = [](int r) { return T{T::kGrad, r}; };
  const auto param = [](int r) { return T{T::kParam, r}; };
  StepGraph g;
  std::vector<int> rec_f(static_cast<size_t>(total)), rec_b(rec_f), rec_w(rec_f), rec_u(rec_f);
  const auto open = [&](const Layer& l, Pass p) {
    g.records.push_back(RecordDesc{l.name, l.kind, p});
    return static_cast<int>(g.records.size()) - 1;
  };
  const auto add = [&](StepOpKind kind, int i, int rec, std::vector<T> reads, std::vector<T> writes) {
    StepOp op;
    op.kind = kind;
    op.node = i;
    op.record = rec;
    op.reads = std::move(reads);
    op.writes = std::move(writes);
    g.ops.push_back(std::move(op));
  };
  const auto group = [&](StepGroup::Phase ph, int i, int first) {
    g.groups.push_back(StepGroup{ph, i, first, static_cast<int>(g.ops.size())});
  };
  for (int i = 0; i < total; ++i) {
    const int r = i + 1, first = static_cast<int>(g.ops.size());
    rec_f[static_cast<size_t>(i)] = open(layers[static_cast<size_t>(i)], Pass::kForward);
    add(StepOpKind::kForwardGemm, i, rec_f[static_cast<size_t>(i)], {act(r - 1), param(r)}, {raw(r)});
    add(StepOpKind::kQuantizeActivation, i, rec_f[static_cast<size_t>(i)], {raw(r)}, {act(r)});
    group(StepGroup::kForward, i, first);
  }
  for (int i = total - 1; i >= 0; --i) {
    const int r = i + 1, first = static_cast<int>(g.ops.size());
    const auto ui = static_cast<size_t>(i);
    rec_b[ui] = open(layers[ui], Pass::kBackwardData);
    std::vector<T> e2_reads{err(r)};
    if (i == total - 1) e2_reads.push_back(act(r));
    add(StepOpKind::kQuantizeE2, i, rec_b[ui], e2_reads, {e2(r)});
    rec_w[ui] = open(layers[ui], Pass::kWeightGrad);
    add(StepOpKind::kWeightGradGemm, i, rec_w[ui], {act(r - 1), e2(r)}, {graw(r)});
    add(StepOpKind::kQuantizeGradient, i, rec_w[ui], {graw(r), param(r)}, {grad(r)});
    if (i > 0) add(StepOpKind::kBackwardDataGemm, i, rec_b[ui], {e2(r), param(r)}, {err(r - 1)});
    group(StepGroup::kBackward, i, first);
  }
  for (int i = 0; i < total; ++i) {
    const int r = i + 1, first = static_cast<int>(g.ops.size());
    rec_u[static_cast<size_t>(i)] = open(layers[static_cast<size_t>(i)], Pass::kUpdate);
    add(StepOpKind::kOptimizerUpdate, i, rec_u[static_cast<size_t>(i)], {grad(r), param(r)}, {param(r)});
    group(StepGroup::kUpdate, i, first);
  }
  link_dependencies(g);

  // Shapes and where each handed-over tensor lives, as in the serial schedule.
  const auto out_of = [&](int i) {
    const GemmShape& f = layers[static_cast<size_t>(i)].fwd;
    return f.m * f.n * f.groups;
  };
  const auto w_of = [&](int i) {
    const GemmShape& f = layers[static_cast<size_t>(i)].fwd;
    return f.d * f.n * f.groups;
  };
  const auto out_keep = [&](int i) { return resident_if(cfg, out_of(i), true, false); };
  const auto grad_keep = [&](int i) { return resident_if(cfg, w_of(i), true, false); };
  const auto err_home = [&](int i) { return i == total - 1 ? Handoff{} : out_keep(i); };  // the loss error: DRAM
  const bool decay = job.weight_decay_lambda >= 0;
  const auto issue = [&](const StepOp& op) {
    const int i = op.node, rec = op.record;
    const Layer& l = layers[static_cast<size_t>(i)];
    Issued is;
    const auto sq = [&](SqMode mode, int64_t n, double in_b, double out_b, Handoff home) {
      is.ops = {u.sq->quantize(rec, mode, n, quantize_traffic(mode, n, in_b, out_b, home), nullptr, nullptr)};
    };
    switch (op.kind) {
      case StepOpKind::kForwardGemm: is.ops = u.array->issue_gemm(*u.dram, cfg, rec, l.fwd, kStreamBytes, nullptr, out_keep(i)); break;
      case StepOpKind::kQuantizeActivation: sq(SqMode::kDirect, out_of(i), kStreamBytes, kActBytes, out_keep(i)); break;
      case StepOpKind::kQuantizeE2: sq(SqMode::kFlag, out_of(i), kWideBytes, kE2Bytes, err_home(i)); break;
      case StepOpKind::kWeightGradGemm: {
        GemmShape sw{l.fwd.d, l.fwd.m, l.fwd.n, l.fwd.groups, kActBytes, kE2Bytes};
        sw.x_reuse = l.fwd.x_reuse;
        is.ops = u.array->issue_gemm(*u.dram, cfg, rec, sw, kWideBytes, nullptr, grad_keep(i));
        break;
      }
      case StepOpKind::kQuantizeGradient: {
        const int64_t n = w_of(i);
        const StreamTraffic t = gradient_quantize_traffic(n, kWideBytes, kWeightGrad, grad_keep(i), false, decay);
        is.ops = {u.sq->quantize(rec, SqMode::kConstant, n, t, nullptr, nullptr, false, decay)};
        break;
      }
      case StepOpKind::kBackwardDataGemm: {
        GemmShape s{l.fwd.m, l.fwd.n, l.fwd.d, l.fwd.groups, kE2Bytes, 1};
        s.out_reuse = l.fwd.x_reuse;
        is.ops = u.array->issue_gemm(*u.dram, cfg, rec, s, kWideBytes, nullptr, out_keep(i - 1));
        break;
      }
      case StepOpKind::kOptimizerUpdate: {
        const int64_t w = w_of(i);
        const ParamWidths pw = param_widths(golden::ParamDesc::kWeight);
        const StreamTraffic tr{b(w, pw.master + pw.momentum + pw.grad), b(w, pw.master + pw.momentum + pw.working),
                               b(w, 3 * kFp32), b(w, 2 * kFp32)};
        is.ops = {u.opt->update(rec, w, tr, nullptr, nullptr)};
        break;
      }
      default: throw std::logic_error("topology step: unexpected operation");
    }
    is.frees_unit = step_op_unit(op.kind) == Unit::kSystolicArray ? u.array->second_to_last_block() : is.ops.front();
    return is;
  };
  const auto accum = [&](const StepOp& op) {
    const int i = op.node;
    const auto gemm_use = [](Handoff h, T t, int64_t n) {
      return h.ints ? AccumUse{AccumUse::kHolds, t, bytes_of(n, kAccumBytes)} : AccumUse{AccumUse::kHalves, {}, 0};
    };
    switch (op.kind) {
      case StepOpKind::kForwardGemm: return gemm_use(out_keep(i), raw(i + 1), out_of(i));
      case StepOpKind::kWeightGradGemm: return gemm_use(grad_keep(i), graw(i + 1), w_of(i));
      case StepOpKind::kBackwardDataGemm: return gemm_use(out_keep(i - 1), err(i), out_of(i - 1));
      default: return AccumUse{};
    }
  };
  Scheduler sched(L, *u.arena);
  sched.run_concurrent(g, issue, accum, cfg.accum_sram_kib * 1024, [&](const StepGroup& gr) {
    if (!job.progress) return;
    const std::string& name = layers[static_cast<size_t>(gr.node)].name;
    if (gr.phase == StepGroup::kForward) job.progress(name + " forward", gr.node + 1, 3 * total);
    if (gr.phase == StepGroup::kBackward) job.progress(name + " backward", 2 * total - gr.node, 3 * total);
    if (gr.phase == StepGroup::kUpdate) job.progress(name + " update", 2 * total + gr.node + 1, 3 * total);
  });
}

}  // namespace

void run_single_gemm(Units u, StepJob& job, Ledger& L) {
  Scheduler sched(L, *u.arena);
  const int rec = L.open("gemm", "gemm", Pass::kForward);
  std::vector<Op*> computes;
  sched.stage(rec, [&] { return u.array->issue_gemm(*u.dram, job.config, rec, *job.gemm, kStreamBytes, nullptr, {}, &computes); });
  sc_core::sc_time first = computes.front()->started, last = computes.front()->done_at;
  for (const Op* op : computes) {
    first = std::min(first, op->started);
    last = std::max(last, op->done_at);
  }
  if (job.gemm_span) *job.gemm_span = time_to_cycles(last - first);
}

void run_topology_step(Units u, StepJob& job, Ledger& L) {
  const Topology& t = *job.topology;
  const AccelConfig& cfg = job.config;
  const int64_t N = job.batch;
  Scheduler sched(L, *u.arena);
  const auto gemm = [&](int rec, const GemmShape& s, double out_bytes, Handoff keep) {
    sched.stage(rec, [&] { return u.array->issue_gemm(*u.dram, cfg, rec, s, out_bytes, nullptr, keep); });
  };
  const auto sq = [&](int rec, SqMode mode, int64_t n, double in_bytes, double out_bytes, Handoff home) {
    const StreamTraffic tr = quantize_traffic(mode, n, in_bytes, out_bytes, home);
    sched.stage(rec, [&] { return std::vector<Op*>{u.sq->quantize(rec, mode, n, tr, nullptr, nullptr)}; });
  };
  const std::vector<Layer> layers = topology_layers(t, N);
  if (job.schedule == Schedule::kConcurrent) return run_topology_concurrent(u, job, L, layers);
  const int total = static_cast<int>(layers.size());
  for (int i = 0; i < total; ++i) {
    const Layer& l = layers[static_cast<size_t>(i)];
    const int64_t out = l.fwd.m * l.fwd.n * l.fwd.groups;
    const int rec = L.open(l.name, l.kind, Pass::kForward);
    // Q to 8-bit activations streams the raw output from the accumulator SRAM when it fits
    // (FP32: the next layer's GEMM reads the output as an operand, through DRAM).
    const Handoff keep = resident_if(cfg, out, true, false);
    gemm(rec, l.fwd, kStreamBytes, keep);
    sq(rec, SqMode::kDirect, out, kStreamBytes, kActBytes, keep);
    if (job.progress) job.progress(l.name + " forward", i + 1, 3 * total);
  }
  Handoff err_in;  // where the error at the current row's output is
  for (int i = total - 1; i >= 0; --i) {
    const Layer& l = layers[static_cast<size_t>(i)];
    const int64_t out = l.fwd.m * l.fwd.n * l.fwd.groups;
    const int rec_b = L.open(l.name, l.kind, Pass::kBackwardData);
    sq(rec_b, SqMode::kFlag, out, kWideBytes, kE2Bytes, err_in);  // the loss error: DRAM
    // Weight gradient first, so that the backward-data result (the previous row's error)
    // is produced last and can stay on chip for that row's E2 (as in the network schedule).
    const int rec_w = L.open(l.name, l.kind, Pass::kWeightGrad);
    GemmShape sw{l.fwd.d, l.fwd.m, l.fwd.n, l.fwd.groups, kActBytes, kE2Bytes};
    sw.x_reuse = l.fwd.x_reuse;
    const int64_t w = l.fwd.d * l.fwd.n * l.fwd.groups;
    const Handoff g_keep = resident_if(cfg, w, true, false);
    gemm(rec_w, sw, kWideBytes, g_keep);
    const bool decay = job.weight_decay_lambda >= 0;
    const StreamTraffic tr = gradient_quantize_traffic(w, kWideBytes, kWeightGrad, g_keep, false, decay);
    sched.stage(rec_w, [&] { return std::vector<Op*>{u.sq->quantize(rec_w, SqMode::kConstant, w, tr, nullptr, nullptr, false, decay)}; });
    err_in = {};
    if (i > 0) {  // the first layer's input is the data: no error to propagate
      GemmShape s{l.fwd.m, l.fwd.n, l.fwd.d, l.fwd.groups, kE2Bytes, 1};
      s.out_reuse = l.fwd.x_reuse;
      const Layer& prev = layers[static_cast<size_t>(i - 1)];
      err_in = resident_if(cfg, prev.fwd.m * prev.fwd.n * prev.fwd.groups, true, false);
      gemm(rec_b, s, kWideBytes, err_in);
    }
    if (job.progress) job.progress(l.name + " backward", 2 * total - i, 3 * total);
  }
  for (int i = 0; i < total; ++i) {
    const Layer& l = layers[static_cast<size_t>(i)];
    const int64_t w = l.fwd.d * l.fwd.n * l.fwd.groups;
    const int rec = L.open(l.name, l.kind, Pass::kUpdate);
    const ParamWidths pw = param_widths(golden::ParamDesc::kWeight);
    const StreamTraffic tr{b(w, pw.master + pw.momentum + pw.grad), b(w, pw.master + pw.momentum + pw.working),
                           b(w, 3 * kFp32), b(w, 2 * kFp32)};
    sched.stage(rec, [&] { return std::vector<Op*>{u.opt->update(rec, w, tr, nullptr, nullptr)}; });
    if (job.progress) job.progress(l.name + " update", 2 * total + i + 1, 3 * total);
  }
}

}  // namespace octet::model
