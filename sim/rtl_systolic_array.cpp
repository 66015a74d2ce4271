#include "sim/rtl_systolic_array.h"

#include <verilated_fst_c.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

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
    : RtlUnit(name), rows_(rows), cols_(cols) {
  bind(*this);
}

RtlSystolicArray::~RtlSystolicArray() = default;

namespace {

// One tile's operands as the array takes them: west x{R, K} (row r of the tile) and north
// y{K, C}, per training GEMM.
struct TileOperands {
  int64_t rows = 0, cols = 0, depth = 0;
  std::vector<Operand> x, y;
};

TileOperands tile_operands(const model::ArrayTileJob& job, int array_rows, int array_cols) {
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

std::string tile_text(const model::ArrayTileJob& job) {
  return std::string(model::gemm_kind_name(job.kind)) + " tile " + std::to_string(job.rows) + "x" +
         std::to_string(job.cols) + " depth " + std::to_string(job.depth);
}

}  // namespace

model::ArrayTileOutcome RtlSystolicArray::run_tile(const model::ArrayTileJob& job) {
  model::ArrayBlockOutcome b = run_block({job});
  model::ArrayTileOutcome o = std::move(b.tiles.front());
  o.cycles = b.cycles;  // one tile: the block is the tile
  return o;
}

model::ArrayBlockOutcome RtlSystolicArray::run_block(const std::vector<model::ArrayTileJob>& jobs) {
  const int array_rows = rows_, array_cols = cols_;
  if (jobs.empty()) throw std::invalid_argument("systolic_array cosim: a block without tiles");
  std::vector<TileOperands> tiles;
  for (const model::ArrayTileJob& j : jobs) tiles.push_back(tile_operands(j, array_rows, array_cols));
  const size_t T = tiles.size();

  model::ArrayBlockOutcome rtl_out;
  std::vector<uint64_t> rtl_max(T, 0);
  // The tiles stream back to back as the feeder would send them: each beat as soon as the
  // array takes it, so a tile's last beat waits out TileGap after the previous one. The array
  // keeps its state from the previous block (it is reset only before its first block and
  // after a mismatch), so consecutive blocks run on an array that has just drained.
  auto drive = [&] {
    reset_if_needed();
    const uint64_t begin = cycle();
    rtl_out.tiles.assign(T, {});
    for (size_t t = 0; t < T; ++t) rtl_out.tiles[t].out = golden::Tensor<int64_t>({tiles[t].rows, tiles[t].cols}, 0);
    std::vector<uint32_t> a_words((array_rows * kOpBits + 31) / 32), b_words((array_cols * kOpBits + 31) / 32);
    std::vector<uint32_t> row_words((array_cols * kAccBits + 31) / 32);
    std::vector<uint32_t> a_coarse((array_rows + 31) / 32), b_coarse((array_cols + 31) / 32);
    Pins& p = pins_;
    uint64_t limit = 100;
    for (const TileOperands& t : tiles) limit += 4 * static_cast<uint64_t>(t.depth + array_rows + array_cols);
    size_t in_tile = 0, out_tile = 0;
    int64_t beat = 0, row = 0;
    uint64_t start = 0;
    int64_t max_due = -1;  // the tile whose out_max_o is valid this cycle (one after its last row)
    for (;;) {
      if (cycle() - begin > limit) throw std::runtime_error("systolic_array cosim: the block did not finish (timeout)");
      const bool presenting = in_tile < T;
      p.in_valid.write(presenting);
      if (presenting) {
        const TileOperands& t = tiles[in_tile];
        p.in_first.write(beat == 0);
        p.in_last.write(beat == t.depth - 1);
        p.in_job_first.write(true);  // each tile is a job here: out_max_o is the tile's max |out|
        std::fill(a_coarse.begin(), a_coarse.end(), 0);
        std::fill(b_coarse.begin(), b_coarse.end(), 0);
        for (int r = 0; r < array_rows; ++r) {  // rows and columns past the tile carry zeros
          const Operand o = r < t.rows ? t.x[r * t.depth + beat] : Operand{};
          put_bits(a_words, r * kOpBits, kOpBits, low_bits(o.value, kOpBits));
          put_bits(a_coarse, r, 1, o.coarse);
        }
        for (int c = 0; c < array_cols; ++c) {
          const Operand o = c < t.cols ? t.y[beat * t.cols + c] : Operand{};
          put_bits(b_words, c * kOpBits, kOpBits, low_bits(o.value, kOpBits));
          put_bits(b_coarse, c, 1, o.coarse);
        }
        p.in_a_value->write(a_words);
        p.in_b_value->write(b_words);
        p.in_a_coarse->write(a_coarse);
        p.in_b_coarse->write(b_coarse);
      }
      clock_low();
      if (max_due >= 0) {
        rtl_max[static_cast<size_t>(max_due)] = p.out_max.read();
        max_due = -1;
        if (out_tile == T) {
          clock_high();
          break;
        }
      }
      if (presenting && p.in_ready.read()) {
        if (in_tile == 0 && beat == 0) start = cycle();
        if (++beat == tiles[in_tile].depth) ++in_tile, beat = 0;
      }
      if (p.out_valid.read()) {
        if (out_tile >= T) throw std::runtime_error("systolic_array cosim: an output row after the block's last tile");
        if (p.out_last.read() != (row == array_rows - 1))
          throw std::runtime_error("systolic_array cosim: out_last_o wrong at output row " + std::to_string(row) +
                                   " of tile " + std::to_string(out_tile));
        const TileOperands& t = tiles[out_tile];
        if (row < t.rows) {
          p.out_row->read(row_words);
          golden::Tensor<int64_t>& out = rtl_out.tiles[out_tile].out;
          for (int64_t c = 0; c < t.cols; ++c)
            out.data[row * t.cols + c] = sign_extend(get_bits(row_words, c * kAccBits, kAccBits), kAccBits);
        }
        if (++row == array_rows) {
          max_due = static_cast<int64_t>(out_tile);  // out_max_o takes the last row one cycle after it
          if (++out_tile == T) rtl_out.cycles = static_cast<int64_t>(cycle() - start + 1);
          row = 0;
        }
      }
      clock_high();
    }
    p.in_valid.write(false);
    if (fault_) rtl_out.tiles[0].out.data[0] += 1;
    if (max_fault_) rtl_max[0] ^= 1;
    stats_.rtl_cycles += static_cast<int64_t>(cycle() - begin);
  };
  execute(drive);  // a block that stops leaves the next one to start from reset (RtlUnit)

  fault_ = false;
  max_fault_ = false;
  for (size_t t = 0; t < T; ++t) {
    const model::ArrayTileJob& job = jobs[t];
    const model::ArrayTileOutcome want = golden_.run_tile(job);
    model::ArrayTileOutcome& got = rtl_out.tiles[t];
    got.out.exp = want.out.exp;
    ++stats_.jobs;
    const std::string what = tile_text(job) + " (job " + std::to_string(stats_.jobs) +
                             (T > 1 ? ", tile " + std::to_string(t + 1) + " of a block of " + std::to_string(T) : "") + ")";
    const std::string tag = "systolic_array_job" + std::to_string(stats_.jobs);
    const int64_t bad = first_difference(want.out.data, got.out.data);
    if (bad >= 0) {
      mismatch(drive, mismatch_line(where, "systolic_array", what, "out", want.out.shape, bad, want.out.data, got.out.data), tag);
    }
    // The drain-path maximum against golden's tensor max of the same outputs.
    uint64_t want_max = 0;
    for (int64_t v : want.out.data) want_max = std::max(want_max, static_cast<uint64_t>(v < 0 ? -v : v));
    if (rtl_max[t] != want_max) {
      mismatch(drive, mismatch_line(where, "systolic_array", what, "out_max_o", {1}, 0,
                                    std::vector<int64_t>{static_cast<int64_t>(want_max)},
                                    std::vector<int64_t>{static_cast<int64_t>(rtl_max[t])}),
               tag);
    }
    stats_.values += job.rows * job.cols;
  }
  return rtl_out;
}

}  // namespace octet::sim
