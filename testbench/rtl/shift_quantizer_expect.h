// What the golden model says the shift-quantizer must return for one tensor.
#pragma once

#include <cstdint>
#include <vector>

#include "testbench/rtl/shift_quantizer_types.h"

namespace octet::tb {

struct SqExpected {
  std::vector<int32_t> data;   // payloads
  std::vector<int32_t> code;   // flag_encode value (E2), else 0
  std::vector<uint8_t> fine;   // flag_encode flag (E2), else 0
  std::vector<uint64_t> rand;  // random_bits(key, i) (CQ), else empty: not checked
  int scale_log2 = 0;          // r (0 in direct mode, which has no scan pass)
  int exp_offset = 0;          // output exponent - input exponent (CQ: r - s)
  // With an addend: the quantizer's input x + shift(w, sh) (golden shift_round_half_even),
  // and whether some sum leaves the unit's InW-bit input (then the unit must raise
  // err_overflow_o, and no payload is expected).
  std::vector<int64_t> in;
  bool overflow = false;
};

// w: the addend's weights (cfg.addend).
SqExpected sq_expected(const SqConfig& cfg, const std::vector<int64_t>& x, const std::vector<int8_t>& w = {});

// The golden's stream key for the configuration.
uint64_t sq_stream_key(const SqConfig& cfg);

}  // namespace octet::tb
