// The hardware units of the accelerator model, one sc_module each, named as their RTL twins
// (docs/architecture.md, "Accelerator model"). Each builds operations whose duration is the
// unit's documented formula (model/unit_timing.h), counts the actions they perform into the
// Ledger, and computes values through its backend (model/unit_backends.h) when given a job.
#pragma once

#include <array>
#include <functional>
#include <string>

#include "model/gemm_plan.h"
#include "model/ledger.h"
#include "model/residency.h"
#include "model/unit_backends.h"
#include "model/unit_module.h"

namespace octet::model {

// A unit's record of backends that reported a cycle count different from the formula: each
// difference as "<layer pass>: <unit operation>: model M cycles, backend B" (the first
// kListed of them).
struct CycleCheck {
  static constexpr size_t kListed = 20;
  int64_t checked = 0, mismatches = 0;
  std::string first_mismatch;
  std::vector<std::string> differences;
  void compare(const std::string& what, int64_t model, int64_t measured);
};

// The whole GEMM's operands in golden/gemm.h layout (see ArrayTileJob) and its output
// Out{M, N} in array terms, filled tile by tile (chunks of the reduction accumulate).
struct GemmData {
  GemmKind kind = GemmKind::kForward;
  golden::Tensor<uint8_t> act;
  golden::Tensor<int8_t> weight;
  golden::Tensor<golden::FlagCode> err;
  golden::Tensor<int64_t> out;
};

// One block of output tiles over one reduction chunk, in array terms.
struct ArrayBlock {
  int record = -1;
  int64_t m0 = 0, m_len = 0, n0 = 0, n_len = 0, d0 = 0, d_len = 0;
  bool first_chunk = true;
  double x_bytes = 1, y_bytes = 1;
  GemmData* data = nullptr;  // null: timing only
};

class SystolicArray : public UnitModule {
 public:
  SystolicArray(const sc_core::sc_module_name& name, OpArena& arena) : UnitModule(name, arena) {}
  void configure(int rows, int cols, Ledger* ledger, ArrayBackend* backend);
  // The block's tiles stream back to back; the op's result is usable after the last drain.
  Op* block(const ArrayBlock& b, std::vector<Op*> deps, std::vector<Op*> release_deps = {});
  // Issues every block of a GEMM (model/array_gemm.cpp): operand slabs double-buffered in the
  // scratchpads, partial sums double-buffered in the accumulator SRAM, results written to
  // DRAM at `out_bytes` (`keep`: the output stays in the accumulator SRAM for the next
  // operation, no write-back). Returns every operation to wait for; `computes` gets the
  // array's own ones.
  std::vector<Op*> issue_gemm(Dram& dram, const AccelConfig& cfg, int record, const GemmShape& s, double out_bytes,
                              GemmData* data, Handoff keep, std::vector<Op*>* computes = nullptr);
  void reset_timing() {
    last_beat_ = -1;
    has_last_ = false;
    prev_compute_ = {};
    prev_writeback_ = {};
  }
  // The array takes the next GEMM once the second-to-last block it was given has streamed in
  // (its last block is then running or next): the concurrent scheduler issues then, so the
  // next GEMM's first operands load into the free buffer half while the array computes.
  const Op* second_to_last_block() const { return prev_compute_[0]; }
  CycleCheck& check() { return check_; }
  int64_t stall_cycles() const { return stall_; }

 private:
  int64_t run(const ArrayBlock& b, Op& op);
  void compute_values(const ArrayBlock& b, int64_t busy, Op& op);

  int64_t rows_ = 16, cols_ = 16;
  Ledger* ledger_ = nullptr;
  ArrayBackend* backend_ = nullptr;
  int64_t last_beat_ = -1;  // cycle of the last accepted last beat
  bool has_last_ = false;
  int64_t stall_ = 0;
  std::array<Op*, 2> prev_compute_{}, prev_writeback_{};  // the last two blocks / write-backs issued, oldest first
  CycleCheck check_;
};

// Charges a pass's traffic to the ledger: DRAM and accumulator SRAM.
void charge(Ledger& ledger, int record, const StreamTraffic& t);

// A quantizer pass's traffic: the n-element input read where it is (`home`; twice for the
// two-pass modes, scan then quantize, unless fused), the payloads written to DRAM.
inline StreamTraffic quantize_traffic(SqMode mode, int64_t n, double in_bytes, double out_bytes, Handoff home,
                                      bool fused = false) {
  const int passes = mode == SqMode::kDirect || fused ? 1 : 2;
  return Io{}.in(n, in_bytes, 0, passes, home).out(n, out_bytes, 0).t;
}

// CQ of a weight gradient (G_raw on the accumulator's width): with weight decay the layer's
// W8 streams from DRAM beside G_raw in every pass, and the pass is never fused (the decay term
// is added after the array's drain-path maximum). The FP32 baseline adds its decay in the
// update, which reads w anyway: no FP32 bytes here.
inline StreamTraffic gradient_quantize_traffic(int64_t n, double in_bytes, double out_bytes, Handoff home, bool fused,
                                               bool decay) {
  fused = fused && !decay;
  Io io{quantize_traffic(SqMode::kConstant, n, in_bytes, out_bytes, home, fused)};
  if (decay) io.in(n, storage::kWeight8, 0, 2);  // scan and quantize
  return io.t;
}

class ShiftQuantizer : public UnitModule {
 public:
  ShiftQuantizer(const sc_core::sc_module_name& name, OpArena& arena) : UnitModule(name, arena) {}
  void configure(int lanes, Ledger* ledger, ShiftQuantizerBackend* backend);
  // Quantizes an n-element tensor (scan + quantize; Q: one pass; fused: the max came with a
  // GEMM output from the array's drain, one pass; decay: the weight-decay adder on the input,
  // both passes, sq_addend). `job` builds the values' job (functional mode) and `done` takes
  // the outcome.
  Op* quantize(int record, SqMode mode, int64_t n, StreamTraffic t, std::function<SqJob()> job,
               std::function<void(SqOutcome&)> done, bool fused = false, bool decay = false);
  CycleCheck& check() { return check_; }

 private:
  int64_t lanes_ = 4;
  Ledger* ledger_ = nullptr;
  ShiftQuantizerBackend* backend_ = nullptr;
  CycleCheck check_;
};

// Integer and FP32 actions per input element of a streaming pass (the FP32 baseline does the
// same operations in FP32).
struct ElementActions {
  int64_t adds = 0, compares = 0, muls = 0;
};

class BnUnit : public UnitModule {
 public:
  BnUnit(const sc_core::sc_module_name& name, OpArena& arena) : UnitModule(name, arena) {}
  void configure(int lanes, Ledger* ledger, BnBackend* backend);
  Op* forward(int record, int64_t n, int64_t channels, StreamTraffic t, std::function<BnForwardJob()> job,
              std::function<void(BnForwardOutcome&)> done);
  Op* backward(int record, int64_t n, int64_t channels, StreamTraffic t, std::function<BnBackwardJob()> job,
               std::function<void(BnBackwardOutcome&)> done);
  // A streaming pass over n values on the unit's lanes that computes nothing (the running
  // statistics' write-back) with the given per-element integer and FP32 actions; `values`
  // moves the result (functional).
  Op* stream(int record, int64_t n, ElementActions per, StreamTraffic t, std::function<void()> values);
  CycleCheck& check() { return check_; }

 private:
  int64_t lanes_ = 4;
  Ledger* ledger_ = nullptr;
  BnBackend* backend_ = nullptr;
  CycleCheck check_;
};

// The vector unit (rtl/vector_unit.sv): pooling forward and backward, residual add, error
// merge, linear bias gradient, softmax cross-entropy loss; one operation of a training step is
// one or more commands back to back (model/unit_timing.h, vu_*_cycles).
class VectorUnit : public UnitModule {
 public:
  VectorUnit(const sc_core::sc_module_name& name, OpArena& arena) : UnitModule(name, arena) {}
  void configure(int lanes, Ledger* ledger, VectorUnitBackend* backend);
  // The documented cycles of an operation of that shape.
  static int64_t cycles(const VuShape& s, int64_t lanes);
  // `n` input elements with `per` actions each (energy); `job` builds the operands (functional
  // mode; its shape is set from `shape`) and `done` takes the outcome.
  Op* run(int record, int64_t n, ElementActions per, const VuShape& shape, StreamTraffic t, std::function<VuJob()> job,
          std::function<void(VuOutcome&)> done);
  CycleCheck& check() { return check_; }

 private:
  int64_t lanes_ = 4;
  Ledger* ledger_ = nullptr;
  VectorUnitBackend* backend_ = nullptr;
  CycleCheck check_;
};

class OptimizerUnit : public UnitModule {
 public:
  OptimizerUnit(const sc_core::sc_module_name& name, OpArena& arena) : UnitModule(name, arena) {}
  void configure(int lanes, Ledger* ledger, OptimizerBackend* backend);
  Op* update(int record, int64_t n, StreamTraffic t, std::function<OptJob()> job, std::function<void(OptOutcome&)> done);
  CycleCheck& check() { return check_; }

 private:
  int64_t lanes_ = 4;
  Ledger* ledger_ = nullptr;
  OptimizerBackend* backend_ = nullptr;
  CycleCheck check_;
};

}  // namespace octet::model
