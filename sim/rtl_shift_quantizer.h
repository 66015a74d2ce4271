// The shift-quantizer backend of the co-simulation: rtl/shift_quantizer.sv verilated with --sc
// at each lane count of the build's list (OCTET_COSIM_LANES; 48-bit input), one tensor per job: configuration, scan pass, quantize pass.
#pragma once

#include <systemc>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "model/golden_backends.h"
#include "model/unit_backends.h"
#include "sim/cosim_check.h"
#include "sim/rtl_unit.h"
#include "sim/word_signal.h"
#include "octet_params.h"

namespace octet::sim {

class RtlShiftQuantizer : public RtlUnit, public model::ShiftQuantizerBackend {
 public:
  static constexpr unsigned kInBits = params::kAccW;  // -GInW: the accumulator width
  // The signals between the wrapper and the verilated model; the lane buses (lane j in bits
  // [j*W +: W]) and lane masks, whose C++ type depends on Lanes, as WordSignals.
  struct Pins {
    sc_core::sc_signal<bool> cfg_valid{"cfg_valid"}, cfg_ready{"cfg_ready"};
    sc_core::sc_signal<uint32_t> cfg_mode{"cfg_mode"}, cfg_count{"cfg_count"}, cfg_bits{"cfg_bits"},
        cfg_shift{"cfg_shift"}, cfg_lo{"cfg_lo"}, cfg_hi{"cfg_hi"}, cfg_log2_scale{"cfg_log2_scale"};
    sc_core::sc_signal<uint64_t> cfg_seed{"cfg_seed"}, cfg_step{"cfg_step"}, cfg_tensor{"cfg_tensor"};
    sc_core::sc_signal<bool> cfg_max_valid{"cfg_max_valid"};
    sc_core::sc_signal<uint64_t> cfg_max{"cfg_max"};  // InW = 48 bits: Verilator's uint64_t pin
    sc_core::sc_signal<bool> cfg_addend_en{"cfg_addend_en"};
    sc_core::sc_signal<uint32_t> cfg_addend_shift{"cfg_addend_shift"};
    sc_core::sc_signal<bool> in_valid{"in_valid"}, in_ready{"in_ready"};
    std::unique_ptr<WordSignal> in_data;    // InW bits per lane
    std::unique_ptr<WordSignal> in_addend;  // 8 bits per lane: W8 of weight decay
    sc_core::sc_signal<bool> out_valid{"out_valid"}, out_ready{"out_ready"}, out_last{"out_last"};
    std::unique_ptr<WordSignal> out_data, out_code, out_rand;  // 32, 16 and 64 bits per lane
    std::unique_ptr<WordSignal> out_fine, out_keep;
    sc_core::sc_signal<uint32_t> out_scale_log2{"out_scale_log2"}, out_exp_offset{"out_exp_offset"};
    sc_core::sc_signal<bool> err_overflow{"err_overflow"};
  };
  // `bind` creates the verilated model with this many lanes and binds it (sim/rtl_bind.h).
  RtlShiftQuantizer(const sc_core::sc_module_name& name, int lanes, const std::function<void(RtlShiftQuantizer&)>& bind);
  ~RtlShiftQuantizer() override;
  int lanes() const { return lanes_; }
  Pins& pins() { return pins_; }

  // The outcome's payloads are the RTL's (checked against the golden quantizer, exponent
  // included); its cycles run from the cycle the configuration is accepted (0) to the last
  // output beat (documented: 2 ceil(n/L) + 6, direct mode ceil(n/L) + 5). Weight decay runs
  // on the unit's input adder (W8 streamed beside the input); a sum that leaves the 48-bit
  // input (err_overflow_o) stops the run with an error.
  model::SqOutcome run(const model::SqJob& job) override;

 private:
  int lanes_;
  Pins pins_;
  model::GoldenShiftQuantizerBackend golden_;
};

}  // namespace octet::sim
