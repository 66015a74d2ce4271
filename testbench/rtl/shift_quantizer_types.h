// Shared types of the shift-quantizer testbenches: one tensor job and what the RTL returned.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace octet::tb {

// The verilated configuration (set by testbench/rtl/CMakeLists.txt from the same values
// that are passed to Verilator as -GLanes / -GInW).
inline constexpr int kLanes = OCTET_SQ_LANES;
inline constexpr int kInW = OCTET_SQ_INW;
inline constexpr int kDepth = 4;  // pass-2 pipeline registers (docs/architecture.md)

// Encodings of octet_pkg::sq_mode_e.
enum class SqMode : uint8_t { kDirect = 0, kShift = 1, kConst = 2, kFlag = 3 };
const char* mode_name(SqMode m);

struct SqConfig {
  SqMode mode = SqMode::kShift;
  int bits = 8;          // k (SQ, E2)
  int shift = 0;         // Q: in_exp - out_exp, in [-128, 127]
  int32_t lo = -127;     // Q: clip range
  int32_t hi = 127;
  int log2_scale = 7;    // CQ: s
  uint64_t seed = 1;     // CQ: stream key inputs
  uint64_t step = 0;
  uint64_t tensor = 0;
  // Fused (SQ, CQ, E2): max |x| comes with the configuration (cfg_max_valid_i, as the array's
  // drain-path maximum delivers it) and the unit skips pass 1. fused_max < 0: the tensor's own
  // max |x|; otherwise that value is given instead.
  bool fused = false;
  int64_t fused_max = -1;
  // Weight decay: every element is x + shift(w, addend_shift) (w streamed beside x,
  // SqCase::w), in both passes; an addend_shift >= 0 is a left shift.
  bool addend = false;
  int addend_shift = 0;
};

// Handshake randomisation: probability of an input gap / output stall per cycle.
struct SqTiming {
  double in_gap = 0;
  double out_stall = 0;
  uint64_t seed = 0;
};

// Everything the RTL produced for one tensor. Cycles count from the cycle in which the
// configuration was accepted (cycle 0).
struct SqRun {
  std::vector<int32_t> data;
  std::vector<int32_t> code;
  std::vector<uint8_t> fine;
  std::vector<uint64_t> rand;
  int scale_log2 = -1;
  int exp_offset = 0;
  std::string protocol_error;  // empty when the handshakes, lane masks and last flag were right
  uint64_t first_pass2_in = 0, last_pass2_in = 0;
  uint64_t first_out = 0, last_out = 0;
  uint64_t next_cfg = 0;  // first cycle in which the next configuration could be accepted
  uint64_t min_latency = 0, max_latency = 0;  // pass-2 beat: accepted -> output transfer
  bool overflow = false;  // err_overflow_o after the tensor
};

// One test case: enough to re-run it (for the waveform dump of a failure).
struct SqCase {
  std::string name;
  uint64_t seed = 0;
  SqConfig cfg;
  std::vector<int64_t> x;
  std::vector<int8_t> w;  // the addend's W8 (cfg.addend), one per element
  SqTiming timing;
};

}  // namespace octet::tb
