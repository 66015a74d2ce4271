// Fuzz target: SCALE-Sim .cfg architecture files (model/scalesim_cfg.cpp).
#include "model/topology.h"
#include "testbench/fuzz/fuzz_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return octet::fuzz::accept_input_errors(
      [&] { octet::model::parse_scalesim_cfg_text(octet::fuzz::as_text(data, size), "fuzz.cfg"); });
}
