// Where each tensor of a network's step lives between its producer and its readers, decided
// in the serial schedule's order (docs/architecture.md, "Tensor residency").
#pragma once

#include <cstdint>
#include <vector>

#include "golden/network_desc.h"
#include "model/residency.h"

namespace octet::model {

class NetworkResidency {
 public:
  NetworkResidency(const golden::NetworkDesc& net, const AccelConfig& cfg);

  Handoff& value_home(int node) { return value_home_[static_cast<size_t>(node)]; }
  Handoff& error_home(int node) { return err_home_[static_cast<size_t>(node)]; }
  Handoff error_home_of(int node) const { return err_home_[static_cast<size_t>(node)]; }

  // A forward value (conv / linear output, in the accumulators) is resident when its only
  // reader is the next node and that node streams it (BN, residual add) or, for the output,
  // when the loss comes next. Both datapaths stream these from the accumulator SRAM.
  // Decides and records where node i's value goes.
  Handoff decide_value_home(int i, int64_t n) { return value_home_[static_cast<size_t>(i)] = value_home_if(i, n); }
  Handoff value_home_if(int i, int64_t n) const;  // the same decision, not recorded
  // Where the complete error of `target`, produced by the last operation of node i's backward
  // (i = -1: the loss), goes: on chip when target is the next node of the backward order and
  // its reader streams it. A residual add passes its error on unchanged: on chip to its input
  // that comes next (if that one receives no other error), and also to DRAM (write-through)
  // for its other input, which reads it much later.
  Handoff final_home(int i, int target, int64_t n) const;
  // Where node i's contribution to err[target] goes: on chip if a merge pass follows at once
  // (both datapaths stream it: `merges`), to DRAM if other contributions come later, else
  // final_home.
  Handoff contribution_home(int i, int target, int64_t n, bool merges) const;

 private:
  // Node `node`'s backward reads its error: the integer datapath always streams it (E2, E1
  // quantizers, pooling); the FP32 one only into BN backward and pooling (conv / linear read
  // it as a GEMM operand, through DRAM).
  Handoff reader_streams(int node, int64_t n) const;

  const golden::NetworkDesc& net_;
  AccelConfig cfg_;
  std::vector<int> consumers_;                  // per node: how many nodes read its value
  std::vector<Handoff> value_home_, err_home_;  // per node: where its value / its error is
};

}  // namespace octet::model
