// The vector unit backend of the co-simulation: rtl/vector_unit.sv verilated with --sc at each
// lane count of the build's list (OCTET_COSIM_LANES). One model operation is one or more
// commands back to back: element-wise ops one command over the whole tensor, the bias gradient
// one per `Lanes` classes, pooling one per `Lanes` planes, the loss one per `Lanes` samples;
// the gather reads (pooling, loss) are answered by a memory that offers the data in the cycle
// after the request, as the documented formulas assume. The RTL runs in SystemC time over the
// job's counted span (sim/rtl_unit.h): the operation occupies the unit for the RTL's cycles.
#pragma once

#include <systemc>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "model/golden_backends.h"
#include "model/unit_backends.h"
#include "sim/rtl_unit.h"
#include "sim/word_signal.h"

namespace octet::sim {

class RtlVectorUnit : public RtlUnit, public model::VectorUnitBackend {
 public:
  // The signals between the wrapper and the verilated model; the buses carry Lanes values.
  struct Pins {
    sc_core::sc_signal<bool> cmd_valid{"cmd_valid"}, cmd_ready{"cmd_ready"}, cmd_global{"cmd_global"}, busy{"busy"},
        rd_req_valid{"rd_req_valid"}, rd_req_ready{"rd_req_ready"}, in_valid{"in_valid"}, in_ready{"in_ready"},
        out_valid{"out_valid"}, out_ready{"out_ready"};
    sc_core::sc_signal<uint32_t> cmd_op{"cmd_op"}, cmd_shift_a{"cmd_shift_a"}, cmd_shift_b{"cmd_shift_b"},
        cmd_count{"cmd_count"}, cmd_height{"cmd_height"}, cmd_width{"cmd_width"}, cmd_kernel{"cmd_kernel"},
        cmd_stride{"cmd_stride"}, cmd_pad{"cmd_pad"}, cmd_batch{"cmd_batch"}, rd_req_idx{"rd_req_idx"};
    std::unique_ptr<WordSignal> in_a, in_b, out_data, out_aux, out_ovf;  // Lanes x 64, 64, 64, 16, 1 bits
  };
  // `bind` creates the verilated model with this many lanes and binds it (sim/rtl_bind.h).
  RtlVectorUnit(const sc_core::sc_module_name& name, int lanes, const std::function<void(RtlVectorUnit&)>& bind);
  ~RtlVectorUnit() override;
  int lanes() const { return lanes_; }
  Pins& pins() { return pins_; }

  // Values from the RTL, checked against the golden backend (value for value; an overflow
  // flag where the golden throws, and only there); cycles from the first command's acceptance
  // to the cycle after the last output transfer (the next command's acceptance), i.e. the sum
  // of the commands' periods (docs/architecture.md "Vector unit").
  model::VuOutcome run(const model::VuJob& job) override;

  // One command: its fields, where its operands come from and where its results go.
  struct Command {
    uint32_t op = 0;
    int sa = 0, sb = 0;
    uint32_t count = 0, h = 0, w = 0, kernel = 0, stride = 0, pad = 0, batch = 0;
    bool global = false;
    int64_t in_beats = 0;   // element-wise beats (0: a gather command, operands read by request)
    int64_t plane = 0;      // gather: the plane-relative indices it may read, [0, plane)
    int64_t out_beats = 0;
    // Lane `lane`'s operands of input beat `beat` (element-wise) or of plane index `idx` (gather).
    std::function<void(int64_t beat_or_idx, int lane, uint64_t& a, uint64_t& b)> operands;
    // Lane `lane` of output beat `beat`.
    std::function<void(int64_t beat, int lane, uint64_t data, uint32_t aux, bool ovf)> result;
  };

 private:
  int lanes_;
  Pins pins_;
  model::GoldenVectorUnitBackend golden_;
};

}  // namespace octet::sim
