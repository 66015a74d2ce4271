// Drives a verilated systolic_array (any Rows x Cols) through a tiled GEMM: splits the
// operands into Rows x Cols output tiles, streams K beats per tile over valid/ready,
// collects the output rows and counts cycles. Optional FST waveform and coverage data.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

#include "sim/array_gemm.h"
#include "sim/port_bits.h"
#include "octet_params.h"
#include "verilated.h"
#include "verilated_cov.h"
#include "verilated_fst_c.h"

namespace octet::sim {

inline constexpr unsigned kOpBits = params::kOpW;

struct ArrayRun {
  std::vector<int64_t> out;  // {M, N} row-major
  uint64_t cycles = 0;       // first accepted beat .. last output row, inclusive
  uint64_t bubbles = 0;      // cycles the feeder withheld a beat on purpose
  uint64_t stalls = 0;       // cycles a presented beat was refused (in_ready_o low)
  uint64_t max_abs = 0;      // out_max_o once the GEMM has drained: max |out| (tile 0 starts the job)
};

template <class Model>
class ArrayDriver {
 public:
  // fst_path non-empty: record every half cycle into that FST file.
  ArrayDriver(int rows, int cols, int acc_bits, const std::string& fst_path = {})
      : rows_(rows), cols_(cols), acc_bits_(acc_bits), ctx_(std::make_unique<VerilatedContext>()) {
    if (!fst_path.empty()) ctx_->traceEverOn(true);
    model_ = std::make_unique<Model>(ctx_.get(), "TOP");
    if (!fst_path.empty()) {
      fst_ = std::make_unique<VerilatedFstC>();
      model_->trace(fst_.get(), 99);
      fst_->open(fst_path.c_str());
    }
    reset();
  }

  ~ArrayDriver() {
    model_->final();
    if (fst_) fst_->close();
#if VM_COVERAGE
    static int instance = 0;
    const std::string path = std::string(OCTET_COVERAGE_DIR) + "/array_" + std::to_string(rows_) + "x" +
                             std::to_string(cols_) + "_" + std::to_string(getpid()) + "_" +
                             std::to_string(instance++) + ".dat";
    ctx_->coveragep()->write(path.c_str());
#endif
  }

  ArrayDriver(const ArrayDriver&) = delete;
  ArrayDriver& operator=(const ArrayDriver&) = delete;

  // bubble_permille: chance per beat that the feeder first idles one cycle (in_valid low).
  ArrayRun run(const ArrayGemm& g, unsigned bubble_permille = 0, uint64_t bubble_seed = 1) {
    if (g.M < 1 || g.K < 1 || g.N < 1) throw std::invalid_argument("ArrayDriver: empty GEMM");
    const int64_t tiles_m = (g.M + rows_ - 1) / rows_, tiles_n = (g.N + cols_ - 1) / cols_;
    const int64_t tiles = tiles_m * tiles_n, beats = tiles * g.K;
    const uint64_t limit = 4 * array_gemm_cycles(g.M, g.K, g.N, rows_, cols_) + 1000 + 4 * beats;

    ArrayRun run;
    run.out.assign(static_cast<size_t>(g.M * g.N), 0);
    int64_t beat = 0, out_tile = 0, out_row = 0;
    bool presenting = false, started = false;
    uint64_t cycle = 0, start = 0, rng = bubble_seed | 1;

    while (out_tile < tiles) {
      if (cycle - start > limit) throw std::runtime_error("ArrayDriver: GEMM did not finish (timeout)");
      // Feeder: a presented beat stays on the port until taken (valid/ready rule).
      if (!presenting && beat < beats) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;  // xorshift64
        if (started && rng % 1000 < bubble_permille) ++run.bubbles;
        else presenting = true;
      }
      model_->in_valid_i = presenting;
      if (presenting) present(g, beat, tiles_n);

      eval_half(0);
      const bool accepted = presenting && model_->in_ready_o;
      if (presenting && !accepted) ++run.stalls;
      if (accepted) {
        if (!started) started = true, start = cycle;
        ++beat;
        presenting = false;
      }
      if (model_->out_valid_o) {
        collect(g, out_tile, out_row, tiles_n, run.out);
        if (model_->out_last_o != (out_row == rows_ - 1))
          throw std::runtime_error("ArrayDriver: out_last_o wrong at tile " + std::to_string(out_tile) +
                                   " row " + std::to_string(out_row));
        if (++out_row == rows_) out_row = 0, ++out_tile;
        if (out_tile == tiles) run.cycles = cycle - start + 1;
      }
      eval_half(1);
      ++cycle;
    }
    // The array must fall silent once every tile is out.
    model_->in_valid_i = 0;
    for (int i = 0; i < rows_ + cols_ + 4; ++i) {
      eval_half(0);
      if (model_->out_valid_o) throw std::runtime_error("ArrayDriver: output beyond the last tile");
      eval_half(1);
    }
    run.max_abs = get_bits(model_->out_max_o, 0, acc_bits_);
    return run;
  }

 private:
  void eval_half(int clk) {
    model_->clk_i = clk;
    model_->eval();
    if (fst_) fst_->dump(ctx_->time());
    ctx_->timeInc(1);
  }

  void reset() {
    model_->rst_ni = 0;
    model_->in_valid_i = 0;
    for (int i = 0; i < 2; ++i) eval_half(0), eval_half(1);
    model_->rst_ni = 1;
  }

  void present(const ArrayGemm& g, int64_t beat, int64_t tiles_n) {
    const int64_t tile = beat / g.K, k = beat % g.K;
    const int64_t m0 = tile / tiles_n * rows_, n0 = tile % tiles_n * cols_;
    model_->in_first_i = k == 0;
    model_->in_last_i = k == g.K - 1;
    model_->in_job_first_i = tile == 0;  // the GEMM is one job: its first tile restarts out_max_o
    for (int r = 0; r < rows_; ++r) {  // rows past M are padded with zeros
      const Operand o = m0 + r < g.M ? g.x[static_cast<size_t>((m0 + r) * g.K + k)] : Operand{};
      put_bits(model_->in_a_value_i, r * kOpBits, kOpBits, static_cast<uint64_t>(o.value));
      put_bits(model_->in_a_coarse_i, r, 1, o.coarse);
    }
    for (int c = 0; c < cols_; ++c) {
      const Operand o = n0 + c < g.N ? g.y[static_cast<size_t>(k * g.N + n0 + c)] : Operand{};
      put_bits(model_->in_b_value_i, c * kOpBits, kOpBits, static_cast<uint64_t>(o.value));
      put_bits(model_->in_b_coarse_i, c, 1, o.coarse);
    }
  }

  void collect(const ArrayGemm& g, int64_t tile, int64_t row, int64_t tiles_n, std::vector<int64_t>& out) {
    const int64_t m = tile / tiles_n * rows_ + row, n0 = tile % tiles_n * cols_;
    if (m >= g.M) return;
    for (int c = 0; c < cols_ && n0 + c < g.N; ++c) {
      const uint64_t bits = get_bits(model_->out_row_o, c * acc_bits_, acc_bits_);
      out[static_cast<size_t>(m * g.N + n0 + c)] = sign_extend(bits, acc_bits_);
    }
  }

  int rows_, cols_;
  unsigned acc_bits_;
  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<VerilatedFstC> fst_;
};

}  // namespace octet::sim
