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

model::ArrayTileOutcome RtlSystolicArray::run_tile(const model::ArrayTileJob& job) {
  const int64_t R = job.rows, C = job.cols, K = job.depth;
  const int array_rows = rows_, array_cols = cols_;
  if (R < 1 || R > array_rows || C < 1 || C > array_cols || K < 1)
    throw std::invalid_argument("systolic_array cosim: a tile of " + std::to_string(R) + "x" + std::to_string(C) +
                                " depth " + std::to_string(K) + " does not fit the verilated " +
                                std::to_string(array_rows) + "x" + std::to_string(array_cols) + " array");
  // West operands x{R, K} (row r of the tile) and north operands y{K, C}, per training GEMM.
  std::vector<Operand> x(static_cast<size_t>(R * K)), y(static_cast<size_t>(K * C));
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

  model::ArrayTileOutcome rtl_out;
  rtl_out.out = golden::Tensor<int64_t>({R, C}, 0);
  uint64_t rtl_max = 0;
  auto drive = [&] {
    reset();
    std::vector<uint32_t> a_words((array_rows * kOpBits + 31) / 32), b_words((array_cols * kOpBits + 31) / 32);
    std::vector<uint32_t> row_words((array_cols * kAccBits + 31) / 32);
    std::vector<uint32_t> a_coarse((array_rows + 31) / 32), b_coarse((array_cols + 31) / 32);
    Pins& p = pins_;
    const uint64_t limit = static_cast<uint64_t>(4 * (K + array_rows + array_cols) + 100);
    int64_t beat = 0, row = 0;
    uint64_t start = 0;
    for (;;) {
      if (cycle() > limit) throw std::runtime_error("systolic_array cosim: the tile did not finish (timeout)");
      const bool presenting = beat < K;
      p.in_valid.write(presenting);
      if (presenting) {
        p.in_first.write(beat == 0);
        p.in_last.write(beat == K - 1);
        p.in_job_first.write(true);  // each tile is a job here: out_max_o is the tile's max |out|
        std::fill(a_coarse.begin(), a_coarse.end(), 0);
        std::fill(b_coarse.begin(), b_coarse.end(), 0);
        for (int r = 0; r < array_rows; ++r) {  // rows and columns past the tile carry zeros
          const Operand o = r < R ? x[r * K + beat] : Operand{};
          put_bits(a_words, r * kOpBits, kOpBits, low_bits(o.value, kOpBits));
          put_bits(a_coarse, r, 1, o.coarse);
        }
        for (int c = 0; c < array_cols; ++c) {
          const Operand o = c < C ? y[beat * C + c] : Operand{};
          put_bits(b_words, c * kOpBits, kOpBits, low_bits(o.value, kOpBits));
          put_bits(b_coarse, c, 1, o.coarse);
        }
        p.in_a_value->write(a_words);
        p.in_b_value->write(b_words);
        p.in_a_coarse->write(a_coarse);
        p.in_b_coarse->write(b_coarse);
      }
      clock_low();
      if (presenting && p.in_ready.read()) {
        if (beat == 0) start = cycle();
        ++beat;
      }
      if (p.out_valid.read()) {
        if (p.out_last.read() != (row == array_rows - 1))
          throw std::runtime_error("systolic_array cosim: out_last_o wrong at output row " + std::to_string(row));
        if (row < R) {
          p.out_row->read(row_words);
          for (int64_t c = 0; c < C; ++c)
            rtl_out.out.data[row * C + c] = sign_extend(get_bits(row_words, c * kAccBits, kAccBits), kAccBits);
        }
        if (++row == array_rows) {
          rtl_out.cycles = static_cast<int64_t>(cycle() - start + 1);
          clock_high();
          clock_low();  // out_max_o takes the last row one cycle after it
          rtl_max = p.out_max.read();
          clock_high();
          break;
        }
      }
      clock_high();
    }
    p.in_valid.write(false);
    if (fault_) rtl_out.out.data[0] += 1;
    if (max_fault_) rtl_max ^= 1;
    stats_.rtl_cycles += static_cast<int64_t>(cycle());
  };
  execute(drive);

  fault_ = false;
  max_fault_ = false;
  const model::ArrayTileOutcome want = golden_.run_tile(job);
  rtl_out.out.exp = want.out.exp;
  ++stats_.jobs;
  const int64_t bad = first_difference(want.out.data, rtl_out.out.data);
  if (bad >= 0) {
    const std::string what = std::string(model::gemm_kind_name(job.kind)) + " tile " + std::to_string(R) + "x" +
                             std::to_string(C) + " depth " + std::to_string(K) + " (job " +
                             std::to_string(stats_.jobs) + ")";
    mismatch(drive, mismatch_line(where, "systolic_array", what, "out", want.out.shape, bad, want.out.data, rtl_out.out.data),
             "systolic_array_job" + std::to_string(stats_.jobs));
  }
  // The drain-path maximum against golden's tensor max of the same outputs.
  uint64_t want_max = 0;
  for (int64_t v : want.out.data) want_max = std::max(want_max, static_cast<uint64_t>(v < 0 ? -v : v));
  if (rtl_max != want_max) {
    const std::string what = std::string(model::gemm_kind_name(job.kind)) + " tile " + std::to_string(R) + "x" +
                             std::to_string(C) + " depth " + std::to_string(K) + " (job " +
                             std::to_string(stats_.jobs) + ")";
    mismatch(drive, mismatch_line(where, "systolic_array", what, "out_max_o", {1}, 0, std::vector<int64_t>{static_cast<int64_t>(want_max)},
                                  std::vector<int64_t>{static_cast<int64_t>(rtl_max)}),
             "systolic_array_job" + std::to_string(stats_.jobs));
  }
  stats_.values += R * C;
  return rtl_out;
}

}  // namespace octet::sim
