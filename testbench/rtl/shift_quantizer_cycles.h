// The shift-quantizer's documented cycle counts (docs/architecture.md, "Shift-quantizer
// unit"), at full throughput: input always valid, output always ready. Cycle 0 is the
// cycle in which the configuration is accepted; B = ceil(n / Lanes) beats per pass, D the
// pipeline depth. Keep in step with the document: the testbench measures against these.
#pragma once

#include <cstdint>

namespace octet::tb {

struct SqCycleModel {
  uint64_t first_pass2_in;  // cycle of the first pass-2 input transfer
  uint64_t first_out;       // cycle of the first output transfer
  uint64_t last_out;        // cycle of the last output transfer
  uint64_t next_cfg;        // first cycle in which the next tensor's configuration is accepted
};

// fused: SQ / CQ / E2 with max |x| given in the configuration (one pass).
constexpr SqCycleModel sq_cycle_model(uint64_t n, uint64_t lanes, uint64_t depth, bool two_pass, bool fused = false) {
  const uint64_t b = (n + lanes - 1) / lanes;
  // Two-pass: scan cycles 1..B, then one cycle for r and one for the parameters; fused: r in
  // cycle 1 from the given max, parameters in cycle 2.
  const uint64_t p2 = fused ? 3 : two_pass ? b + 3 : 2;
  return {p2, p2 + depth, p2 + b - 1 + depth, p2 + b + depth};
}

}  // namespace octet::tb
