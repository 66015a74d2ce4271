#include "model/units.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "model/unit_timing.h"

namespace octet::model {

using timing::ceil_div;

void CycleCheck::compare(const std::string& what, int64_t model, int64_t measured) {
  if (measured < 0) return;
  ++checked;
  if (measured == model) return;
  const std::string line = what + ": model " + std::to_string(model) + " cycles, backend " + std::to_string(measured);
  if (mismatches++ == 0) first_mismatch = line;
  if (differences.size() < kListed) differences.push_back(line);
}

namespace {
// "layer pass" of a ledger record: a backend job's `where`.
std::string where(Ledger& ledger, int record) {
  const PassRecord& r = ledger.record(record);
  return r.layer + " " + pass_name(r.pass);
}

template <typename T>
golden::Tensor<T> slice(const golden::Tensor<T>& t, int64_t r0, int64_t nr, int64_t c0, int64_t nc) {
  const int64_t cols = t.shape[1];
  golden::Tensor<T> s({nr, nc}, t.exp);
  for (int64_t r = 0; r < nr; ++r)
    std::copy_n(&t.data[static_cast<size_t>((r0 + r) * cols + c0)], nc, &s.data[static_cast<size_t>(r * nc)]);
  return s;
}
}  // namespace

namespace {
// A new operation of a streaming unit that moves `t` through the DRAM channel.
Op* stream_op(OpArena& arena, int record, const StreamTraffic& t) {
  Op* op = arena.make();
  op->dram_bytes = t.rd + t.wr;
  op->span.record = record;
  op->span.read_bytes = t.rd;
  op->span.write_bytes = t.wr;
  return op;
}
}  // namespace

void charge(Ledger& ledger, int record, const StreamTraffic& t) {
  ledger.dram(record, t.rd, t.wr, t.fp_rd, t.fp_wr);
  if (t.acc_rd + t.acc_wr + t.fp_acc_rd + t.fp_acc_wr > 0)
    ledger.sram(record, Buffer::kAccum, t.acc_rd, t.acc_wr, t.fp_acc_rd, t.fp_acc_wr);
}

// ---- systolic_array ---------------------------------------------------------------------

void SystolicArray::configure(int rows, int cols, Ledger* ledger, ArrayBackend* backend) {
  rows_ = rows;
  cols_ = cols;
  ledger_ = ledger;
  backend_ = backend;
}

Op* SystolicArray::block(const ArrayBlock& b, std::vector<Op*> deps, std::vector<Op*> release_deps) {
  Op* op = arena_.make();
  op->deps = std::move(deps);
  op->release_deps = std::move(release_deps);
  op->start = [this, b, op] { return run(b, *op); };
  op->span.record = b.record;
  op->span.m0 = b.m0, op->span.m_len = b.m_len;
  op->span.n0 = b.n0, op->span.n_len = b.n_len;
  op->span.d0 = b.d0, op->span.d_len = b.d_len;
  op->span.tiles = ceil_div(b.m_len, rows_) * ceil_div(b.n_len, cols_);
  submit(op);
  return op;
}

int64_t SystolicArray::run(const ArrayBlock& b, Op& op) {
  const int64_t R = rows_, C = cols_;
  const int64_t now = time_to_cycles(sc_core::sc_time_stamp());
  const int64_t mt = ceil_div(b.m_len, R), nt = ceil_div(b.n_len, C), tiles = mt * nt, D = b.d_len;
  const int64_t gap = std::max(R, C), period = timing::array_tile_period(D, R, C);
  // Waiting for operands while the input was free is a stall (DRAM or buffer space).
  const int64_t free_at = has_last_ ? last_beat_ + 1 : 0;
  const int64_t stall = std::max<int64_t>(0, now - std::max(free_at, time_to_cycles(op.submitted)));
  int64_t first_last = now + D - 1;
  if (has_last_) first_last = std::max(first_last, last_beat_ + gap);
  const int64_t last = first_last + (tiles - 1) * period;
  last_beat_ = last;
  has_last_ = true;
  stall_ += stall;
  op.span.wait_before = stall;
  // The timeline's stall reason: the array waited for whichever came last, its operands'
  // loads or the write-back that frees its accumulator half.
  sc_core::sc_time operands_at, release_at;
  for (const Op* d : op.deps) operands_at = std::max(operands_at, d->done_at);
  for (const Op* d : op.release_deps) release_at = std::max(release_at, d->released_at);
  op.span.waited_for_release = stall > 0 && release_at > operands_at;
  // Of an operand stall, what the latest operand load lost to other units on the DRAM channel.
  if (stall > 0 && !op.span.waited_for_release) {
    int64_t lost = 0;
    for (const Op* d : op.deps) lost = std::max(lost, d->contention);
    op.contention = std::min(stall, lost);
  }
  op.after_cycles = timing::array_drain_cycles(R, C);
  const int64_t busy = last + 1 - now;

  const int64_t macs = b.m_len * b.n_len * D;
  PassRecord& rec = ledger_->record(b.record);
  rec.macs += macs;
  rec.array_cycles += busy;
  rec.stall_cycles += stall;
  rec.contention_cycles += op.contention;
  ledger_->act(b.record, Unit::kSystolicArray, Action::kMacInt8, macs);
  ledger_->act(b.record, Unit::kSystolicArray, Action::kRfAccess, 2 * macs);  // two 1-byte operand hops per MAC
  ledger_->act_fp32(b.record, Unit::kSystolicArray, Action::kMacFp32, macs);
  ledger_->act_fp32(b.record, Unit::kSystolicArray, Action::kRfAccess, 8 * macs);
  // Operands leave the scratchpads once per tile that uses them; partial sums go to the
  // accumulator SRAM, merged (read + add + write) after the first reduction chunk.
  const int64_t x_el = b.m_len * D * nt, y_el = D * b.n_len * mt, out_el = b.m_len * b.n_len;
  ledger_->sram(b.record, Buffer::kIfmap, bytes_of(x_el, b.x_bytes), 0, 4 * x_el, 0);
  ledger_->sram(b.record, Buffer::kFilter, bytes_of(y_el, b.y_bytes), 0, 4 * y_el, 0);
  // (The FP32 baseline's partial sums follow its own plan: charge_fp32_plan, array_gemm.cpp.)
  if (b.first_chunk) {
    ledger_->sram(b.record, Buffer::kAccum, 0, kAccumBytes * out_el, 0, 0);
  } else {
    ledger_->sram(b.record, Buffer::kAccum, kAccumBytes * out_el, kAccumBytes * out_el, 0, 0);
    ledger_->act(b.record, Unit::kSystolicArray, Action::kAddInt64, out_el);
  }
  if (b.data) compute_values(b, busy, op);
  return busy;
}

void SystolicArray::compute_values(const ArrayBlock& b, int64_t busy, Op& op) {
  GemmData& g = *b.data;
  // The block's tiles in the order the array streams them (rows of tiles, then columns).
  std::vector<ArrayTileJob> jobs;
  auto origin = std::make_shared<std::vector<std::array<int64_t, 4>>>();  // m0, n0, rows, cols of each tile
  for (int64_t m0 = b.m0; m0 < b.m0 + b.m_len; m0 += rows_) {
    for (int64_t n0 = b.n0; n0 < b.n0 + b.n_len; n0 += cols_) {
      ArrayTileJob job;
      job.kind = g.kind;
      job.rows = std::min<int64_t>(rows_, b.m0 + b.m_len - m0);
      job.cols = std::min<int64_t>(cols_, b.n0 + b.n_len - n0);
      job.depth = b.d_len;
      switch (g.kind) {
        case GemmKind::kForward:
          job.act = slice(g.act, m0, job.rows, b.d0, b.d_len);
          job.weight = slice(g.weight, b.d0, b.d_len, n0, job.cols);
          break;
        case GemmKind::kBackwardData:
          job.err = slice(g.err, m0, job.rows, b.d0, b.d_len);
          job.weight = slice(g.weight, n0, job.cols, b.d0, b.d_len);
          break;
        case GemmKind::kWeightGrad:
          job.act = slice(g.act, b.d0, b.d_len, m0, job.rows);
          job.err = slice(g.err, b.d0, b.d_len, n0, job.cols);
          break;
      }
      jobs.push_back(std::move(job));
      origin->push_back({m0, n0, job.rows, job.cols});
    }
  }
  backend_->where = where(*ledger_, b.record);
  const std::string what = backend_->where + ": systolic_array " + gemm_kind_name(g.kind);
  const std::string block = what + " block of " + std::to_string(jobs.size()) + " tiles, depth " + std::to_string(b.d_len);
  // First beat .. last output row: the block's busy cycles (its last beat included, after any
  // wait for TileGap behind the previous block) and the drain.
  const int64_t cycles = busy + timing::array_drain_cycles(rows_, cols_);
  const int64_t depth = b.d_len;
  ArrayBlockDone done;
  done.failed = [this](std::exception_ptr e) {
    if (!arena_.error) arena_.error = e;
  };
  done.ok = [this, &g, &op, origin, what, block, cycles, depth, rows = rows_, cols = cols_, n = jobs.size()](ArrayBlockOutcome& o) {
    try {
      if (o.tiles.size() != n) throw std::logic_error("systolic_array: backend returned the wrong number of tiles");
      check_.compare(block, cycles, o.cycles);
      // A backend in SystemC time delivers while the model's drain runs: values arriving after
      // it would be late for the operations that wait for them.
      if (op.finished && sc_core::sc_time_stamp() >= op.done_at)
        throw std::runtime_error(block + ": the backend's values came after the model's drain had ended");
      const int64_t N = g.out.shape[1];
      for (size_t t = 0; t < n; ++t) {
        const ArrayTileOutcome& tile = o.tiles[t];
        const auto [m0, n0, tr, tc] = (*origin)[t];
        if (tile.out.shape != golden::Shape{tr, tc})
          throw std::logic_error("systolic_array: backend returned a tile of the wrong shape");
        check_.compare(what + " tile", timing::array_tile_cycles(depth, rows, cols), tile.cycles);
        g.out.exp = tile.out.exp;
        for (int64_t r = 0; r < tr; ++r)
          for (int64_t c = 0; c < tc; ++c)
            g.out.data[static_cast<size_t>((m0 + r) * N + n0 + c)] += tile.out.data[static_cast<size_t>(r * tc + c)];
      }
    } catch (...) {
      if (!arena_.error) arena_.error = std::current_exception();
    }
  };
  backend_->start_block(jobs, std::move(done));
}

// ---- shift_quantizer ---------------------------------------------------------------------

void ShiftQuantizer::configure(int lanes, Ledger* ledger, ShiftQuantizerBackend* backend) {
  lanes_ = lanes;
  ledger_ = ledger;
  backend_ = backend;
}

Op* ShiftQuantizer::quantize(int record, SqMode mode, int64_t n, StreamTraffic t, std::function<SqJob()> job,
                             std::function<void(SqOutcome&)> done, bool fused, bool decay) {
  Op* op = stream_op(arena_, record, t);
  op->start = [=, this] {
    const bool direct = mode == SqMode::kDirect;
    const int64_t cycles = direct  ? timing::sq_direct_cycles(n, lanes_)
                           : fused ? timing::sq_fused_cycles(n, lanes_)
                                   : timing::sq_two_pass_cycles(n, lanes_);
    charge(*ledger_, record, t);
    // max|x| compares: the scan pass, or (fused) the array's drain-path register; counted here.
    if (!direct) ledger_->act(record, Unit::kShiftQuantizer, Action::kCompare, n);
    ledger_->act(record, Unit::kShiftQuantizer, Action::kShift, n);
    ledger_->act(record, Unit::kShiftQuantizer, Action::kAddInt32, n);  // rounding increment
    if (decay) ledger_->act(record, Unit::kShiftQuantizer, Action::kAddInt32, 2 * n);  // the decay adder, both passes
    ledger_->act(record, Unit::kShiftQuantizer, Action::kCompare, n);   // clip
    if (mode == SqMode::kConstant) ledger_->act(record, Unit::kShiftQuantizer, Action::kRng, n);
    if (job) {
      backend_->where = where(*ledger_, record);
      SqJob j = job();
      j.fused = fused && !direct;
      SqOutcome o = backend_->run(j);
      check_.compare(backend_->where + ": shift_quantizer", cycles, o.cycles);
      done(o);
    }
    return cycles;
  };
  submit(op);
  return op;
}

// ---- bn_unit -------------------------------------------------------------------------------

void BnUnit::configure(int lanes, Ledger* ledger, BnBackend* backend) {
  lanes_ = lanes;
  ledger_ = ledger;
  backend_ = backend;
}

Op* BnUnit::forward(int record, int64_t n, int64_t channels, StreamTraffic t, std::function<BnForwardJob()> job,
                    std::function<void(BnForwardOutcome&)> done) {
  Op* op = stream_op(arena_, record, t);
  op->start = [=, this] {
    const int64_t cycles = timing::bn_forward_cycles(n, channels, lanes_);
    charge(*ledger_, record, t);
    const Unit u = Unit::kBnUnit;
    // Statistics: Σx, Σx² (exact, wide); per channel isqrt + 24-bit reciprocal (~48 wide steps).
    ledger_->act(record, u, Action::kAddInt64, 2 * n + 48 * channels);
    ledger_->act(record, u, Action::kMulInt32, n);
    // Normalise: (x - μ)·ρ >> L, γ·x̂ + β, ReLU quantize.
    ledger_->act(record, u, Action::kAddInt32, 2 * n);
    ledger_->act(record, u, Action::kMulInt32, 2 * n);
    ledger_->act(record, u, Action::kShift, 2 * n);
    ledger_->act(record, u, Action::kCompare, n);
    ledger_->act_fp32(record, u, Action::kAddFp32, 4 * n);
    ledger_->act_fp32(record, u, Action::kMulFp32, 3 * n + 2 * channels);
    ledger_->act_fp32(record, u, Action::kCompare, n);
    if (job) {
      backend_->where = where(*ledger_, record);
      BnForwardOutcome o = backend_->forward(job());
      check_.compare(backend_->where + ": bn_unit forward", cycles, o.cycles);
      done(o);
    }
    return cycles;
  };
  submit(op);
  return op;
}

Op* BnUnit::backward(int record, int64_t n, int64_t channels, StreamTraffic t, std::function<BnBackwardJob()> job,
                     std::function<void(BnBackwardOutcome&)> done) {
  Op* op = stream_op(arena_, record, t);
  op->start = [=, this] {
    const int64_t cycles = timing::bn_backward_cycles(n, channels, lanes_);
    charge(*ledger_, record, t);
    const Unit u = Unit::kBnUnit;
    ledger_->act(record, u, Action::kCompare, n);                      // ReLU mask
    ledger_->act(record, u, Action::kMulInt32, 3 * n);                 // dy·x̂, γ·ρ·(...)
    ledger_->act(record, u, Action::kAddInt64, 2 * n + 2 * channels);  // Σdy, Σdy·x̂
    ledger_->act(record, u, Action::kAddInt32, 2 * n);
    ledger_->act(record, u, Action::kShift, n);
    ledger_->act_fp32(record, u, Action::kCompare, n);
    ledger_->act_fp32(record, u, Action::kMulFp32, 3 * n);
    ledger_->act_fp32(record, u, Action::kAddFp32, 4 * n);
    if (job) {
      backend_->where = where(*ledger_, record);
      BnBackwardOutcome o = backend_->backward(job());
      check_.compare(backend_->where + ": bn_unit backward", cycles, o.cycles);
      done(o);
    }
    return cycles;
  };
  submit(op);
  return op;
}

namespace {
void count_actions(Ledger& ledger, int record, Unit u, int64_t n, ElementActions per) {
  ledger.act(record, u, Action::kAddInt32, per.adds * n);
  ledger.act(record, u, Action::kCompare, per.compares * n);
  ledger.act(record, u, Action::kMulInt32, per.muls * n);
  ledger.act_fp32(record, u, Action::kAddFp32, per.adds * n);
  ledger.act_fp32(record, u, Action::kCompare, per.compares * n);
  ledger.act_fp32(record, u, Action::kMulFp32, per.muls * n);
}
}  // namespace

Op* BnUnit::stream(int record, int64_t n, ElementActions per, StreamTraffic t, std::function<void()> values) {
  Op* op = stream_op(arena_, record, t);
  op->start = [=, this] {
    charge(*ledger_, record, t);
    count_actions(*ledger_, record, Unit::kBnUnit, n, per);
    if (values) values();
    return timing::bn_stream_cycles(n, lanes_);
  };
  submit(op);
  return op;
}

// ---- vector_unit ---------------------------------------------------------------------------

void VectorUnit::configure(int lanes, Ledger* ledger, VectorUnitBackend* backend) {
  lanes_ = lanes;
  ledger_ = ledger;
  backend_ = backend;
}

int64_t VectorUnit::cycles(const VuShape& s, int64_t lanes) {
  switch (s.op) {
    case VuOp::kResidualAdd:
    case VuOp::kErrorAdd: return timing::vu_elementwise_cycles(s.n, lanes);
    case VuOp::kBiasGrad: return timing::vu_bias_grad_cycles(s.rows, s.cols, lanes);
    case VuOp::kLoss: return timing::vu_loss_cycles(s.rows, s.cols, lanes);
    case VuOp::kMaxPool:
    case VuOp::kAvgPool:
    case VuOp::kMaxPoolBwd:
    case VuOp::kAvgPoolBwd: {
      if (s.in.size() != 4) throw std::logic_error("vector_unit: pooling needs an {N, C, H, W} input");
      const int64_t h = s.in[2], w = s.in[3];
      const int64_t k = s.pool.global ? h : s.pool.kernel, st = s.pool.global ? 1 : s.pool.stride,
                    p = s.pool.global ? 0 : s.pool.pad;
      const bool fwd = s.op == VuOp::kMaxPool || s.op == VuOp::kAvgPool;
      const int64_t tokens = fwd ? timing::vu_pool_forward_tokens(h, w, k, st, p) : timing::vu_pool_backward_tokens(h, w, k, st, p);
      return timing::vu_pool_cycles(s.in[0] * s.in[1], tokens, lanes);
    }
  }
  throw std::logic_error("vector_unit: unknown operation");
}

Op* VectorUnit::run(int record, int64_t n, ElementActions per, const VuShape& shape, StreamTraffic t,
                    std::function<VuJob()> job, std::function<void(VuOutcome&)> done) {
  Op* op = stream_op(arena_, record, t);
  op->start = [=, this] {
    const int64_t cycles = VectorUnit::cycles(shape, lanes_);
    charge(*ledger_, record, t);
    count_actions(*ledger_, record, Unit::kVectorUnit, n, per);
    if (job) {
      backend_->where = where(*ledger_, record);
      VuJob j = job();
      j.shape = shape;
      VuOutcome o = backend_->run(j);
      check_.compare(backend_->where + ": vector_unit " + vu_op_name(shape.op), cycles, o.cycles);
      done(o);
    }
    return cycles;
  };
  submit(op);
  return op;
}

// ---- optimizer_unit -------------------------------------------------------------------------

void OptimizerUnit::configure(int lanes, Ledger* ledger, OptimizerBackend* backend) {
  lanes_ = lanes;
  ledger_ = ledger;
  backend_ = backend;
}

Op* OptimizerUnit::update(int record, int64_t n, StreamTraffic t, std::function<OptJob()> job,
                          std::function<void(OptOutcome&)> done) {
  Op* op = stream_op(arena_, record, t);
  op->start = [=, this] {
    const int64_t cycles = timing::optimizer_cycles(n, lanes_);
    charge(*ledger_, record, t);
    const Unit u = Unit::kOptimizerUnit;
    // acc = V + G; M - lr·acc; V' = rhe(acc/4); W = clamp(rhe(M'/2^s)).
    ledger_->act(record, u, Action::kAddInt32, 2 * n);
    ledger_->act(record, u, Action::kMulInt32, n);
    ledger_->act(record, u, Action::kShift, 2 * n);
    ledger_->act(record, u, Action::kCompare, 2 * n);
    // FP32 SGD with momentum: v = m·v + g; w -= lr·v.
    ledger_->act_fp32(record, u, Action::kAddFp32, 2 * n);
    ledger_->act_fp32(record, u, Action::kMulFp32, 2 * n);
    if (job) {
      backend_->where = where(*ledger_, record);
      OptOutcome o = backend_->run(job());
      check_.compare(backend_->where + ": optimizer_unit", cycles, o.cycles);
      done(o);
    }
    return cycles;
  };
  submit(op);
  return op;
}

}  // namespace octet::model
