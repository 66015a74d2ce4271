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
  struct Layer {
    std::string name, kind;
    GemmShape fwd;     // M x D x N
    int64_t in_elems;  // layer input elements (batch included)
  };
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
    L.act(rec_w, Unit::kShiftQuantizer, Action::kAddInt32, w);
    sq(rec_w, SqMode::kConstant, w, kWideBytes, kWeightGrad, g_keep);
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
