#include "model/controller.h"

#include <algorithm>
#include <initializer_list>
#include <stdexcept>
#include <string>

#include "golden/activation.h"
#include "golden/int_network.h"
#include "golden/loss.h"
#include "golden/pooling.h"
#include "golden/residual.h"
#include "model/lowering.h"
#include "model/storage_widths.h"
#include "model/unit_timing.h"
#include "octet_params.h"

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

// Where a tensor handed from its producer to the next operation(s) of the schedule lives, per
// datapath (docs/architecture.md, "Tensor residency"): true = in the accumulator SRAM, at the
// accumulator width (kAccumBytes integer, 4 bytes FP32); false = spilled to DRAM.
struct Handoff {
  bool ints = false, fp = false;
  bool through = false;  // also written to DRAM, for a reader that comes later
};

// A streaming pass's traffic, built tensor by tensor. Bytes per element 0: the tensor is not
// part of that datapath (e.g. no FP32 twin of a quantizer pass).
struct Io {
  StreamTraffic t;
  Io& in(int64_t n, double int_b, double fp_b, int passes = 1, Handoff h = {}) {
    if (int_b > 0) (h.ints ? t.acc_rd : t.rd) += passes * b(n, h.ints ? kAccumBytes : int_b);
    if (fp_b > 0) (h.fp ? t.fp_acc_rd : t.fp_rd) += passes * b(n, h.fp ? kFp32 : fp_b);
    return *this;
  }
  Io& out(int64_t n, double int_b, double fp_b, Handoff h = {}) {
    if (int_b > 0) (h.ints ? t.acc_wr : t.wr) += b(n, h.ints ? kAccumBytes : int_b);
    if (fp_b > 0) (h.fp ? t.fp_acc_wr : t.fp_wr) += b(n, h.fp ? kFp32 : fp_b);
    if (h.through && h.ints && int_b > 0) t.wr += b(n, int_b);
    if (h.through && h.fp && fp_b > 0) t.fp_wr += b(n, fp_b);
    return *this;
  }
  // DRAM bytes not tied to a handed-over tensor (x̂, masks, argmax, statistics).
  Io& dram(int64_t rd, int64_t wr, int64_t fp_rd, int64_t fp_wr) {
    t.rd += rd;
    t.wr += wr;
    t.fp_rd += fp_rd;
    t.fp_wr += fp_wr;
    return *this;
  }
};
int64_t now_cycles() { return time_to_cycles(sc_core::sc_time_stamp()); }

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

struct NodeValue {
  Tensor<uint8_t> act;
  Tensor<int32_t> wide;
  golden::BnStats stats;
  golden::BnRunning running;  // bnrelu: the accumulators after this step, from the BN unit's outcome
  Tensor<int16_t> xhat;
  std::vector<uint8_t> mask;
  std::vector<int64_t> argmax;
};

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

}  // namespace

// The schedule of one job, run inside the controller's thread.
struct Controller::Impl {
  Units u;
  StepJob& job;
  Ledger& L;
  AccelConfig cfg;
  FunctionalState* fs;
  int64_t N;
  std::vector<NodeValue> values;
  std::vector<Tensor<int64_t>> err;
  std::vector<Tensor<int32_t>> grads;

  Impl(Units units, StepJob& j, Ledger& ledger)
      : u(units), job(j), L(ledger), cfg(j.config), fs(j.state), N(j.batch) {}

  // Runs `issue` (which submits operations), waits for them, and charges the elapsed cycles
  // and the streaming operations' DRAM stalls to the record.
  void stage(int rec, const std::function<std::vector<Op*>()>& issue) {
    const int64_t t0 = now_cycles();
    for (Op* op : issue()) {
      wait_done(op);
      L.record(rec).stall_cycles += op->stall_cycles;
    }
    if (u.arena->error) std::rethrow_exception(u.arena->error);
    L.record(rec).cycles += now_cycles() - t0;
    L.stage(rec, t0, now_cycles());
  }

  // ---- tensor residency (docs/architecture.md, "Tensor residency") ----------------------------
  // A tensor of n elements handed to the next operation(s) stays in the accumulator SRAM when
  // that datapath's consumer streams it from there and its accumulator-width bytes fit the
  // whole accumulator SRAM (nothing else lives there between the two operations: a GEMM whose
  // output is resident accumulates every block in place, with no double-buffered halves).
  Handoff resident_if(int64_t n, bool int_consumer, bool fp_consumer) const {
    const int64_t cap = cfg.accum_sram_kib * 1024;
    return Handoff{int_consumer && b(n, kAccumBytes) <= cap, fp_consumer && b(n, kFp32) <= cap};
  }

  // ---- the array's GEMMs -------------------------------------------------------------------
  // Issues every block of the GEMM: operand slabs double-buffered in the scratchpads, partial
  // sums double-buffered in the accumulator SRAM, results written to DRAM at `out_bytes`.
  // `keep`: the output stays in the accumulator SRAM for the next operation (no write-back).
  void gemm(int rec, const GemmShape& s, double out_bytes, GemmData* data, Handoff keep = {}) {
    stage(rec, [&] { return issue_gemm(rec, s, out_bytes, data, keep); });
  }

  std::vector<Op*> issue_gemm(int rec, const GemmShape& s, double out_bytes, GemmData* data, Handoff keep) {
    const GemmPlan p = plan_gemm(s, cfg);
    const int64_t R = cfg.array_rows, C = cfg.array_cols;
    struct Block {
      ArrayBlock ab;
      bool load_x, load_y, last_chunk;
      int out_block;
    };
    std::vector<Block> blocks;
    int out_blocks = 0;
    for (int64_t g = 0; g < s.groups; ++g)
      for (int64_t nb = 0; nb < p.n_blocks; ++nb)
        for (int64_t mb = 0; mb < p.m_blocks; ++mb, ++out_blocks)
          for (int64_t dc = 0; dc < p.d_chunks; ++dc) {
            Block k;
            k.ab.record = rec;
            k.ab.m0 = mb * p.mb * R;
            k.ab.m_len = std::min(p.mb * R, s.m - k.ab.m0);
            k.ab.n0 = nb * p.nb * C;
            k.ab.n_len = std::min(p.nb * C, s.n - k.ab.n0);
            k.ab.d0 = dc * p.dc;
            k.ab.d_len = std::min(p.dc, s.d - k.ab.d0);
            k.ab.first_chunk = dc == 0;
            k.ab.x_bytes = s.x_bytes;
            k.ab.y_bytes = s.y_bytes;
            k.ab.data = data;
            k.load_x = !p.x_resident || nb == 0;
            k.load_y = !p.y_resident || mb == 0;
            k.last_chunk = dc == p.d_chunks - 1;
            k.out_block = out_blocks;
            blocks.push_back(k);
          }
    std::vector<Op*> xload(blocks.size(), nullptr), yload(blocks.size(), nullptr), compute(blocks.size(), nullptr);
    std::vector<Op*> writeback(static_cast<size_t>(out_blocks), nullptr);
    Op* x_cur = nullptr;
    Op* y_cur = nullptr;
    const auto issue_loads = [&](size_t i) {
      const Block& k = blocks[i];
      std::vector<Op*> free_half;  // the buffer half this block fills is free once block i-2 streamed in
      if (i >= 2) free_half.push_back(compute[i - 2]);
      if (k.load_x) {
        const int64_t el = k.ab.m_len * k.ab.d_len;
        const int64_t bytes = b(el, s.x_bytes / s.x_reuse), fp = b(el, kFp32 / s.x_reuse);
        xload[i] = u.dram->transfer(rec, bytes, 0, {}, free_half);
        L.dram(rec, bytes, 0, fp, 0);
        L.sram(rec, Buffer::kIfmap, 0, bytes, 0, fp);
      }
      if (k.load_y) {
        const int64_t el = k.ab.d_len * k.ab.n_len;
        yload[i] = u.dram->transfer(rec, b(el, s.y_bytes), 0, {}, free_half);
        L.dram(rec, b(el, s.y_bytes), 0, b(el, kFp32), 0);
        L.sram(rec, Buffer::kFilter, 0, b(el, s.y_bytes), 0, b(el, kFp32));
      }
    };
    if (!blocks.empty()) issue_loads(0);
    for (size_t i = 0; i < blocks.size(); ++i) {
      const Block& k = blocks[i];
      if (i + 1 < blocks.size()) issue_loads(i + 1);  // prefetch ahead of this block's write-back
      if (xload[i]) x_cur = xload[i];
      if (yload[i]) y_cur = yload[i];
      std::vector<Op*> deps{x_cur, y_cur};
      std::vector<Op*> release;  // the accumulator half is free once block j-2's write-back read it
      if (k.ab.first_chunk && k.out_block >= 2 && !keep.ints && writeback[static_cast<size_t>(k.out_block - 2)])
        release.push_back(writeback[static_cast<size_t>(k.out_block - 2)]);
      compute[i] = u.array->block(k.ab, deps, release);
      if (k.last_chunk) {
        const int64_t el = k.ab.m_len * k.ab.n_len;
        const int64_t bytes = b(el, out_bytes / s.out_reuse), fp = b(el, kFp32 / s.out_reuse);
        // A resident output is not written back: the block stays where it was accumulated
        // (and its accumulator space is not reused by later blocks).
        const bool wb = !keep.ints || keep.through, wb_fp = !keep.fp || keep.through;
        if (wb) writeback[static_cast<size_t>(k.out_block)] = u.dram->transfer(rec, 0, bytes, {compute[i]});
        L.sram(rec, Buffer::kAccum, wb ? kAccumBytes * el : 0, 0, wb_fp ? b(el, kFp32) : 0, 0);
        L.dram(rec, 0, wb ? bytes : 0, 0, wb_fp ? fp : 0);
        if (s.out_reuse > 1) {  // col2im: the lowered results are summed on chip
          L.act(rec, Unit::kSystolicArray, Action::kAddInt64, el);
          L.act_fp32(rec, Unit::kSystolicArray, Action::kAddFp32, el);
        }
      }
    }
    last_computes = compute;
    std::vector<Op*> all = compute;
    for (Op* w : writeback)
      if (w) all.push_back(w);
    return all;
  }

  // ---- helpers for streaming units -------------------------------------------------------------
  // `home`: where the input tensor is (its integer side; the FP32 baseline has no quantizers).
  void sq(int rec, SqMode mode, int64_t n, double in_bytes, double out_bytes, std::function<SqJob()> j,
          std::function<void(SqOutcome&)> done, Handoff home = {}) {
    const int passes = mode == SqMode::kDirect ? 1 : 2;
    const StreamTraffic t = Io{}.in(n, in_bytes, 0, passes, home).out(n, out_bytes, 0).t;  // payloads to DRAM
    stage(rec, [&] { return std::vector<Op*>{u.sq->quantize(rec, mode, n, t, std::move(j), std::move(done))}; });
  }

  void elementwise(int rec, int64_t n, BnUnit::Elementwise per, StreamTraffic t, std::function<void()> values) {
    stage(rec, [&] { return std::vector<Op*>{u.bn->stream(rec, n, per, t, std::move(values))}; });
  }

  // err[target] += e, contributed by node i's last operation with its output at `h`
  // (contribution_home): a merge pass on the BN unit's lanes when the target already has an
  // error, reading the new contribution where it is and the earlier one from DRAM, and writing
  // the sum where the complete error goes (final_home) once it is the last contribution.
  void accumulate(int rec, int i, int target, Tensor<int64_t> e, int64_t n, Handoff h) {
    const auto ut = static_cast<size_t>(target);
    const bool merge = arrived[ut]++ > 0;
    if (!merge) {
      home_of_err(target) = h;
      if (fs) err[ut] = std::move(e);
      return;
    }
    const Handoff out = arrived[ut] == consumers[ut] ? final_home(i, target, n) : Handoff{};
    home_of_err(target) = out;
    const StreamTraffic t =
        Io{}.in(n, kWideBytes, kFp32, 1, h).in(n, kWideBytes, kFp32, 1, {}).out(n, kWideBytes, kFp32, out).t;
    if (!fs) return elementwise(rec, n, {1, 0, 0}, t, nullptr);
    Tensor<int64_t>& into = err[ut];
    elementwise(rec, n, {1, 0, 0}, t, [&] { into = golden::error_add(into, e); });
  }
  std::vector<int> arrived;  // per node: contributions to its error so far
  std::vector<Op*> last_computes;
  std::vector<int> consumers;                 // per node: how many nodes read its value
  std::vector<Handoff> value_home, err_home;  // per node: where its value / its error is

  // A forward value (conv / linear output, in the accumulators) is resident when its only
  // reader is the next node and that node streams it (BN, residual add) or, for the output,
  // when the loss comes next. Both datapaths stream these from the accumulator SRAM.
  Handoff value_handoff(int i, int64_t n) const {
    const auto& nodes = job.network->nodes;
    const auto ui = static_cast<size_t>(i);
    bool streams = false;
    if (ui + 1 == nodes.size()) {
      streams = i == job.network->output && consumers[ui] == 0;
    } else {
      const NodeDesc& next = nodes[ui + 1];
      streams = consumers[ui] == 1 && (next.kind == OpKind::kBnRelu || next.kind == OpKind::kAdd) &&
                std::find(next.inputs.begin(), next.inputs.end(), i) != next.inputs.end();
    }
    return resident_if(n, streams, streams);
  }
  // Errors. Node `node`'s backward reads its error: the integer datapath always streams it
  // (E2, E1 quantizers, pooling); the FP32 one only into BN backward and pooling (conv /
  // linear read it as a GEMM operand, through DRAM).
  Handoff reader_streams(int node, int64_t n) const {
    const OpKind k = job.network->nodes[static_cast<size_t>(node)].kind;
    if (k == OpKind::kInput || k == OpKind::kAdd) return {};
    return resident_if(n, true, k == OpKind::kBnRelu || k == OpKind::kMaxPool || k == OpKind::kAvgPool);
  }
  // Where the complete error of `target`, produced by the last operation of node i's backward
  // (i = -1: the loss), goes: on chip when target is the next node of the backward order and
  // its reader streams it. A residual add passes its error on unchanged: on chip to its input
  // that comes next (if that one receives no other error), and also to DRAM (write-through)
  // for its other input, which reads it much later.
  Handoff final_home(int i, int target, int64_t n) const {
    if (i >= 0 && target != i - 1) return {};
    const NodeDesc& t = job.network->nodes[static_cast<size_t>(target)];
    if (t.kind != OpKind::kAdd) return reader_streams(target, n);
    const int next = target - 1;
    if (std::find(t.inputs.begin(), t.inputs.end(), next) == t.inputs.end() || consumers[static_cast<size_t>(next)] > 1)
      return {};
    Handoff h = reader_streams(next, n);
    for (int src : t.inputs)
      h.through = h.through || (src != next && job.network->nodes[static_cast<size_t>(src)].kind != OpKind::kInput);
    return h;
  }
  // Where node i's contribution to err[target] goes: on chip if a merge pass follows at once
  // (both datapaths stream it), to DRAM if other contributions come later, else final_home.
  Handoff contribution_home(int i, int target, int64_t n) const {
    const auto ut = static_cast<size_t>(target);
    if (arrived[ut] > 0) return resident_if(n, true, true);
    if (target != i - 1) return {};
    if (consumers[ut] > 1) return {};
    return final_home(i, target, n);
  }
  Handoff& home_of_err(int node) { return err_home[static_cast<size_t>(node)]; }
  // Decides and records where node i's forward value goes.
  Handoff v_home(int i, int64_t n) { return value_home[static_cast<size_t>(i)] = value_handoff(i, n); }

  void run_gemm_only() {
    const int rec = L.open("gemm", "gemm", Pass::kForward);
    gemm(rec, *job.gemm, kStreamBytes, nullptr);
    sc_core::sc_time first = last_computes.front()->started, last = last_computes.front()->done_at;
    for (const Op* op : last_computes) {
      first = std::min(first, op->started);
      last = std::max(last, op->done_at);
    }
    if (job.gemm_span) *job.gemm_span = time_to_cycles(last - first);
  }

  // ---- network schedule -------------------------------------------------------------------------
  int64_t elems(int node) const { return N * golden::node_elements(job.network->nodes[static_cast<size_t>(node)]); }

  void run_network() {
    const golden::NetworkDesc& desc = *job.network;
    const size_t nodes = desc.nodes.size();
    values.resize(nodes);
    err.resize(nodes);
    arrived.assign(nodes, 0);
    consumers.assign(nodes, 0);
    for (const NodeDesc& d : desc.nodes)
      for (int in : d.inputs) ++consumers[static_cast<size_t>(in)];
    value_home.assign(nodes, Handoff{});
    err_home.assign(nodes, Handoff{});
    std::vector<int> first_param(nodes, -1);
    const std::vector<golden::ParamDesc> params = golden::network_params(desc);
    for (size_t p = 0; p < params.size(); ++p)
      if (first_param[static_cast<size_t>(params[p].node)] < 0) first_param[static_cast<size_t>(params[p].node)] = static_cast<int>(p);
    grads.resize(params.size());
    const int layers = static_cast<int>(nodes) - 1;  // progress counts 3 passes of every node but the input
    if (fs) values[0].act = fs->images;

    for (size_t i = 1; i < nodes; ++i) {
      forward_node(static_cast<int>(i), first_param[i]);
      if (job.progress) job.progress(desc.nodes[i].name + " forward", static_cast<int>(i), 3 * layers);
    }
    loss(desc.output);
    for (int i = static_cast<int>(nodes) - 1; i >= 1; --i) {
      backward_node(i, first_param[static_cast<size_t>(i)]);
      if (fs) err[static_cast<size_t>(i)] = {};
      if (job.progress) job.progress(desc.nodes[static_cast<size_t>(i)].name + " backward", 2 * layers + 1 - i, 3 * layers);
    }
    for (size_t i = 1; i < nodes; ++i) {
      update_node(static_cast<int>(i), first_param[i], params);
      if (job.progress) job.progress(desc.nodes[i].name + " update", 2 * layers + static_cast<int>(i), 3 * layers);
    }
    if (fs) ++fs->step;
  }

  void forward_node(int i, int p) {
    const golden::NetworkDesc& desc = *job.network;
    const NodeDesc& d = desc.nodes[static_cast<size_t>(i)];
    const NodeDesc& in = desc.nodes[static_cast<size_t>(d.inputs[0])];
    NodeValue& v = values[static_cast<size_t>(i)];
    const NodeValue& iv = values[static_cast<size_t>(d.inputs[0])];
    const int64_t n_out = elems(i), n_in = elems(d.inputs[0]);
    switch (d.kind) {
      case OpKind::kConv: {
        const int rec = L.open(d.name, "conv", Pass::kForward);
        const int64_t ho = d.out_shape[1], wo = d.out_shape[2], ci = in.out_shape[0];
        GemmShape s{N * ho * wo, ci * d.kernel * d.kernel, d.out_channels, 1, kActBytes, 1};
        s.x_reuse = window_reuse(d.kernel, d.kernel, d.stride, d.stride);
        const Handoff keep = v_home(i, n_out);
        if (!fs) return gemm(rec, s, kStreamBytes, nullptr, keep);
        const golden::ConvParams cp{d.stride, d.pad};
        const golden::Shape os{N, d.out_channels, ho, wo};
        GemmData g;
        g.kind = GemmKind::kForward;
        g.act = im2col(iv.act, d.kernel, cp, os);
        g.weight = weight_matrix(fs->weight8[static_cast<size_t>(p)]);
        g.out = Tensor<int64_t>({s.m, s.n}, g.act.exp + g.weight.exp);
        gemm(rec, s, kStreamBytes, &g, keep);
        v.wide = narrow_checked(rows_to_nchw(g.out, os), "conv forward");
        return;
      }
      case OpKind::kLinear: {
        const int rec = L.open(d.name, "linear", Pass::kForward);
        const int64_t f = n_in / N;
        const GemmShape s{N, f, d.out_channels, 1, kActBytes, 1};
        const Handoff keep = v_home(i, n_out);
        if (!fs) return gemm(rec, s, kStreamBytes, nullptr, keep);
        GemmData g;
        g.kind = GemmKind::kForward;
        g.act = reshaped(iv.act, {N, f});
        g.weight = weight_matrix(fs->weight8[static_cast<size_t>(p)]);
        g.out = Tensor<int64_t>({s.m, s.n}, g.act.exp + g.weight.exp);
        gemm(rec, s, kStreamBytes, &g, keep);
        // The bias is preloaded into the accumulators (on the output grid, as golden linear_forward).
        const Tensor<int32_t>& bias = fs->bias[static_cast<size_t>(p + 1)];
        if (bias.exp != g.out.exp) throw std::logic_error("linear: bias is not on the output grid");
        for (int64_t r = 0; r < N; ++r)
          for (int64_t o = 0; o < s.n; ++o) g.out.data[static_cast<size_t>(r * s.n + o)] += bias.data[static_cast<size_t>(o)];
        v.wide = narrow_checked(g.out, "linear forward");
        return;
      }
      case OpKind::kBnRelu: {
        const int rec = L.open(d.name, "bnrelu", Pass::kForward);
        const double in_b = is_activation(in) ? kActBytes : kStreamBytes;
        // Two passes over the input (statistics, normalise); A, x̂ and the mask to DRAM.
        const StreamTraffic t = Io{}.in(n_in, in_b, kFp32, 2, value_home[static_cast<size_t>(d.inputs[0])])
                                    .dram(0, b(n_out, kActBytes + kXhatBytes + kMaskBytes), 0, b(n_out, 2 * kFp32 + kFp32Mask)).t;
        std::function<BnForwardJob()> jb;
        std::function<void(BnForwardOutcome&)> done;
        if (fs) {
          jb = [&] {
            return BnForwardJob{is_activation(in) ? to_int32(iv.act) : iv.wide, fs->affine[static_cast<size_t>(p)],
                                fs->affine[static_cast<size_t>(p + 1)], fs->running[static_cast<size_t>(i)],
                                fs->bn_decay_shift};
          };
          done = [&](BnForwardOutcome& o) {
            v.stats = std::move(o.stats);
            v.running = std::move(o.running);
            v.xhat = std::move(o.xhat);
            v.act = std::move(o.act);
            v.mask = std::move(o.mask);
          };
        }
        stage(rec, [&] { return std::vector<Op*>{u.bn->forward(rec, n_in, d.out_shape[0], t, jb, done)}; });
        return;
      }
      case OpKind::kMaxPool: {
        const int rec = L.open(d.name, "maxpool", Pass::kForward);
        elementwise(rec, n_in, {0, 1, 0}, Io{}.dram(b(n_in, kActBytes), b(n_out, kActBytes + kPoolIndex), b(n_in, kFp32), b(n_out, kFp32 + kFp32PoolIndex)).t, fs ? std::function<void()>([&] {
          golden::MaxPoolForward m = golden::maxpool_forward(iv.act, pool_params(d));
          v.act = std::move(m.out);
          v.argmax = std::move(m.argmax);
        }) : nullptr);
        return;
      }
      case OpKind::kAvgPool: {
        const int rec = L.open(d.name, "avgpool", Pass::kForward);
        elementwise(rec, n_in, {1, 0, 0}, Io{}.dram(b(n_in, kActBytes), b(n_out, kActBytes), b(n_in, kFp32), b(n_out, kFp32)).t,
                    fs ? std::function<void()>([&] { v.act = golden::avgpool_forward(iv.act, pool_params(d)); }) : nullptr);
        return;
      }
      case OpKind::kAdd: {
        const int rec = L.open(d.name, "add", Pass::kForward);
        const NodeDesc& in2 = desc.nodes[static_cast<size_t>(d.inputs[1])];
        const StreamTraffic t = Io{}.in(n_out, is_activation(in) ? kActBytes : kStreamBytes, kFp32, 1,
                                        value_home[static_cast<size_t>(d.inputs[0])])
                                    .in(n_out, is_activation(in2) ? kActBytes : kStreamBytes, kFp32, 1,
                                        value_home[static_cast<size_t>(d.inputs[1])])
                                    .out(n_out, kStreamBytes, kFp32).t;
        elementwise(rec, n_out, {1, 0, 0}, t,
                    fs ? std::function<void()>([&] {
                      const NodeValue& iv2 = values[static_cast<size_t>(d.inputs[1])];
                      v.wide = golden::residual_add(is_activation(in) ? to_int32(iv.act) : iv.wide,
                                                    is_activation(in2) ? to_int32(iv2.act) : iv2.wide);
                    })
                       : nullptr);
        return;
      }
      case OpKind::kInput:
        return;
    }
  }

  void loss(int out) {
    const int rec = L.open("loss", "loss", Pass::kForward);
    const int64_t n = elems(out);
    // Integer softmax: max, table lookups, sum, division per class.
    home_of_err(out) = final_home(-1, out, n);
    const StreamTraffic t =
        Io{}.in(n, kStreamBytes, kFp32, 1, value_home[static_cast<size_t>(out)]).out(n, kWideBytes, kFp32, home_of_err(out)).t;
    elementwise(rec, n, {2, 1, 1}, t,
                fs ? std::function<void()>([&] {
                  err[static_cast<size_t>(out)] =
                      golden::softmax_cross_entropy(values[static_cast<size_t>(out)].wide, fs->labels).error;
                })
                   : nullptr);
  }

  bool input_needs_error(const NodeDesc& d) const {
    return job.network->nodes[static_cast<size_t>(d.inputs[0])].kind != OpKind::kInput;
  }

  // The error arriving at node i through the shift-quantizer: E2 (flag quantization, as
  // hardware codes) at a conv / linear output, E1 (SQ) at a bnrelu output.
  Tensor<int32_t> quantize_error(int rec, int i, int64_t n, SqMode mode, double out_bytes) {
    Tensor<int32_t> q;
    sq(rec, mode, n, kWideBytes, out_bytes,
       fs ? std::function<SqJob()>([&] {
         SqJob j;
         j.mode = mode;
         j.in = err[static_cast<size_t>(i)];
         j.bits = golden::kIntErrorBits;
         return j;
       })
          : nullptr,
       [&](SqOutcome& o) { q = std::move(o.out); }, home_of_err(i));
    return q;
  }
  Tensor<int32_t> quantize_e2(int rec, int i, int64_t n) { return quantize_error(rec, i, n, SqMode::kFlag, kE2Bytes); }

  // G = CQ(G_raw + weight decay) through the shift-quantizer.
  void quantize_gradient(int rec, int p, int64_t n, Tensor<int64_t> g_raw, Handoff home) {
    L.act(rec, Unit::kShiftQuantizer, Action::kAddInt32, n);  // weight decay on the input stream
    sq(rec, SqMode::kConstant, n, kWideBytes, param_widths(golden::ParamDesc::kWeight).grad,
       fs ? std::function<SqJob()>([&] {
         if (fs->weight_decay_lambda >= 0)
           golden::add_weight_decay(g_raw, fs->weight8[static_cast<size_t>(p)], fs->weight_decay_lambda);
         SqJob j;
         j.mode = SqMode::kConstant;
         j.in = std::move(g_raw);
         j.cq = golden::gradient_cq_params(fs->seed, fs->step, p, fs->gscale_log2);
         return j;
       })
          : nullptr,
       [&](SqOutcome& o) { grads[static_cast<size_t>(p)] = std::move(o.out); }, home);
  }

  void backward_node(int i, int p) {
    const golden::NetworkDesc& desc = *job.network;
    const NodeDesc& d = desc.nodes[static_cast<size_t>(i)];
    const NodeDesc& in = desc.nodes[static_cast<size_t>(d.inputs[0])];
    NodeValue& v = values[static_cast<size_t>(i)];
    const NodeValue& iv = values[static_cast<size_t>(d.inputs[0])];
    const int64_t n_out = elems(i), n_in = elems(d.inputs[0]);
    const bool need = input_needs_error(d);
    switch (d.kind) {
      case OpKind::kConv:
      case OpKind::kLinear: {
        const bool conv = d.kind == OpKind::kConv;
        const char* kind = conv ? "conv" : "linear";
        const int rec_b = L.open(d.name, kind, Pass::kBackwardData);
        const int64_t co = d.out_channels;
        const int64_t f = conv ? in.out_shape[0] * d.kernel * d.kernel : n_in / N;
        const int64_t m = conv ? N * d.out_shape[1] * d.out_shape[2] : N;
        const golden::ConvParams cp{d.stride, d.pad};
        const golden::Shape os{N, co, conv ? d.out_shape[1] : 1, conv ? d.out_shape[2] : 1};
        Tensor<int32_t> e2 = quantize_e2(rec_b, i, n_out);
        if (!conv) {  // bias gradient: batch sum of the loss error
          elementwise(rec_b, n_out, {1, 0, 0}, Io{}.in(n_out, kWideBytes, kFp32, 1, home_of_err(i)).dram(0, b(co, kParamGrad), 0, b(co, kFp32)).t,
                      fs ? std::function<void()>([&] {
                        grads[static_cast<size_t>(p + 1)] = golden::linear_bias_grad(err[static_cast<size_t>(i)]);
                      })
                         : nullptr);
        }
        Tensor<golden::FlagCode> e2m;
        Tensor<uint8_t> a;
        if (fs) {
          e2m = error_matrix(conv ? e2 : reshaped(e2, {N, co, 1, 1}));
          a = conv ? im2col(iv.act, d.kernel, cp, os) : reshaped(iv.act, {N, f});
        }
        // Weight gradient before backward data (independent given E2), so that the raw E1
        // is the last thing this node produces and can stay on chip for the next node.
        const int rec_w = L.open(d.name, kind, Pass::kWeightGrad);
        {
          GemmShape s{f, m, co, 1, kActBytes, kE2Bytes};
          if (conv) s.x_reuse = window_reuse(d.kernel, d.kernel, d.stride, d.stride);
          const Handoff keep = resident_if(f * co, true, false);  // CQ streams it; FP32: the optimizer, later
          Tensor<int64_t> g_raw;
          if (!fs) {
            gemm(rec_w, s, kWideBytes, nullptr, keep);
          } else {
            GemmData g;
            g.kind = GemmKind::kWeightGrad;
            g.act = std::move(a);
            g.err = e2m;
            g.out = Tensor<int64_t>({f, co}, g.act.exp + g.err.exp);
            gemm(rec_w, s, kWideBytes, &g, keep);
            g_raw = gradient_to_param(g.out, fs->params[static_cast<size_t>(p)].shape);
          }
          quantize_gradient(rec_w, p, f * co, std::move(g_raw), keep);
        }
        if (need) {
          GemmShape s{m, co, f, 1, kE2Bytes, 1};
          if (conv) s.out_reuse = window_reuse(d.kernel, d.kernel, d.stride, d.stride);
          const Handoff keep = contribution_home(i, d.inputs[0], n_in);
          if (!fs) {
            gemm(rec_b, s, kWideBytes, nullptr, keep);
            accumulate(rec_b, i, d.inputs[0], {}, n_in, keep);
          } else {
            GemmData g;
            g.kind = GemmKind::kBackwardData;
            g.err = std::move(e2m);
            g.weight = weight_matrix(fs->weight8[static_cast<size_t>(p)]);
            g.out = Tensor<int64_t>({m, f}, g.err.exp + g.weight.exp);
            gemm(rec_b, s, kWideBytes, &g, keep);
            Tensor<int64_t> e1raw = conv ? col2im(g.out, iv.act.shape, d.kernel, cp, os) : reshaped(g.out, iv.act.shape);
            accumulate(rec_b, i, d.inputs[0], std::move(e1raw), n_in, keep);
          }
        }
        return;
      }
      case OpKind::kBnRelu: {
        const int rec = L.open(d.name, "bnrelu", Pass::kBackwardData);
        Tensor<int32_t> e1 = quantize_error(rec, i, n_out, SqMode::kShift, kE1Bytes);
        // Two passes over E1, x̂, mask (FP32: dy, x̂, mask); dx out, and G of γ and β for the update.
        const Handoff dx_home = need ? contribution_home(i, d.inputs[0], n_in) : Handoff{};
        const int64_t c = d.out_shape[0];
        const StreamTraffic t = Io{}.dram(2 * b(n_out, kE1Bytes + kXhatBytes + kMaskBytes), b(2 * c, kParamGrad),
                                          2 * b(n_out, kFp32 + kFp32Mask), b(2 * c, kFp32))
                                    .in(n_out, 0, kFp32, 2, home_of_err(i))
                                    .out(n_in, kWideBytes, kFp32, dx_home).t;
        Tensor<int64_t> dx;
        std::function<BnBackwardJob()> jb;
        std::function<void(BnBackwardOutcome&)> done;
        if (fs) {
          jb = [&] { return BnBackwardJob{e1, v.mask, v.xhat, fs->affine[static_cast<size_t>(p)], v.stats}; };
          done = [&](BnBackwardOutcome& o) {
            grads[static_cast<size_t>(p)] = std::move(o.g_gamma);
            grads[static_cast<size_t>(p + 1)] = std::move(o.g_beta);
            dx = std::move(o.dx);
          };
        }
        stage(rec, [&] { return std::vector<Op*>{u.bn->backward(rec, n_out, d.out_shape[0], t, jb, done)}; });
        if (need) accumulate(rec, i, d.inputs[0], std::move(dx), n_in, dx_home);
        return;
      }
      case OpKind::kMaxPool:
      case OpKind::kAvgPool: {
        const bool mx = d.kind == OpKind::kMaxPool;
        const int rec = L.open(d.name, mx ? "maxpool" : "avgpool", Pass::kBackwardData);
        if (!need) return;
        Tensor<int64_t> e;
        const Handoff e_home = contribution_home(i, d.inputs[0], n_in);
        const StreamTraffic t = Io{}.in(n_out, kWideBytes, kFp32, 1, home_of_err(i))
                                    .dram(mx ? b(n_out, kPoolIndex) : 0, 0, mx ? b(n_out, kFp32PoolIndex) : 0, 0)  // argmax
                                    .out(n_in, kWideBytes, kFp32, e_home).t;
        elementwise(rec, n_in, {mx ? 0 : 1, 0, 0}, t,
                    fs ? std::function<void()>([&] {
                      const Tensor<int64_t>& eo = err[static_cast<size_t>(i)];
                      e = mx ? golden::maxpool_backward(eo, v.argmax, iv.act.shape)
                             : golden::avgpool_backward(eo, iv.act.shape, pool_params(d));
                    })
                       : nullptr);
        accumulate(rec, i, d.inputs[0], std::move(e), n_in, e_home);
        return;
      }
      case OpKind::kAdd: {
        const int rec = L.open(d.name, "add", Pass::kBackwardData);
        for (int src : d.inputs)
          if (desc.nodes[static_cast<size_t>(src)].kind != OpKind::kInput)
            accumulate(rec, i, src, fs ? err[static_cast<size_t>(i)] : Tensor<int64_t>{}, n_out,
                       src == i - 1 ? Handoff{home_of_err(i).ints, home_of_err(i).fp, false} : Handoff{});
        return;
      }
      case OpKind::kInput:
        return;
    }
  }

  void update_node(int i, int p, const std::vector<golden::ParamDesc>& params) {
    const NodeDesc& d = job.network->nodes[static_cast<size_t>(i)];
    if (p < 0) return;
    const int rec = L.open(d.name, golden::op_name(d.kind), Pass::kUpdate);
    if (d.kind == OpKind::kBnRelu) {
      const int64_t c = d.out_shape[0];
      // The BN unit computed the updated accumulators in the forward's statistics beat (the
      // backend's outcome: the RTL's in co-simulation); this pass writes them back.
      elementwise(rec, 2 * c, {2, 0, 0}, {b(2 * c, kRunningStat), b(2 * c, kRunningStat), b(2 * c, kFp32), b(2 * c, kFp32)}, fs ? std::function<void()>([&] {
        fs->running[static_cast<size_t>(i)] = std::move(values[static_cast<size_t>(i)].running);
      }) : nullptr);
    }
    for (size_t q = static_cast<size_t>(p); q < params.size() && params[q].node == i; ++q) {
      const golden::ParamDesc& pd = params[q];
      const int64_t n = pd.size();
      const OptKind kind = pd.kind == golden::ParamDesc::kWeight ? OptKind::kWeight8
                           : pd.kind == golden::ParamDesc::kBias ? OptKind::kBias
                                                                 : OptKind::kBnAffine;
      // Reads M, V, G; writes M, V and the working copy (FP32: w, v, g; w, v).
      const ParamWidths w = param_widths(pd.kind);
      const StreamTraffic t{b(n, w.master + w.momentum + w.grad), b(n, w.master + w.momentum + w.working),
                            b(n, 3 * kFp32), b(n, 2 * kFp32)};
      std::function<OptJob()> jb;
      std::function<void(OptOutcome&)> done;
      if (fs) {
        jb = [&, q] { return OptJob{kind, fs->states[q], grads[q], fs->lr_q}; };
        done = [&, q](OptOutcome& o) {
          fs->states[q] = std::move(o.state);
          switch (kind) {
            case OptKind::kWeight8: fs->weight8[q] = golden::derive_weight8(fs->states[q].master); break;
            case OptKind::kBnAffine: fs->affine[q] = golden::derive_bn_affine(fs->states[q].master); break;
            case OptKind::kBias: fs->bias[q] = golden::derive_bias(fs->states[q].master); break;
          }
        };
      }
      stage(rec, [&] { return std::vector<Op*>{u.opt->update(rec, n, t, jb, done)}; });
    }
  }

  // ---- SCALE-Sim topology schedule (timing only) ---------------------------------------------------
  void run_topology() {
    const Topology& t = *job.topology;
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
      const Handoff keep = resident_if(out, true, false);
      gemm(rec, l.fwd, kStreamBytes, nullptr, keep);
      sq(rec, SqMode::kDirect, out, kStreamBytes, kActBytes, nullptr, nullptr, keep);
      if (job.progress) job.progress(l.name + " forward", i + 1, 3 * total);
    }
    Handoff err_in;  // where the error at the current row's output is
    for (int i = total - 1; i >= 0; --i) {
      const Layer& l = layers[static_cast<size_t>(i)];
      const int64_t out = l.fwd.m * l.fwd.n * l.fwd.groups;
      const int rec_b = L.open(l.name, l.kind, Pass::kBackwardData);
      sq(rec_b, SqMode::kFlag, out, kWideBytes, kE2Bytes, nullptr, nullptr, err_in);  // the loss error: DRAM
      // Weight gradient first, so that the backward-data result (the previous row's error)
      // is produced last and can stay on chip for that row's E2 (as in the network schedule).
      const int rec_w = L.open(l.name, l.kind, Pass::kWeightGrad);
      GemmShape sw{l.fwd.d, l.fwd.m, l.fwd.n, l.fwd.groups, kActBytes, kE2Bytes};
      sw.x_reuse = l.fwd.x_reuse;
      const int64_t w = l.fwd.d * l.fwd.n * l.fwd.groups;
      const Handoff g_keep = resident_if(w, true, false);
      gemm(rec_w, sw, kWideBytes, nullptr, g_keep);
      L.act(rec_w, Unit::kShiftQuantizer, Action::kAddInt32, w);
      sq(rec_w, SqMode::kConstant, w, kWideBytes, kWeightGrad, nullptr, nullptr, g_keep);
      err_in = {};
      if (i > 0) {  // the first layer's input is the data: no error to propagate
        GemmShape s{l.fwd.m, l.fwd.n, l.fwd.d, l.fwd.groups, kE2Bytes, 1};
        s.out_reuse = l.fwd.x_reuse;
        const Layer& prev = layers[static_cast<size_t>(i - 1)];
        err_in = resident_if(prev.fwd.m * prev.fwd.n * prev.fwd.groups, true, false);
        gemm(rec_b, s, kWideBytes, nullptr, err_in);
      }
      if (job.progress) job.progress(l.name + " backward", 2 * total - i, 3 * total);
    }
    for (int i = 0; i < total; ++i) {
      const Layer& l = layers[static_cast<size_t>(i)];
      const int64_t w = l.fwd.d * l.fwd.n * l.fwd.groups;
      const int rec = L.open(l.name, l.kind, Pass::kUpdate);
      const ParamWidths pw = param_widths(golden::ParamDesc::kWeight);
      const StreamTraffic t{b(w, pw.master + pw.momentum + pw.grad), b(w, pw.master + pw.momentum + pw.working),
                            b(w, 3 * kFp32), b(w, 2 * kFp32)};
      stage(rec, [&] { return std::vector<Op*>{u.opt->update(rec, w, t, nullptr, nullptr)}; });
      if (job.progress) job.progress(l.name + " update", 2 * total + i + 1, 3 * total);
    }
  }
};

Controller::Controller(const sc_core::sc_module_name& name, Units units) : sc_module(name), u_(units) {
  SC_THREAD(thread);
}

void Controller::post(StepJob job, Ledger* ledger) {
  job_ = std::make_unique<StepJob>(std::move(job));
  ledger_ = ledger;
  job_ev_.notify(sc_core::SC_ZERO_TIME);
}

void Controller::thread() {
  for (;;) {
    while (!job_) sc_core::wait(job_ev_);
    try {
      Impl impl(u_, *job_, *ledger_);
      if (job_->network)
        impl.run_network();
      else if (job_->topology)
        impl.run_topology();
      else
        impl.run_gemm_only();
    } catch (...) {
      error_ = std::current_exception();  // rethrown by the caller of sc_start (Accelerator::run)
    }
    job_.reset();
  }
}

}  // namespace octet::model
