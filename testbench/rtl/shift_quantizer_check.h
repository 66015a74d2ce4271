// Runs one case on the RTL, compares everything with the golden model, and on a mismatch
// reports the seed, case, element indices and both values, then re-runs the case with
// tracing into an FST file in the build directory.
#pragma once

#include <cstdint>

#include "testbench/rtl/shift_quantizer_harness.h"
#include "testbench/rtl/shift_quantizer_types.h"

namespace octet::tb {

struct SqCheck {
  int64_t compared = 0;  // quantized values compared
  bool ok = true;
  SqRun run;
};

SqCheck run_and_check(SqHarness& h, const SqCase& c);

// The run seed: $OCTET_SEED if set, else a fixed default; printed by every test.
uint64_t test_seed();

}  // namespace octet::tb
