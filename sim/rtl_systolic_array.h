// The systolic array backend of the co-simulation: rtl/systolic_array.sv verilated with --sc
// at each size of the build's list (sim/CMakeLists.txt, OCTET_COSIM_ARRAYS), driven one
// output tile per job through its valid/ready beat stream.
#pragma once

#include <systemc>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "model/golden_backends.h"
#include "model/unit_backends.h"
#include "sim/cosim_check.h"
#include "sim/rtl_unit.h"
#include "sim/word_signal.h"
#include "octet_params.h"

namespace octet::sim {

class RtlSystolicArray : public RtlUnit, public model::ArrayBackend {
 public:
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

  // A block: its tiles stream back to back, each beat as soon as the array takes it, on the
  // array as the previous block left it (reset only before the first block and after a
  // mismatch). The outcome's values are the RTL's (checked against the golden GEMM, and
  // out_max_o against the tile's max |out|); its cycles run from the first accepted beat to
  // the last output row, inclusive (documented: K + (T - 1) max(K, R, C) + R + C + 1).
  model::ArrayBlockOutcome run_block(const std::vector<model::ArrayTileJob>& tiles) override;
  // One tile as a block of one (cycles K + R + C + 1).
  model::ArrayTileOutcome run_tile(const model::ArrayTileJob& job) override;
  // Test hook for the mismatch path: the next tile's collected out[0][0] is off by one.
  void inject_fault_for_test() { fault_ = true; }
  // The next tile's out_max_o is read with its lowest bit flipped (a test of the max check).
  void inject_max_fault_for_test() { max_fault_ = true; }

 private:
  int rows_, cols_;
  Pins pins_;
  model::GoldenArrayBackend golden_;
  bool fault_ = false;
  bool max_fault_ = false;
};

}  // namespace octet::sim
