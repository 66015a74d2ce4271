#include "sim/rtl_systolic_array.h"

#include <verilated_fst_c.h>

#include <stdexcept>
#include <vector>

#include "Vsc_systolic_array.h"
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

RtlSystolicArray::RtlSystolicArray(const sc_core::sc_module_name& name)
    : RtlUnit(name), rtl_(std::make_unique<Vsc_systolic_array>("rtl")) {
  rtl_->clk_i(clk_);
  rtl_->rst_ni(rst_n_);
  rtl_->in_valid_i(in_valid_);
  rtl_->in_ready_o(in_ready_);
  rtl_->in_first_i(in_first_);
  rtl_->in_last_i(in_last_);
  rtl_->in_job_first_i(in_job_first_);
  rtl_->in_a_value_i(in_a_value_);
  rtl_->in_a_coarse_i(in_a_coarse_);
  rtl_->in_b_value_i(in_b_value_);
  rtl_->in_b_coarse_i(in_b_coarse_);
  rtl_->out_valid_o(out_valid_);
  rtl_->out_last_o(out_last_);
  rtl_->out_row_o(out_row_);
  rtl_->out_max_o(out_max_);
}

RtlSystolicArray::~RtlSystolicArray() = default;

void RtlSystolicArray::trace_model(VerilatedFstC* fst) { rtl_->trace(fst, 99); }

model::ArrayTileOutcome RtlSystolicArray::run_tile(const model::ArrayTileJob& job) {
  const int64_t R = job.rows, C = job.cols, K = job.depth;
  if (R < 1 || R > kArrayRows || C < 1 || C > kArrayCols || K < 1)
    throw std::invalid_argument("systolic_array cosim: a tile of " + std::to_string(R) + "x" + std::to_string(C) +
                                " depth " + std::to_string(K) + " does not fit the verilated " +
                                std::to_string(kArrayRows) + "x" + std::to_string(kArrayCols) + " array");
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
    std::vector<uint32_t> a_words((kArrayRows * kOpBits + 31) / 32), b_words((kArrayCols * kOpBits + 31) / 32);
    std::vector<uint32_t> row_words((kArrayCols * kAccBits + 31) / 32);
    const uint64_t limit = static_cast<uint64_t>(4 * (K + kArrayRows + kArrayCols) + 100);
    int64_t beat = 0, row = 0;
    uint64_t start = 0;
    for (;;) {
      if (cycle() > limit) throw std::runtime_error("systolic_array cosim: the tile did not finish (timeout)");
      const bool presenting = beat < K;
      in_valid_.write(presenting);
      if (presenting) {
        in_first_.write(beat == 0);
        in_last_.write(beat == K - 1);
        in_job_first_.write(true);  // each tile is a job here: out_max_o is the tile's max |out|
        uint32_t a_coarse = 0, b_coarse = 0;
        for (int r = 0; r < kArrayRows; ++r) {  // rows and columns past the tile carry zeros
          const Operand o = r < R ? x[r * K + beat] : Operand{};
          put_bits(a_words, r * kOpBits, kOpBits, low_bits(o.value, kOpBits));
          a_coarse |= static_cast<uint32_t>(o.coarse) << r;
        }
        for (int c = 0; c < kArrayCols; ++c) {
          const Operand o = c < C ? y[beat * C + c] : Operand{};
          put_bits(b_words, c * kOpBits, kOpBits, low_bits(o.value, kOpBits));
          b_coarse |= static_cast<uint32_t>(o.coarse) << c;
        }
        sc_dt::sc_bv<kArrayRows * kOpBits> a;
        sc_dt::sc_bv<kArrayCols * kOpBits> b;
        write_words(a, a_words);
        write_words(b, b_words);
        in_a_value_.write(a);
        in_b_value_.write(b);
        in_a_coarse_.write(a_coarse);
        in_b_coarse_.write(b_coarse);
      }
      clock_low();
      if (presenting && in_ready_.read()) {
        if (beat == 0) start = cycle();
        ++beat;
      }
      if (out_valid_.read()) {
        if (out_last_.read() != (row == kArrayRows - 1))
          throw std::runtime_error("systolic_array cosim: out_last_o wrong at output row " + std::to_string(row));
        if (row < R) {
          read_words(out_row_.read(), row_words);
          for (int64_t c = 0; c < C; ++c)
            rtl_out.out.data[row * C + c] = sign_extend(get_bits(row_words, c * kAccBits, kAccBits), kAccBits);
        }
        if (++row == kArrayRows) {
          rtl_out.cycles = static_cast<int64_t>(cycle() - start + 1);
          clock_high();
          clock_low();  // out_max_o takes the last row one cycle after it
          rtl_max = out_max_.read();
          clock_high();
          break;
        }
      }
      clock_high();
    }
    in_valid_.write(false);
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
