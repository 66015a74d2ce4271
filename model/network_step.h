// What each operation of a network's training step (model/step_graph.h) does on its unit:
// its shapes, its memory traffic given where its tensors live (model/network_residency.h)
// and, in functional mode, the values it reads and writes. The Scheduler decides when.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "model/ledger.h"
#include "model/network_residency.h"
#include "model/scheduler.h"
#include "model/step_graph.h"
#include "model/step_job.h"

namespace octet::model {

// Runs job.network's step on the units (the controller's network job).
void run_network_step(Units units, StepJob& job, Ledger& ledger);

class NetworkStep {
 public:
  NetworkStep(Units units, const StepJob& job, const StepGraph& graph, Ledger& ledger);

  // Submits `op` to its unit(s); the scheduler waits for the returned operations.
  Issued issue(const StepOp& op);
  // What `op` will do with the accumulator SRAM when issued now (the concurrent schedule's
  // rule, model/scheduler.h): a GEMM that writes back through the double-buffered halves, or
  // an operation whose output stays there for its readers (the residency decisions of issue).
  AccumUse accum_use(const StepOp& op) const;
  // After a node's backward: its error and quantized errors are no longer needed.
  void release(const StepGroup& g);

 private:
  struct NodeValue {
    golden::Tensor<uint8_t> act;
    golden::Tensor<int32_t> wide;
    golden::BnStats stats;
    golden::BnRunning running;  // bnrelu: the accumulators after this step, from the BN unit's outcome
    golden::Tensor<int16_t> xhat;
    std::vector<uint8_t> mask;
    std::vector<int64_t> argmax;
  };
  // A contribution to an error that a merge adds, and where it is.
  struct ErrorPart {
    golden::Tensor<int64_t> e;
    Handoff home;
  };
  struct GemmDims {
    int64_t f, m, co;  // features (reduction of the forward), rows, output channels
  };

  Issued dispatch(const StepOp& op);
  Issued forward_gemm(const StepOp& op);
  Issued bn_forward(const StepOp& op);
  Issued pool_forward(const StepOp& op);
  Issued residual_add(const StepOp& op);
  Issued loss(const StepOp& op);
  Issued quantize_error(const StepOp& op, SqMode mode, double out_bytes);
  Issued linear_bias_grad(const StepOp& op);
  Issued weight_grad_gemm(const StepOp& op);
  Issued quantize_gradient(const StepOp& op);
  Issued backward_data_gemm(const StepOp& op);
  Issued bn_backward(const StepOp& op);
  Issued pool_backward(const StepOp& op);
  Issued error_pass_through(const StepOp& op);
  Issued error_merge(const StepOp& op);
  Issued running_stats_writeback(const StepOp& op);
  Issued optimizer_update(const StepOp& op);

  // Node i's contribution to the error of op.target, at `home`: the error itself when it is
  // the first, else a part for the merge that follows.
  void contribute(const StepOp& op, golden::Tensor<int64_t> e, Handoff home);
  std::vector<Op*> gemm(int rec, const GemmShape& s, double out_bytes, GemmData* data, Handoff keep);
  // An operation on the vector unit: `job` and `done` only in functional mode.
  Op* vector(int rec, int64_t n, ElementActions per, const VuShape& shape, StreamTraffic t, std::function<VuJob()> job,
             std::function<void(VuOutcome&)> done);
  // The pooling command shape of node i (its input tensor and window).
  VuShape pool_shape(int i, VuOp op) const;
  int64_t elems(int node) const;
  const golden::NodeDesc& node(int i) const { return net_.nodes[static_cast<size_t>(i)]; }
  GemmDims gemm_dims(int i) const;

  Units u_;
  const golden::NetworkDesc& net_;
  const StepGraph& graph_;
  Ledger& L_;
  AccelConfig cfg_;
  FunctionalState* fs_;
  int64_t N_;
  int decay_lambda_;  // weight decay λ (StepJob::weight_decay_lambda)
  NetworkResidency res_;
  std::vector<NodeValue> values_;
  std::vector<golden::Tensor<int64_t>> err_;                // per node: the error at its output
  std::vector<golden::Tensor<int32_t>> quantized_err_;      // per node: E2 / E1 payloads
  std::vector<golden::Tensor<golden::FlagCode>> e2_matrix_; // per node: E2 as a GEMM operand
  std::vector<golden::Tensor<int64_t>> grad_raw_;           // per parameter
  std::vector<Handoff> grad_raw_home_;                      // per parameter
  std::vector<char> grad_fused_;  // per parameter: its CQ is fused (one-chunk weight-gradient GEMM, no decay)
  std::vector<golden::Tensor<int32_t>> grads_;              // per parameter
  std::map<std::pair<int, int>, ErrorPart> parts_;          // (from, target)
};

}  // namespace octet::model
