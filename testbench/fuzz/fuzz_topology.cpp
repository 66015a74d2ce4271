// Fuzz target: SCALE-Sim topology CSVs (model/topology.cpp), format from the header row.
#include "model/topology.h"
#include "testbench/fuzz/fuzz_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return octet::fuzz::accept_input_errors(
      [&] { octet::model::parse_scalesim_topology_text(octet::fuzz::as_text(data, size), "fuzz.csv"); });
}
