// The systolic array backend of the co-simulation: rtl/systolic_array.sv verilated with --sc
// at each size of the build's list (sim/CMakeLists.txt, OCTET_COSIM_ARRAYS), driven one
// output tile per job through its valid/ready beat stream.
#pragma once

#include <systemc>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "model/golden_backends.h"
#include "model/unit_backends.h"
#include "sim/array_gemm.h"
#include "sim/cosim_check.h"
#include "sim/rtl_unit.h"
#include "sim/word_signal.h"
#include "octet_params.h"

namespace octet::sim {

class RtlSystolicArray : public RtlUnit, public model::ArrayBackend {
 public:
  SC_HAS_PROCESS(RtlSystolicArray);
  static constexpr unsigned kOpBits = params::kOpW;    // signed value of an operand
  static constexpr unsigned kAccBits = params::kAccW;  // accumulator

  // The signals between the wrapper and the verilated model; the operand and result buses
  // are as wide as the array (Rows or Cols values).
  struct Pins {
    sc_core::sc_signal<bool> in_valid{"in_valid"}, in_ready{"in_ready"}, in_first{"in_first"}, in_last{"in_last"};
    sc_core::sc_signal<bool> in_job_first{"in_job_first"};
    std::unique_ptr<WordSignal> in_a_value, in_a_coarse, in_b_value, in_b_coarse, out_row;
    sc_core::sc_signal<bool> out_valid{"out_valid"}, out_last{"out_last"};
    sc_core::sc_signal<uint64_t> out_max{"out_max"};  // AccW = 48 bits: Verilator's uint64_t pin
  };
  // `bind` creates the verilated model of this size and binds it (sim/rtl_bind.h).
  RtlSystolicArray(const sc_core::sc_module_name& name, int rows, int cols,
                   const std::function<void(RtlSystolicArray&)>& bind);
  ~RtlSystolicArray() override;

  int rows() const { return rows_; }
  int cols() const { return cols_; }
  Pins& pins() { return pins_; }

  // A block run on its own (a test, outside a SystemC thread): its tiles stream back to back,
  // each beat as soon as the array takes it, on the array as the previous block left it
  // (reset only before the first block and after a mismatch). The outcome's values are the
  // RTL's (checked against the golden GEMM, and out_max_o against the tile's max |out|); its
  // cycles run from the first beat presented to the last output row, inclusive (documented:
  // K + (T - 1) max(K, R, C) + R + C + 1 on a drained array).
  model::ArrayBlockOutcome run_block(const std::vector<model::ArrayTileJob>& tiles) override;
  // One tile as a block of one (cycles K + R + C + 1).
  model::ArrayTileOutcome run_tile(const model::ArrayTileJob& job) override;
  // A block of the model, in SystemC time: handed to the array's clock process (engine())
  // and returns once its last beat has entered the array; `done` gets the checked values when
  // its last output row has left, while the next block may already be streaming in.
  // Outside a SystemC thread: run_block, then `done`.
  void start_block(const std::vector<model::ArrayTileJob>& tiles, model::ArrayBlockDone done) override;
  // Test hook for the mismatch path: the next tile's collected out[0][0] is off by one.
  void inject_fault_for_test() { fault_ = true; }
  // The next tile's out_max_o is read with its lowest bit flipped (a test of the max check).
  void inject_max_fault_for_test() { max_fault_ = true; }

 private:
  // One tile's operands as the array takes them: west x{R, K} (row r of the tile) and north
  // y{K, C}.
  struct TileOperands {
    int64_t rows = 0, cols = 0, depth = 0;
    std::vector<Operand> x, y;
  };
  // A block in flight: its feeding and draining positions and what it collected.
  struct BlockRun {
    std::vector<model::ArrayTileJob> jobs;
    std::vector<TileOperands> tiles;
    model::ArrayBlockOutcome out;
    std::vector<uint64_t> max;  // out_max_o of each tile
    std::string where;
    size_t in_tile = 0, out_tile = 0;
    int64_t beat = 0, row = 0;
    int64_t max_due = -1;  // the tile whose out_max_o is valid in the next cycle
    uint64_t first_beat = 0;
    bool presented = false, fed = false, delivered = false;
    model::ArrayBlockDone done;
    sc_core::sc_event fed_ev;  // the model's cycle after its last beat's
    bool finished() const { return out_tile == tiles.size() && max_due < 0; }
  };
  using BlockQueue = std::deque<std::shared_ptr<BlockRun>>;  // oldest first
  std::shared_ptr<BlockRun> make_run(const std::vector<model::ArrayTileJob>& jobs) const;
  static TileOperands tile_operands(const model::ArrayTileJob& job, int array_rows, int array_cols);
  bool cycle_step(const BlockQueue& q);
  void drive_alone(const std::shared_ptr<BlockRun>& run);
  void check_values(BlockRun& run, const std::function<void()>& replay);
  void check_maxima(BlockRun& run, const std::function<void()>& replay);
  std::function<void()> replay_of(const BlockRun& run);
  void engine();

  int rows_, cols_;
  Pins pins_;
  model::GoldenArrayBackend golden_;
  bool fault_ = false;
  bool max_fault_ = false;
  std::vector<uint32_t> a_words_, b_words_, row_words_, a_coarse_, b_coarse_;  // port words
  BlockQueue engine_blocks_;  // handed over, oldest first
  sc_core::sc_event engine_wake_;
  // The engine's watchdog: a longer quiet stretch than a tile's last beat waiting out TileGap
  // plus a drain's R + C cycles means the array hangs.
  static constexpr uint64_t kQuietLimit = 1000;
};

}  // namespace octet::sim
