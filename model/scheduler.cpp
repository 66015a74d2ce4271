#include "model/scheduler.h"

#include <algorithm>
#include <array>
#include <climits>
#include <set>
#include <stdexcept>
#include <tuple>

namespace octet::model {

void Scheduler::stage(int rec, const std::function<std::vector<Op*>()>& issue) {
  const int64_t t0 = time_to_cycles(sc_core::sc_time_stamp());
  for (Op* op : issue()) {
    wait_done(op);
    ledger_.record(rec).stall_cycles += op->stall_cycles;
    ledger_.record(rec).contention_cycles += op->span.unit == Unit::kDram ? 0 : op->contention;
  }
  if (arena_.error) std::rethrow_exception(arena_.error);
  const int64_t t1 = time_to_cycles(sc_core::sc_time_stamp());
  ledger_.record(rec).cycles += t1 - t0;
  ledger_.stage(rec, t0, t1);
}

void Scheduler::run(const StepGraph& graph, const std::function<Issued(const StepOp&)>& issue,
                    const std::function<void(const StepGroup&)>& group_done) {
  for (const RecordDesc& r : graph.records) ledger_.open(r.layer, r.kind, r.pass);
  for (const StepGroup& g : graph.groups) {
    for (int k = g.first_op; k < g.end_op; ++k) {
      const StepOp& op = graph.ops[static_cast<size_t>(k)];
      Issued done;
      if (step_op_unit(op.kind) == Unit::kCount)
        done = issue(op);
      else
        stage(op.record, [&] {
          done = issue(op);
          return done.ops;
        });
      if (done.then) done.then();
    }
    if (group_done) group_done(g);
  }
}

namespace {

bool released(const Op* op) { return !op || (op->finished && sc_core::sc_time_stamp() >= op->released_at); }
bool done(const Op* op) { return op->finished && sc_core::sc_time_stamp() >= op->done_at; }

int unit_rank(Unit u) {
  switch (u) {
    case Unit::kSystolicArray: return 0;
    case Unit::kShiftQuantizer: return 1;
    case Unit::kBnUnit: return 2;
    case Unit::kOptimizerUnit: return 3;
    case Unit::kVectorUnit: return 4;
    default: return 5;
  }
}

}  // namespace

void Scheduler::run_concurrent(const StepGraph& graph, const std::function<Issued(const StepOp&)>& issue,
                               const std::function<AccumUse(const StepOp&)>& accum, int64_t capacity,
                               const std::function<void(const StepGroup&)>& group_done) {
  for (const RecordDesc& r : graph.records) ledger_.open(r.layer, r.kind, r.pass);
  const int n = static_cast<int>(graph.ops.size());
  const auto op_at = [&](int k) -> const StepOp& { return graph.ops[static_cast<size_t>(k)]; };

  // Successors, pending dependency counts and groups.
  std::vector<std::vector<int>> succ(static_cast<size_t>(n));
  std::vector<int> pending(static_cast<size_t>(n), 0), group_of(static_cast<size_t>(n), -1);
  for (int k = 0; k < n; ++k)
    for (int d : op_at(k).deps) {
      succ[static_cast<size_t>(d)].push_back(k);
      ++pending[static_cast<size_t>(k)];
    }
  std::vector<int> group_left(graph.groups.size(), 0);
  for (size_t g = 0; g < graph.groups.size(); ++g) {
    for (int k = graph.groups[g].first_op; k < graph.groups[g].end_op; ++k) group_of[static_cast<size_t>(k)] = static_cast<int>(g);
    group_left[g] = graph.groups[g].end_op - graph.groups[g].first_op;
  }
  for (size_t g = 0; g < graph.groups.size(); ++g)
    if (group_left[g] == 0 && group_done) group_done(graph.groups[g]);

  // Tensors left in the accumulator SRAM: who holds them and which readers are still to come.
  struct Claim {
    int producer;
    TensorRef tensor;
    int64_t bytes;
    std::vector<int> readers;
    bool produced = false;
  };
  std::vector<Claim> claims;
  int halves_in_flight = 0;

  struct Flight {
    int k;
    Issued is;
    size_t cursor = 0;  // ops before it are done
    AccumUse use;
  };
  std::vector<Flight> flight;
  // Ready operations by priority: the longest chain of operations still behind one (the
  // critical path in operations, e.g. a layer's error GEMM, which the rest of the backward
  // pass waits for, before its weight-gradient GEMM, which only the update waits for); then
  // graph order.
  std::vector<int> level(static_cast<size_t>(n), 0);
  for (int k = n - 1; k >= 0; --k)
    for (int s : succ[static_cast<size_t>(k)]) level[static_cast<size_t>(k)] = std::max(level[static_cast<size_t>(k)], level[static_cast<size_t>(s)] + 1);
  const auto before = [&level](int a, int b) {
    return std::make_pair(-level[static_cast<size_t>(a)], a) < std::make_pair(-level[static_cast<size_t>(b)], b);
  };
  std::set<int, decltype(before)> ready(before);
  for (int k = 0; k < n; ++k)
    if (pending[static_cast<size_t>(k)] == 0) ready.insert(k);
  std::array<const Op*, kNumUnits> gate{};  // per unit: the op whose release frees it
  std::vector<TimedOp> timed;
  int64_t seq = 0;
  int completed = 0;
  const int64_t t0 = time_to_cycles(sc_core::sc_time_stamp());

  const auto complete = [&](Flight& f) {
    if (f.is.then) f.is.then();
    PassRecord& rec = ledger_.record(op_at(f.k).record);
    for (const Op* o : f.is.ops) {
      if (o->span.unit != Unit::kDram) {  // a unit's stall (a transfer's own loss shows in its unit's)
        rec.stall_cycles += o->stall_cycles;
        rec.contention_cycles += o->contention;
      }
      const Unit u = o->span.unit == Unit::kDram ? Unit::kDram : step_op_unit(op_at(f.k).kind);
      timed.push_back(TimedOp{op_at(f.k).record, unit_rank(u), seq++, time_to_cycles(o->started), time_to_cycles(o->done_at)});
    }
    if (arena_.error) std::rethrow_exception(arena_.error);
    if (f.use.kind == AccumUse::kHalves) --halves_in_flight;
    for (Claim& c : claims) {
      c.readers.erase(std::remove(c.readers.begin(), c.readers.end(), f.k), c.readers.end());
      if (c.producer == f.k) c.produced = true;
    }
    claims.erase(std::remove_if(claims.begin(), claims.end(), [](const Claim& c) { return c.produced && c.readers.empty(); }),
                 claims.end());
    for (int s : succ[static_cast<size_t>(f.k)])
      if (--pending[static_cast<size_t>(s)] == 0) ready.insert(s);
    const int g = group_of[static_cast<size_t>(f.k)];
    if (g >= 0 && --group_left[static_cast<size_t>(g)] == 0 && group_done) group_done(graph.groups[static_cast<size_t>(g)]);
    ++completed;
  };

  // Whether the accumulator rule lets op k (using `use`) start now.
  const auto accum_allows = [&](int k, const AccumUse& use) {
    if (use.kind == AccumUse::kHalves) return claims.empty();
    if (use.kind != AccumUse::kHolds) return true;
    if (halves_in_flight > 0) return false;
    const StepOp& op = op_at(k);
    int64_t held = 0;
    for (const Claim& c : claims)
      if (std::find(op.reads.begin(), op.reads.end(), c.tensor) == op.reads.end()) held += c.bytes;
    return held + use.bytes <= capacity;
  };

  const auto start = [&](int k, const AccumUse& use) {
    const StepOp& op = op_at(k);
    ready.erase(k);
    Flight f{k, issue(op), 0, use};
    const Unit u = step_op_unit(op.kind);
    if (u != Unit::kCount) gate[static_cast<size_t>(u)] = f.is.frees_unit;
    if (use.kind == AccumUse::kHalves) ++halves_in_flight;
    if (use.kind == AccumUse::kHolds) {
      Claim c{k, use.tensor, use.bytes, {}, false};
      for (int s : succ[static_cast<size_t>(k)])
        if (std::find(op_at(s).reads.begin(), op_at(s).reads.end(), use.tensor) != op_at(s).reads.end()) c.readers.push_back(s);
      claims.push_back(std::move(c));
    }
    flight.push_back(std::move(f));
  };

  // On an error, the operations in flight still reference this step's data: let the units
  // finish them before the exception leaves.
  try {
  while (completed < n) {
    // Issue every ready operation whose unit and accumulator allow it, by priority.
    bool blocked_by_accum = false;
    for (auto it = ready.begin(); it != ready.end();) {
      const int k = *it++;
      const StepOp& op = op_at(k);
      const Unit u = step_op_unit(op.kind);
      if (u != Unit::kCount && !released(gate[static_cast<size_t>(u)])) continue;
      const AccumUse use = accum(op);
      if (!accum_allows(k, use)) {
        blocked_by_accum = true;
        continue;
      }
      start(k, use);
    }
    // Completions (bookkeeping operations complete at once: they have no unit operations).
    bool any_done = false;
    for (size_t i = 0; i < flight.size();) {
      Flight& f = flight[i];
      while (f.cursor < f.is.ops.size() && done(f.is.ops[f.cursor])) ++f.cursor;
      if (f.cursor == f.is.ops.size()) {
        Flight fin = std::move(f);
        flight.erase(flight.begin() + static_cast<std::ptrdiff_t>(i));
        complete(fin);
        any_done = true;
      } else {
        ++i;
      }
    }
    if (any_done || completed == n) continue;
    if (flight.empty()) {
      if (ready.empty()) throw std::logic_error("scheduler: operations left that can never become ready");
      if (!blocked_by_accum) throw std::logic_error("scheduler: ready operations but nothing in flight and no unit free");
      ++accum_overrides_;
      start(*ready.begin(), AccumUse{});
      continue;
    }
    // Wait for the next completion or a unit becoming free.
    sc_core::sc_event_or_list any;
    bool have_event = false, have_time = false;
    sc_core::sc_time soonest;
    const sc_core::sc_time now = sc_core::sc_time_stamp();
    const auto at = [&](const sc_core::sc_time& t) {
      if (!have_time || t < soonest) soonest = t;
      have_time = true;
    };
    for (Flight& f : flight) {
      const Op* o = f.is.ops[f.cursor];
      if (o->finished)
        at(o->done_at);
      else {
        any |= const_cast<Op*>(o)->done_ev;
        have_event = true;
      }
    }
    for (const Op* g : gate)
      if (g && !released(g)) {
        if (g->finished)
          at(g->released_at);
        else {
          any |= const_cast<Op*>(g)->released_ev;
          have_event = true;
        }
      }
    if (have_time && have_event)
      sc_core::wait(soonest - now, any);
    else if (have_time)
      sc_core::wait(soonest - now);
    else
      sc_core::wait(any);
  }
  } catch (...) {
    for (const Flight& f : flight)
      for (const Op* o : f.is.ops) wait_done(o);
    throw;
  }

  for (const AttributedSpan& s : attribute_cycles(std::move(timed), t0)) {
    ledger_.record(s.record).cycles += s.end - s.start;
    ledger_.stage(s.record, s.start, s.end);
  }
}

std::vector<AttributedSpan> attribute_cycles(std::vector<TimedOp> ops, int64_t t0) {
  std::vector<AttributedSpan> out;
  std::vector<size_t> by_start(ops.size()), by_end(ops.size());
  for (size_t i = 0; i < ops.size(); ++i) by_start[i] = by_end[i] = i;
  std::sort(by_start.begin(), by_start.end(), [&](size_t a, size_t b) {
    return std::tie(ops[a].start, ops[a].seq) < std::tie(ops[b].start, ops[b].seq);
  });
  std::sort(by_end.begin(), by_end.end(), [&](size_t a, size_t b) { return ops[a].end < ops[b].end; });
  const auto give = [&](int record, int64_t a, int64_t b) {
    if (b <= a) return;
    if (!out.empty() && out.back().record == record && out.back().end == a)
      out.back().end = b;
    else
      out.push_back(AttributedSpan{record, a, b});
  };
  std::set<std::tuple<int, int64_t, size_t>> active;  // (rank, seq, op)
  size_t si = 0, ei = 0;
  int64_t t = t0;
  int64_t gap_from = -1;  // start of a stretch with nothing running, given to the next op to start
  while (si < by_start.size() || ei < by_end.size()) {
    const int64_t next_start = si < by_start.size() ? ops[by_start[si]].start : INT64_MAX;
    const int64_t next_end = ei < by_end.size() ? ops[by_end[ei]].end : INT64_MAX;
    const int64_t next = std::min(next_start, next_end);
    if (active.empty()) {
      if (next > t && gap_from < 0) gap_from = t;
    } else {
      give(ops[std::get<2>(*active.begin())].record, t, next);
    }
    t = std::max(t, next);
    // Ends first (an op ending at t no longer runs at t), then starts.
    while (ei < by_end.size() && ops[by_end[ei]].end == t) {
      const size_t i = by_end[ei++];
      active.erase({ops[i].rank, ops[i].seq, i});
    }
    while (si < by_start.size() && ops[by_start[si]].start == t) {
      const size_t i = by_start[si++];
      if (gap_from >= 0) {
        give(ops[i].record, gap_from, t);
        gap_from = -1;
      }
      if (ops[i].end > ops[i].start) active.insert({ops[i].rank, ops[i].seq, i});  // empty ones never run
    }
  }
  return out;
}

}  // namespace octet::model
