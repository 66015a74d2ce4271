// The shift-quantizer backend of the co-simulation: rtl/shift_quantizer.sv verilated with --sc
// (4 lanes, 48-bit input), one tensor per job: configuration, scan pass, quantize pass.
#pragma once

#include <systemc>

#include <cstdint>
#include <memory>

#include "model/golden_backends.h"
#include "model/unit_backends.h"
#include "sim/cosim_check.h"
#include "sim/rtl_unit.h"
#include "octet_params.h"

class Vsc_shift_quantizer;

namespace octet::sim {

inline constexpr int kSqLanes = OCTET_COSIM_LANES;

class RtlShiftQuantizer : public RtlUnit, public model::ShiftQuantizerBackend {
 public:
  static constexpr unsigned kInBits = params::kAccW;  // -GInW: the accumulator width
  explicit RtlShiftQuantizer(const sc_core::sc_module_name& name);
  ~RtlShiftQuantizer() override;

  // The outcome's payloads are the RTL's (checked against the golden quantizer, exponent
  // included); its cycles run from the cycle the configuration is accepted (0) to the last
  // output beat (documented: 2 ceil(n/L) + 6, direct mode ceil(n/L) + 5).
  model::SqOutcome run(const model::SqJob& job) override;
  const UnitStats& stats() const { return stats_; }
  void reset_stats() { stats_ = {}; }

 private:
  void trace_model(VerilatedFstC* fst) override;

  std::unique_ptr<Vsc_shift_quantizer> rtl_;
  sc_core::sc_signal<bool> cfg_valid_{"cfg_valid"}, cfg_ready_{"cfg_ready"};
  sc_core::sc_signal<uint32_t> cfg_mode_{"cfg_mode"}, cfg_count_{"cfg_count"}, cfg_bits_{"cfg_bits"},
      cfg_shift_{"cfg_shift"}, cfg_lo_{"cfg_lo"}, cfg_hi_{"cfg_hi"}, cfg_log2_scale_{"cfg_log2_scale"};
  sc_core::sc_signal<uint64_t> cfg_seed_{"cfg_seed"}, cfg_step_{"cfg_step"}, cfg_tensor_{"cfg_tensor"};
  sc_core::sc_signal<bool> cfg_max_valid_{"cfg_max_valid"};
  sc_core::sc_signal<uint64_t> cfg_max_{"cfg_max"};  // InW = 48 bits: Verilator's uint64_t pin
  sc_core::sc_signal<bool> in_valid_{"in_valid"}, in_ready_{"in_ready"};
  sc_core::sc_signal<uint64_t> in_data_[kSqLanes];
  sc_core::sc_signal<bool> out_valid_{"out_valid"}, out_ready_{"out_ready"}, out_last_{"out_last"};
  sc_core::sc_signal<uint32_t> out_data_[kSqLanes], out_code_[kSqLanes];
  sc_core::sc_signal<uint64_t> out_rand_[kSqLanes];
  sc_core::sc_signal<uint32_t> out_fine_{"out_fine"}, out_keep_{"out_keep"}, out_scale_log2_{"out_scale_log2"},
      out_exp_offset_{"out_exp_offset"};

  model::GoldenShiftQuantizerBackend golden_;
  UnitStats stats_;
};

}  // namespace octet::sim
