// Fuzz target: per-action energy tables (model/energy_table.cpp), applied over the default.
#include "model/energy_table.h"
#include "testbench/fuzz/fuzz_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const octet::model::EnergyTable base = octet::model::default_energy_table();
  return octet::fuzz::accept_input_errors(
      [&] { octet::model::load_energy_table_text(octet::fuzz::as_text(data, size), "fuzz.json", base); });
}
