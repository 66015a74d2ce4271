// The operations of one training step of a network and their dependencies: which operation
// of which layer runs in which pass, on which unit, reading and writing which tensors
// (docs/architecture.md, "Schedule of a training step"). Built from the network description
// alone (no sizes, no timing); the Scheduler (model/scheduler.h) issues the operations and
// model/network_step.h says what each one does on its unit.
#pragma once

#include <string>
#include <vector>

#include "golden/network_desc.h"
#include "model/step_report.h"

namespace octet::model {

enum class StepOpKind : int {
  // forward, node order
  kForwardGemm,     // conv / linear: A · W (linear: bias preloaded into the accumulators)
  kBnForward,       // statistics, normalise, ReLU quantization
  kMaxPoolForward,
  kAvgPoolForward,
  kResidualAdd,
  kLoss,            // softmax cross-entropy: the error at the network output
  // backward, reverse node order
  kQuantizeE2,      // conv / linear: flag quantization of the incoming error
  kLinearBiasGrad,  // batch sum of the loss error
  kWeightGradGemm,  // Aᵀ · E2
  kQuantizeGradient,  // weight decay + CQ
  kBackwardDataGemm,  // E2 · Wᵀ: the error at the layer's input
  kQuantizeE1,      // bnrelu: SQ of the incoming error
  kBnBackward,      // ReLU mask + BN backward: dx and the γ / β gradients
  kPoolBackward,
  kErrorPassThrough,  // residual add: its error goes on unchanged to an input (no unit)
  kErrorMerge,        // err[target] += a later contribution
  // update, node order
  kRunningStatsWriteback,
  kOptimizerUpdate,
  // SCALE-Sim topology rows (model/topology_step.h): Q of a GEMM's output to 8-bit activations
  kQuantizeActivation,
};
const char* step_op_kind_name(StepOpKind k);

// The unit an operation occupies; Unit::kCount: none (bookkeeping only).
Unit step_op_unit(StepOpKind k);

// The tensors operations hand each other. `index`: a node, or a parameter for kGradRaw,
// kGrad and kParam; `target`: the node whose error a kErrorContribution adds to.
struct TensorRef {
  enum Kind : int {
    kValue,      // node output (forward); node 0's is the batch's images
    kBnSaved,    // bnrelu: x̂, mask, statistics kept for the backward
    kRunning,    // bnrelu: running statistics (the BN unit's outcome, then the state)
    kArgmax,     // maxpool
    kError,      // the complete error at a node's output
    kErrorContribution,  // one contribution to err[target] that a merge adds
    kE2,         // conv / linear: flag-quantized error
    kE1,         // bnrelu: SQ-quantized error
    kGradRaw,    // weight gradient before CQ
    kGrad,       // quantized gradient of a parameter
    kParam,      // a parameter's state (master, momentum, working copy)
  };
  Kind kind = kValue;
  int index = 0;
  int target = -1;
  bool operator==(const TensorRef&) const = default;
};
std::string tensor_name(const TensorRef& t, const golden::NetworkDesc& net);

struct StepOp {
  StepOpKind kind = StepOpKind::kForwardGemm;
  int node = 0;    // the layer; -1 for the loss
  int param = -1;  // the node's first parameter (kOptimizerUpdate: the parameter updated)
  int record = 0;  // into StepGraph::records
  // Error producers (backward-data GEMM, BN / pooling backward, pass-through) and merges:
  // the node whose error they add to, whether an earlier contribution is there already
  // (then the producer writes a kErrorContribution and a kErrorMerge follows) and whether
  // this is the last contribution (the error is then complete).
  int target = -1;
  bool merges = false, completes = false;
  std::vector<TensorRef> reads, writes;
  std::vector<int> deps;  // earlier operations this one must follow (ascending)
};

// The ops of one node in one phase (forward / backward / update), in issue order.
struct StepGroup {
  enum Phase : int { kForward, kLoss, kBackward, kUpdate };
  Phase phase = kForward;
  int node = 0;
  int first_op = 0, end_op = 0;
};

struct RecordDesc {
  std::string layer, kind;
  Pass pass = Pass::kForward;
};

struct StepGraph {
  std::vector<RecordDesc> records;  // in the order the ledger opens them
  std::vector<StepOp> ops;          // in today's (serial) issue order
  std::vector<StepGroup> groups;
  std::vector<golden::ParamDesc> params;
  std::vector<int> first_param;  // per node, or -1
};

// Walks the training step of `net` as golden::IntNetwork::train_step does.
StepGraph build_training_step(const golden::NetworkDesc& net);

// Fills each operation's deps from what the operations read and write, in order: each follows
// the last writer of what it reads or writes (read after write, write after write) and every
// reader since that write of what it writes (write after read).
void link_dependencies(StepGraph& g);

}  // namespace octet::model
