// The full-integer WAGEUBN network: executes a NetworkDesc graph with the golden layers,
// every data path quantized as docs/numerics.md says (forward, E1/E2 backward, G, BN,
// quantized momentum update). Deterministic: a pure function of (description, seed, data).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "golden/batch_norm.h"
#include "golden/batch_reducer.h"
#include "golden/checkpoint.h"
#include "golden/label.h"
#include "golden/network_desc.h"
#include "golden/optimizer.h"
#include "golden/quantizers.h"
#include "golden/tensor.h"
#include "octet_params.h"

namespace octet::golden {

// Pieces of the training step shared with other executors of the same schedule (the
// accelerator model in model/), so that they run the same integer operations.
inline constexpr int kIntErrorBits = 8;       // E1 and E2 at 8 bits
inline constexpr int kIntGradientExp = -14;   // G's constant output exponent
// CQ parameters of parameter `param`'s gradient at `step` (stochastic-rounding tensor id 16p + 1).
CqParams gradient_cq_params(uint64_t seed, uint64_t step, int param, int gscale_log2);
// The last layer's bias gradient: the batch sum of the loss error {N, classes}, on 2^-14
// (with a reducer, `err` is one shard and the sum is the whole batch's).
Tensor<int32_t> linear_bias_grad(const Tensor<int64_t>& err, const BatchReducer* reducer = nullptr);
// The digest IntNetwork::state_digest computes, of any holder of the same state.
uint64_t training_state_digest(uint64_t seed, uint64_t step, const std::vector<ParamState>& states,
                               const std::vector<BnRunning>& running);

struct IntTrainOptions {
  int weight_decay_lambda = params::kDefaultWeightDecayLog2;  // decay W8 * 2^-(7+λ); < 0 disables (docs/numerics.md §7.5)
  int bn_decay_shift = kBnDecayShift;
  int threads = 1;                 // worker threads of the fast kernels (results do not depend on it)
  bool reference_kernels = false;  // run the plain loop nests instead of the fast kernels
  // Data parallelism: the images of a step are this process's shard of a global batch, and
  // the reducer combines the shards (golden/batch_reducer.h); it must outlive the network.
  // Null: the images are the whole batch.
  const BatchReducer* reducer = nullptr;
};

struct IntStepResult {     // of the whole batch (all shards)
  int64_t correct = 0;      // arg-max of the integer logits equals the label
  double loss = 0;          // mean cross-entropy from the integer softmax (reporting only)
};

class IntNetwork {
 public:
  IntNetwork(NetworkDesc desc, uint64_t seed, IntTrainOptions options = {});

  // One training step on a batch: forward in training mode, loss error, backward, update.
  // images: {N, C, H, W} uint8 on 2^-8; lr_q on 2^-9; g_scale = 2^gscale_log2.
  IntStepResult train_step(const Tensor<uint8_t>& images, const std::vector<Label>& labels, int lr_q,
                           int gscale_log2);

  // Inference with the running batch-norm statistics: the logits, int32 on 2^-14.
  Tensor<int32_t> infer(const Tensor<uint8_t>& images) const;

  void set_threads(int threads) { options_.threads = threads; }
  void set_reducer(const BatchReducer* reducer) { options_.reducer = reducer; }

  const NetworkDesc& desc() const { return desc_; }
  const std::vector<ParamDesc>& params() const { return params_; }
  const std::vector<ParamState>& states() const { return states_; }
  // Replaces the training state of every parameter (masters and momenta; tests and tools that
  // start a step from a chosen state) and derives the working copies from it. Throws
  // std::invalid_argument, leaving the network untouched, unless each tensor has its parameter's shape.
  void set_states(std::vector<ParamState> states);
  const std::vector<BnRunning>& running() const { return running_; }  // per node (empty unless bnrelu)
  uint64_t step() const { return step_; }
  uint64_t seed() const { return seed_; }

  // Checkpoints (golden/checkpoint.h, docs/checkpoint-format.md): every bit of training state
  // (masters, momenta, running statistics, seed, step) with the run's `config` and digests.
  void save(std::ostream& out, const RunConfig& config = {}) const;
  // Reads and verifies a whole checkpoint (format, checksum, this network's name, description
  // digest and sizes, the state digest recomputed after restoring) and returns its run config
  // for the caller to compare. Throws CheckpointError; on any error the network is untouched.
  RunConfig load(std::istream& in, const std::string& origin);

  // A 64-bit digest of the whole training state, for determinism checks and logs.
  uint64_t state_digest() const;

 private:
  void derive_working_copies();

  NetworkDesc desc_;
  uint64_t seed_;
  IntTrainOptions options_;
  std::vector<ParamDesc> params_;
  std::vector<int> first_param_;  // per node: index of its first parameter, or -1
  std::vector<ParamState> states_;
  std::vector<BnRunning> running_;  // per node (empty unless bnrelu)
  std::vector<Tensor<int8_t>> weight8_;     // per parameter (weights only)
  std::vector<Tensor<int16_t>> affine_;     // per parameter (gamma / beta only)
  std::vector<Tensor<int32_t>> bias_;       // per parameter (bias only)
  uint64_t step_ = 0;
};

}  // namespace octet::golden
