// Channel commands for the batch-norm unit testbench (rtl/bn_unit.sv), each with the golden's
// expected statistics and element results (golden/batch_norm.h). A tensor {N, C, ...} gives
// three commands per channel: train, infer (from running accumulators) and backward.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "golden/batch_norm.h"

namespace octet::tb {

enum BnMode : int { kBnTrain = 0, kBnInfer = 1, kBnBackward = 2 };
const char* bn_mode_name(int mode);

// The statistics beat; which fields are defined depends on the mode (docs/architecture.md).
struct BnStat {
  int64_t mean = 0;
  int64_t sigma = 0;
  int64_t recip = 0;
  int shift = 0;
  int64_t mean_acc = 0, sigma_acc = 0;
  int32_t g_gamma = 0, g_beta = 0;
};

struct BnChannel {
  int mode = kBnTrain;
  std::string origin;  // which tensor / case it came from, for mismatch reports
  int channel = 0;
  int64_t n = 0;
  int in_shift = 0;  // a = e_x + 15
  int16_t gamma = 0, beta = 0;
  int64_t mean_acc = 0, sigma_acc = 0;
  int decay = golden::kBnDecayShift;
  int64_t sigma = 1;  // backward: sigma' of the forward pass
  int e1 = 0;         // backward: exponent of dy
  std::vector<int32_t> data;  // x or dy
  std::vector<int16_t> xhat_in;  // backward
  // expected
  BnStat stat;
  std::vector<int16_t> xhat;
  std::vector<int32_t> y;
  std::vector<int64_t> dx;
  bool has_pass1() const { return mode != kBnInfer; }
};

// Everything the golden needs for one tensor; `bn_channels_from` runs the golden functions.
struct BnTensorCase {
  std::string origin;
  golden::Tensor<int32_t> x;        // {N, C, ...}, exponent e_x
  golden::Tensor<int16_t> gamma, beta;
  golden::BnRunning running;        // accumulators before the update (train) / used (infer)
  golden::BnRunning infer_running;  // accumulators for the inference commands
  int decay = golden::kBnDecayShift;
  golden::Tensor<int32_t> dy;       // exponent e1
  golden::Tensor<int16_t> xhat_bwd; // x̂ fed to the backward pass (empty: the forward's x̂)
};

// Appends train, infer and backward commands for every channel. Returns false (and appends
// nothing) when the golden rejects the case (an overflow it reports as an error).
bool bn_channels_from(const BnTensorCase& tc, std::vector<BnChannel>& out);

// A random tensor case: shape, scale, distribution, parameters, running state, dy.
BnTensorCase bn_random_case(std::mt19937_64& g, int max_elems);

}  // namespace octet::tb
