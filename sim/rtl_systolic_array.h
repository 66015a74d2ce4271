// The systolic array backend of the co-simulation: rtl/systolic_array.sv verilated with --sc
// (8x8), driven one output tile per job through its valid/ready beat stream.
#pragma once

#include <systemc>

#include <cstdint>
#include <memory>
#include <string>

#include "model/golden_backends.h"
#include "model/unit_backends.h"
#include "sim/cosim_check.h"
#include "sim/rtl_unit.h"
#include "octet_params.h"

class Vsc_systolic_array;

namespace octet::sim {

inline constexpr int kArrayRows = OCTET_COSIM_ROWS;
inline constexpr int kArrayCols = OCTET_COSIM_COLS;

class RtlSystolicArray : public RtlUnit, public model::ArrayBackend {
 public:
  static constexpr unsigned kOpBits = params::kOpW;    // signed value of an operand
  static constexpr unsigned kAccBits = params::kAccW;  // accumulator

  explicit RtlSystolicArray(const sc_core::sc_module_name& name);
  ~RtlSystolicArray() override;

  // One tile: the K beats stream back to back after a reset; the outcome's values are the
  // RTL's (checked against the golden GEMM), its cycles run from the first accepted beat to
  // the last output row, inclusive (documented: K + R + C + 1).
  model::ArrayTileOutcome run_tile(const model::ArrayTileJob& job) override;
  const UnitStats& stats() const { return stats_; }
  void reset_stats() { stats_ = {}; }
  // Test hook for the mismatch path: the next tile's collected out[0][0] is off by one.
  void inject_fault_for_test() { fault_ = true; }
  // The next tile's out_max_o is read with its lowest bit flipped (a test of the max check).
  void inject_max_fault_for_test() { max_fault_ = true; }

 private:
  void trace_model(VerilatedFstC* fst) override;

  std::unique_ptr<Vsc_systolic_array> rtl_;
  sc_core::sc_signal<bool> in_valid_{"in_valid"}, in_ready_{"in_ready"}, in_first_{"in_first"}, in_last_{"in_last"};
  sc_core::sc_signal<bool> in_job_first_{"in_job_first"};
  sc_core::sc_signal<sc_dt::sc_bv<kArrayRows * kOpBits>> in_a_value_{"in_a_value"};
  sc_core::sc_signal<uint32_t> in_a_coarse_{"in_a_coarse"};
  sc_core::sc_signal<sc_dt::sc_bv<kArrayCols * kOpBits>> in_b_value_{"in_b_value"};
  sc_core::sc_signal<uint32_t> in_b_coarse_{"in_b_coarse"};
  sc_core::sc_signal<bool> out_valid_{"out_valid"}, out_last_{"out_last"};
  sc_core::sc_signal<sc_dt::sc_bv<kArrayCols * kAccBits>> out_row_{"out_row"};
  sc_core::sc_signal<uint64_t> out_max_{"out_max"};  // AccW = 48 bits: Verilator's uint64_t pin

  model::GoldenArrayBackend golden_;
  UnitStats stats_;
  bool fault_ = false;
  bool max_fault_ = false;
};

}  // namespace octet::sim
