// Fuzz target: network descriptions (golden/network_desc.cpp, docs/network-format.md).
#include "golden/network_desc.h"
#include "testbench/fuzz/fuzz_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return octet::fuzz::accept_input_errors(
      [&] { octet::golden::parse_network_text(octet::fuzz::as_text(data, size), "fuzz.net"); });
}
