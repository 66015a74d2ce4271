#include "sim/rtl_systolic_array.h"

#include <verilated_fst_c.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "model/sim_op.h"
#include "sim/array_gemm.h"
#include "sim/port_bits.h"

namespace octet::sim {

namespace {

Operand from_code(const golden::FlagCode& c) { return {c.value, !c.fine}; }

void check_shape(const char* what, const golden::Shape& got, const golden::Shape& want) {
  if (got != want)
    throw std::invalid_argument(std::string("systolic_array cosim: operand ") + what + " has the wrong shape");
}

}  // namespace

RtlSystolicArray::RtlSystolicArray(const sc_core::sc_module_name& name, int rows, int cols,
                                   const std::function<void(RtlSystolicArray&)>& bind)
    : RtlUnit(name),
      rows_(rows),
      cols_(cols),
      a_words_((rows * kOpBits + 31) / 32),
      b_words_((cols * kOpBits + 31) / 32),
      row_words_((cols * kAccBits + 31) / 32),
      a_coarse_((rows + 31) / 32),
      b_coarse_((cols + 31) / 32) {
  bind(*this);
  SC_THREAD(engine);
}

RtlSystolicArray::~RtlSystolicArray() = default;

namespace {

std::string tile_text(const model::ArrayTileJob& job) {
  return std::string(model::gemm_kind_name(job.kind)) + " tile " + std::to_string(job.rows) + "x" +
         std::to_string(job.cols) + " depth " + std::to_string(job.depth);
}

}  // namespace

RtlSystolicArray::TileOperands RtlSystolicArray::tile_operands(const model::ArrayTileJob& job, int array_rows,
                                                               int array_cols) {
  const int64_t R = job.rows, C = job.cols, K = job.depth;
  if (R < 1 || R > array_rows || C < 1 || C > array_cols || K < 1)
    throw std::invalid_argument("systolic_array cosim: a tile of " + std::to_string(R) + "x" + std::to_string(C) +
                                " depth " + std::to_string(K) + " does not fit the verilated " +
                                std::to_string(array_rows) + "x" + std::to_string(array_cols) + " array");
  TileOperands t{R, C, K, std::vector<Operand>(static_cast<size_t>(R * K)), std::vector<Operand>(static_cast<size_t>(K * C))};
  std::vector<Operand>& x = t.x;
  std::vector<Operand>& y = t.y;
  switch (job.kind) {
    case model::GemmKind::kForward:
      check_shape("act", job.act.shape, {R, K});
      check_shape("weight", job.weight.shape, {K, C});
      for (int64_t i = 0; i < R * K; ++i) x[i] = {job.act.data[i], false};
      for (int64_t i = 0; i < K * C; ++i) y[i] = {job.weight.data[i], false};
      break;
    case model::GemmKind::kBackwardData:
      check_shape("err", job.err.shape, {R, K});
      check_shape("weight", job.weight.shape, {C, K});
      for (int64_t i = 0; i < R * K; ++i) x[i] = from_code(job.err.data[i]);
      for (int64_t k = 0; k < K; ++k)
        for (int64_t c = 0; c < C; ++c) y[k * C + c] = {job.weight.data[c * K + k], false};
      break;
    case model::GemmKind::kWeightGrad:
      check_shape("act", job.act.shape, {K, R});
      check_shape("err", job.err.shape, {K, C});
      for (int64_t r = 0; r < R; ++r)
        for (int64_t k = 0; k < K; ++k) x[r * K + k] = {job.act.data[k * R + r], false};
      for (int64_t i = 0; i < K * C; ++i) y[i] = from_code(job.err.data[i]);
      break;
  }
  return t;
}

model::ArrayTileOutcome RtlSystolicArray::run_tile(const model::ArrayTileJob& job) {
  model::ArrayBlockOutcome b = run_block({job});
  model::ArrayTileOutcome o = std::move(b.tiles.front());
  o.cycles = b.cycles;  // one tile: the block is the tile
  return o;
}


std::shared_ptr<RtlSystolicArray::BlockRun> RtlSystolicArray::make_run(const std::vector<model::ArrayTileJob>& jobs) const {
  if (jobs.empty()) throw std::invalid_argument("systolic_array cosim: a block without tiles");
  auto run = std::make_shared<BlockRun>();
  run->jobs = jobs;
  for (const model::ArrayTileJob& j : jobs) run->tiles.push_back(tile_operands(j, rows_, cols_));
  run->out.tiles.assign(jobs.size(), {});
  for (size_t t = 0; t < jobs.size(); ++t)
    run->out.tiles[t].out = golden::Tensor<int64_t>({run->tiles[t].rows, run->tiles[t].cols}, 0);
  run->max.assign(jobs.size(), 0);
  run->where = where;
  return run;
}

// The first half of a clock cycle of the array with the blocks in `q` (oldest first): the first
// block not fully fed presents its next beat (held until the array takes it: a tile's last beat
// waits out TileGap after the previous one), the oldest block not fully drained takes the output
// row, and one cycle after a tile's last row its out_max_o. So blocks stream back to back: the
// next block's beats enter while the previous one drains. Returns whether a beat entered or a
// row left (the engine's watchdog).
bool RtlSystolicArray::cycle_step(const BlockQueue& q) {
  Pins& p = pins_;
  BlockRun* feeding = nullptr;
  for (const auto& b : q)
    if (!b->fed) {
      feeding = b.get();
      break;
    }
  p.in_valid.write(feeding != nullptr);
  if (feeding) {
    const TileOperands& t = feeding->tiles[feeding->in_tile];
    const int64_t beat = feeding->beat;
    if (!feeding->presented) feeding->presented = true, feeding->first_beat = cycle();
    p.in_first.write(beat == 0);
    p.in_last.write(beat == t.depth - 1);
    p.in_job_first.write(true);  // each tile is a job here: out_max_o is the tile's max |out|
    std::fill(a_coarse_.begin(), a_coarse_.end(), 0);
    std::fill(b_coarse_.begin(), b_coarse_.end(), 0);
    for (int r = 0; r < rows_; ++r) {  // rows and columns past the tile carry zeros
      const Operand o = r < t.rows ? t.x[r * t.depth + beat] : Operand{};
      put_bits(a_words_, r * kOpBits, kOpBits, low_bits(o.value, kOpBits));
      put_bits(a_coarse_, r, 1, o.coarse);
    }
    for (int c = 0; c < cols_; ++c) {
      const Operand o = c < t.cols ? t.y[beat * t.cols + c] : Operand{};
      put_bits(b_words_, c * kOpBits, kOpBits, low_bits(o.value, kOpBits));
      put_bits(b_coarse_, c, 1, o.coarse);
    }
    p.in_a_value->write(a_words_);
    p.in_b_value->write(b_words_);
    p.in_a_coarse->write(a_coarse_);
    p.in_b_coarse->write(b_coarse_);
  }
  clock_low();
  for (const auto& b : q)  // out_max_o of the tile whose last row left in the previous cycle
    if (b->max_due >= 0) {
      b->max[static_cast<size_t>(b->max_due)] = p.out_max.read();
      b->max_due = -1;
      break;
    }
  const bool took = feeding && p.in_ready.read();
  if (took && ++feeding->beat == feeding->tiles[feeding->in_tile].depth) {
    feeding->beat = 0;
    feeding->fed = ++feeding->in_tile == feeding->tiles.size();
  }
  const bool row = p.out_valid.read();
  if (row) {
    BlockRun* draining = nullptr;
    for (const auto& b : q)
      if (b->out_tile < b->tiles.size()) {
        draining = b.get();
        break;
      }
    if (!draining) throw std::runtime_error("systolic_array cosim: an output row after the last tile");
    BlockRun& b = *draining;
    if (p.out_last.read() != (b.row == rows_ - 1))
      throw std::runtime_error("systolic_array cosim: out_last_o wrong at output row " + std::to_string(b.row) +
                               " of tile " + std::to_string(b.out_tile));
    const TileOperands& t = b.tiles[b.out_tile];
    if (b.row < t.rows) {
      p.out_row->read(row_words_);
      golden::Tensor<int64_t>& out = b.out.tiles[b.out_tile].out;
      for (int64_t c = 0; c < t.cols; ++c)
        out.data[b.row * t.cols + c] = sign_extend(get_bits(row_words_, c * kAccBits, kAccBits), kAccBits);
    }
    if (++b.row == rows_) {
      b.max_due = static_cast<int64_t>(b.out_tile);  // out_max_o takes the last row one cycle after it
      if (++b.out_tile == b.tiles.size()) b.out.cycles = static_cast<int64_t>(cycle() - b.first_beat + 1);
      b.row = 0;
    }
  }
  // The caller raises the edge (clock_high) after acting on what this cycle collected.
  return took || row;
}

// One block on its own, from the array as the last job left it (reset if needed) to its last
// out_max_o. Outside a SystemC thread, and for a waveform replay.
void RtlSystolicArray::drive_alone(const std::shared_ptr<BlockRun>& run) {
  reset_if_needed();
  const BlockQueue q{run};
  uint64_t limit = 100;
  for (const TileOperands& t : run->tiles) limit += 4 * static_cast<uint64_t>(t.depth + rows_ + cols_);
  const uint64_t begin = cycle();
  while (!run->finished()) {
    if (cycle() - begin > limit) throw std::runtime_error("systolic_array cosim: the block did not finish (timeout)");
    cycle_step(q);
    clock_high();
    ++stats_.rtl_cycles;
  }
  pins_.in_valid.write(false);
}

// The replay of a block for its waveform: the same tiles from reset, on their own.
std::function<void()> RtlSystolicArray::replay_of(const BlockRun& run) {
  return [this, jobs = run.jobs] { drive_alone(make_run(jobs)); };
}

model::ArrayBlockOutcome RtlSystolicArray::run_block(const std::vector<model::ArrayTileJob>& jobs) {
  const std::shared_ptr<BlockRun> run = make_run(jobs);
  execute([&] { drive_alone(run); });
  check_values(*run, replay_of(*run));
  check_maxima(*run, replay_of(*run));
  return std::move(run->out);
}

// The RTL's values against the golden GEMM of every tile; a difference replays the block with
// a waveform and throws (RtlUnit::mismatch).
void RtlSystolicArray::check_values(BlockRun& run, const std::function<void()>& replay) {
  const size_t T = run.jobs.size();
  if (fault_) run.out.tiles[0].out.data[0] += 1;
  fault_ = false;
  for (size_t t = 0; t < T; ++t) {
    const model::ArrayTileJob& job = run.jobs[t];
    const model::ArrayTileOutcome want = golden_.run_tile(job);
    model::ArrayTileOutcome& got = run.out.tiles[t];
    got.out.exp = want.out.exp;
    ++stats_.jobs;
    const std::string what = tile_text(job) + " (job " + std::to_string(stats_.jobs) +
                             (T > 1 ? ", tile " + std::to_string(t + 1) + " of a block of " + std::to_string(T) : "") + ")";
    const int64_t bad = first_difference(want.out.data, got.out.data);
    if (bad >= 0)
      mismatch(replay, mismatch_line(run.where, "systolic_array", what, "out", want.out.shape, bad, want.out.data, got.out.data),
               "systolic_array_job" + std::to_string(stats_.jobs));
    stats_.values += job.rows * job.cols;
  }
}

// Each tile's out_max_o (the drain-path maximum) against golden's max |out| of the same tile.
void RtlSystolicArray::check_maxima(BlockRun& run, const std::function<void()>& replay) {
  if (max_fault_) run.max[0] ^= 1;
  max_fault_ = false;
  for (size_t t = 0; t < run.jobs.size(); ++t) {
    uint64_t want = 0;
    for (int64_t v : run.out.tiles[t].out.data) want = std::max(want, static_cast<uint64_t>(v < 0 ? -v : v));
    if (run.max[t] != want)
      mismatch(replay, mismatch_line(run.where, "systolic_array", tile_text(run.jobs[t]) + " (tile " + std::to_string(t + 1) + ")",
                                     "out_max_o", {1}, 0, std::vector<int64_t>{static_cast<int64_t>(want)},
                                     std::vector<int64_t>{static_cast<int64_t>(run.max[t])}),
               "systolic_array_max" + std::to_string(stats_.jobs));
  }
}

// ---- blocks in SystemC time ---------------------------------------------------------------

void RtlSystolicArray::start_block(const std::vector<model::ArrayTileJob>& jobs, model::ArrayBlockDone done) {
  if (!in_systemc_thread()) {  // a test, not the model
    ArrayBackend::start_block(jobs, std::move(done));
    return;
  }
  const std::shared_ptr<BlockRun> run = make_run(jobs);
  run->done = std::move(done);
  engine_blocks_.push_back(run);
  engine_wake_.notify(sc_core::SC_ZERO_TIME);
  sc_core::wait(run->fed_ev);  // notified once: the last beat entered, or the engine stopped
}

// The array's clock while it has blocks, one cycle per model cycle, each at a half cycle of model
// time: the model's threads hand blocks over at whole cycles, so a block handed over at cycle t
// presents its first beat in the engine's cycle at t + 1/2 whether the engine was idle or
// draining. The operation's last cycle is that of its last beat: the model's thread resumes
// half a cycle after the engine took it. Idle, the clock stops (it is gated, as the model
// assumes an idle unit costs nothing).
void RtlSystolicArray::engine() {
  const sc_core::sc_time half = model::cycles_to_time(1) / 2;
  for (;;) {
    while (engine_blocks_.empty()) sc_core::wait(engine_wake_);
    sc_core::wait(half);
    host_time_begin();
    try {
      reset_if_needed();
      time_window_begin();
      note_progress();
      while (!engine_blocks_.empty()) {
        // At most the newest block is still streaming in: the model hands over the next block
        // only once the last one's last beat has entered. While it streams in, the model's
        // array thread waits for it and nothing else can hand the array work: the engine runs
        // ahead of SystemC time and catches up in the cycle the last beat enters (draining
        // alone, it keeps step cycle by cycle, as the model may hand over a block at any cycle).
        BlockRun* feeding = engine_blocks_.back()->fed ? nullptr : engine_blocks_.back().get();
        if (feeding) run_ahead();
        if (cycle_step(engine_blocks_)) note_progress();
        check_progress(kQuietLimit, "systolic_array");
        if (feeding && feeding->fed) {
          catch_up();
          feeding->fed_ev.notify(half);
        }
        // A drained block's values go to the model at once (before the model's drain ends, if
        // the RTL keeps the formula's cycles: the model compares them); the block leaves after
        // its last out_max_o.
        BlockRun& front = *engine_blocks_.front();
        if (!front.delivered && front.out_tile == front.tiles.size()) {
          front.delivered = true;
          host_time_end();  // the golden comparison and the model's callback are not the RTL's
          check_values(front, replay_of(front));
          front.done.ok(front.out);
          host_time_begin();
        }
        if (front.finished()) {
          check_maxima(front, replay_of(front));
          engine_blocks_.pop_front();
        }
        clock_high();
        ++stats_.rtl_cycles;
      }
      time_window_end();
      pins_.in_valid.write(false);
      host_time_end();
    } catch (...) {
      // A stopped block stops the run: every operation still waiting is released and told.
      const std::exception_ptr e = std::current_exception();
      for (const auto& b : engine_blocks_) {
        if (b->done.failed) b->done.failed(e);
        if (!b->fed) b->fed_ev.notify(sc_core::SC_ZERO_TIME);
      }
      engine_blocks_.clear();
      pins_.in_valid.write(false);
      abandon_job();
      host_time_end();
    }
  }
}

}  // namespace octet::sim
