// The computation behind each SystemC unit module, as a small C++ interface so that a
// co-simulation layer (sim/) can substitute the Verilator-compiled RTL unit for the golden
// reference and compare values and cycle counts (docs/architecture.md, "Accelerator model").
//
// Each job carries its operands in the golden functions' own argument layout; each outcome
// carries the values and the cycles the backend measured (-1: the backend does not measure,
// e.g. the golden reference). The SystemC model always advances time by the documented
// formulas (model/unit_timing.h); a measured count that differs from the formula is
// recorded by the unit (UnitModule::cycle_mismatches) and reported, never silently used.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "golden/batch_norm.h"
#include "golden/label.h"
#include "golden/optimizer.h"
#include "golden/pooling.h"
#include "golden/quantizers.h"
#include "golden/tensor.h"

namespace octet::model {

// ---- systolic_array ------------------------------------------------------------------
enum class GemmKind : int { kForward, kBackwardData, kWeightGrad };
const char* gemm_kind_name(GemmKind k);  // "forward", "backward", "wgrad"

// One output tile: Out{rows, cols} (rows <= array rows, cols <= array cols) reduced over
// `depth` beats. Operands are the tile's slices in golden/gemm.h layout:
//   forward   gemm_forward(act{rows, depth}, weight{depth, cols})
//   backward  gemm_backward_data(err{rows, depth}, weight{cols, depth})
//   wgrad     gemm_weight_grad(act{depth, rows}, err{depth, cols})
// Unused operands are empty. A GEMM whose reduction was split into chunks (accumulator
// merges in the accumulator SRAM) issues one job per chunk.
struct ArrayTileJob {
  GemmKind kind = GemmKind::kForward;
  golden::Tensor<uint8_t> act;
  golden::Tensor<int8_t> weight;
  golden::Tensor<golden::FlagCode> err;
  int64_t rows = 0, cols = 0, depth = 0;
};
struct ArrayTileOutcome {
  golden::Tensor<int64_t> out;  // {rows, cols}, exponent as the golden GEMM's
  int64_t cycles = -1;          // first accepted beat .. last output row, inclusive
};
// The tiles of one array block (one block operation of the model: a reduction chunk of
// D beats over an m x n span, ceil(m/R) * ceil(n/C) tiles) streamed back to back.
struct ArrayBlockOutcome {
  std::vector<ArrayTileOutcome> tiles;
  int64_t cycles = -1;  // first accepted beat of the first tile .. last output row of the last, inclusive
};
// Where a block's outcome goes when the backend has it: `ok` with the values, or `failed`
// with the error that stopped it (a co-simulation mismatch).
struct ArrayBlockDone {
  std::function<void(ArrayBlockOutcome&)> ok;
  std::function<void(std::exception_ptr)> failed;
};
class ArrayBackend {
 public:
  virtual ~ArrayBackend() = default;
  virtual ArrayTileOutcome run_tile(const ArrayTileJob& job) = 0;
  // Default: tile after tile through run_tile, no block cycles (a backend that streams the
  // tiles, as the RTL does, measures them; each tile's own cycles are then -1).
  virtual ArrayBlockOutcome run_block(const std::vector<ArrayTileJob>& tiles) {
    ArrayBlockOutcome o;
    for (const ArrayTileJob& t : tiles) o.tiles.push_back(run_tile(t));
    return o;
  }
  // Called by the array's module when a block starts: returns once the block no longer
  // occupies the array's input (a backend in SystemC time returns when its last beat has
  // entered, and calls `done` when its drain has ended, the next block streaming in
  // meanwhile). Default: run_block, then `done.ok`, at once.
  virtual void start_block(const std::vector<ArrayTileJob>& tiles, ArrayBlockDone done) {
    ArrayBlockOutcome o = run_block(tiles);
    done.ok(o);
  }
  // Layer and pass of the job being run ("s1b1_c1 forward"), set by the unit module before
  // each call, so that a backend's error (a co-simulation mismatch) can say where it happened.
  std::string where;
};

// ---- shift_quantizer -------------------------------------------------------------------
// Modes as rtl/octet_pkg.sv sq_mode_e: Q (direct), SQ (E1), CQ (G), E2 (flag).
enum class SqMode : int { kDirect, kShift, kConstant, kFlag };
struct SqJob {
  SqMode mode = SqMode::kShift;
  golden::Tensor<int64_t> in;   // the whole tensor (two passes: scan max, then quantize)
  int bits = 8;                 // SQ, E2
  golden::CqParams cq;          // CQ
  int out_exp = 0;              // Q
  int64_t lo = 0, hi = 0;       // Q
  // SQ, CQ, E2 of a GEMM output whose max |x| came with it from the array's drain
  // (out_max_o, docs/architecture.md "Drain-path maximum"): one pass, no scan.
  bool fused = false;
  // Weight decay (CQ of a weight gradient, docs/numerics.md §7.5): with decay_lambda >= 0 the
  // unit quantizes in + shift(decay_w8, -7 - λ - in.exp), the layer's W8 streamed beside the
  // raw gradient (golden add_weight_decay). Never fused: the array's drain-path maximum is
  // taken before the term is added.
  int decay_lambda = -1;
  golden::Tensor<int8_t> decay_w8;
};
struct SqOutcome {
  golden::Tensor<int32_t> out;  // payloads (E2: fine units, as golden flag_quantize)
  int64_t cycles = -1;
};
class ShiftQuantizerBackend {
 public:
  virtual ~ShiftQuantizerBackend() = default;
  virtual SqOutcome run(const SqJob& job) = 0;
  // Layer and pass of the job being run ("s1b1_c1 forward"), set by the unit module before
  // each call, so that a backend's error (a co-simulation mismatch) can say where it happened.
  std::string where;
};

// ---- bn_unit -------------------------------------------------------------------------------
// Forward of a bnrelu node in training mode: batch statistics (pass 1) with the running
// statistics update, normalise + affine + ReLU quantization (pass 2).
struct BnForwardJob {
  golden::Tensor<int32_t> x;  // {N, C, H, W} or {N, C}
  golden::Tensor<int16_t> gamma, beta;
  golden::BnRunning running;  // the node's accumulators before this step, C channels
  int decay_shift = golden::kBnDecayShift;
};
struct BnForwardOutcome {
  golden::BnStats stats;
  golden::BnRunning running;     // golden bn_update_running(job.running, stats, job.decay_shift)
  golden::Tensor<int16_t> xhat;  // kept for the backward pass
  golden::Tensor<int32_t> y;     // BN output on 2^-14 (before ReLU)
  golden::Tensor<uint8_t> act;   // ReLU-quantized activation
  std::vector<uint8_t> mask;     // ReLU backward mask
  int64_t cycles = -1;
};
// Backward: ReLU mask on E1, then the BN backward (sums pass, dx pass).
struct BnBackwardJob {
  golden::Tensor<int32_t> e1;  // SQ-quantized error at the BN output
  std::vector<uint8_t> mask;
  golden::Tensor<int16_t> xhat, gamma;
  golden::BnStats stats;
};
struct BnBackwardOutcome {
  golden::Tensor<int64_t> dx;
  golden::Tensor<int32_t> g_gamma, g_beta;
  int64_t cycles = -1;
};
class BnBackend {
 public:
  virtual ~BnBackend() = default;
  virtual BnForwardOutcome forward(const BnForwardJob& job) = 0;
  virtual BnBackwardOutcome backward(const BnBackwardJob& job) = 0;
  // Layer and pass of the job being run ("s1b1_c1 forward"), set by the unit module before
  // each call, so that a backend's error (a co-simulation mismatch) can say where it happened.
  std::string where;
};

// ---- optimizer_unit ----------------------------------------------------------------------
// Kinds as rtl/octet_pkg.sv opt_kind_e.
enum class OptKind : int { kWeight8, kBnAffine, kBias };
struct OptJob {
  OptKind kind = OptKind::kWeight8;
  golden::ParamState state;       // M, V before the update
  golden::Tensor<int32_t> grad;   // G on 2^-14
  int lr_q = 0;
};
struct OptOutcome {
  golden::ParamState state;       // M', V'
  golden::Tensor<int32_t> work;   // working copy (int8 / int16 / int32 values, widened)
  int64_t cycles = -1;
};
class OptimizerBackend {
 public:
  virtual ~OptimizerBackend() = default;
  virtual OptOutcome run(const OptJob& job) = 0;
  // Layer and pass of the job being run ("s1b1_c1 forward"), set by the unit module before
  // each call, so that a backend's error (a co-simulation mismatch) can say where it happened.
  std::string where;
};

// ---- vector_unit ---------------------------------------------------------------------------
// Operations as rtl/octet_pkg.sv vu_op_e (the ones a training step of the model issues; ReLU
// and its backward run inside the BN unit's modes, the partial-sum merge in the array's
// accumulator SRAM, weight decay on the shift-quantizer's input stream).
enum class VuOp : int {
  kResidualAdd = 2,   // golden residual_add(a32, b32)                 -> out32
  kErrorAdd = 3,      // golden error_add(a64, b64)                    -> out64
  kBiasGrad = 6,      // golden linear_bias_grad(a64 {N, C})           -> out32 {C}
  kMaxPool = 7,       // golden maxpool_forward(act, pool)             -> act, argmax
  kAvgPool = 8,       // golden avgpool_forward(act, pool)             -> act
  kMaxPoolBwd = 9,    // golden maxpool_backward(a64, argmax, in)      -> out64
  kAvgPoolBwd = 10,   // golden avgpool_backward(a64, in, pool)        -> out64
  kLoss = 11,         // golden softmax_cross_entropy(a32, labels).error -> out64
};
const char* vu_op_name(VuOp op);  // "residual_add", "error_add", ...
// What one operation covers, for its cycles (model/unit_timing.h vu_cycles) with or without
// values: element-wise ops n elements; bias gradient rows = samples, cols = classes; pooling
// the input tensor in = {N, C, H, W} and its window; loss rows = samples, cols = classes.
struct VuShape {
  VuOp op = VuOp::kErrorAdd;
  int64_t n = 0;
  int64_t rows = 0, cols = 0;
  golden::Shape in;
  golden::PoolParams pool;
};
// Operands in the golden functions' own layout (unused ones empty).
struct VuJob {
  VuShape shape;
  golden::Tensor<int32_t> a32, b32;  // residual add operands; loss logits {B, C}
  golden::Tensor<int64_t> a64, b64;  // error add operands; bias gradient error {N, C}; pooling backward error
  golden::Tensor<uint8_t> act;       // pooling forward input
  std::vector<int64_t> argmax;       // max pooling backward: the forward's argmax (input indices)
  std::vector<golden::Label> labels; // loss
};
struct VuOutcome {
  golden::Tensor<int32_t> out32;
  golden::Tensor<int64_t> out64;
  golden::Tensor<uint8_t> act;
  std::vector<int64_t> argmax;
  int64_t cycles = -1;  // first command accepted .. the cycle after the last output beat (the next command's acceptance)
};
class VectorUnitBackend {
 public:
  virtual ~VectorUnitBackend() = default;
  virtual VuOutcome run(const VuJob& job) = 0;
  // Layer and pass of the job being run ("s1b1_c1 forward"), set by the unit module before
  // each call, so that a backend's error (a co-simulation mismatch) can say where it happened.
  std::string where;
};

// The set a model run uses; a null member means the golden reference (model/golden_backends.h).
struct UnitBackends {
  std::shared_ptr<ArrayBackend> array;
  std::shared_ptr<ShiftQuantizerBackend> shift_quantizer;
  std::shared_ptr<BnBackend> bn;
  std::shared_ptr<OptimizerBackend> optimizer;
  std::shared_ptr<VectorUnitBackend> vector;
};

}  // namespace octet::model
