// Fuzz target: checkpoints (IntNetwork::load in golden/int_network.cpp), loaded into the tiny
// network of checkpoint_net.h.
#include <sstream>

#include "testbench/fuzz/checkpoint_net.h"
#include "testbench/fuzz/fuzz_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const octet::golden::IntNetwork tiny = octet::fuzz::checkpoint_network();
  octet::golden::IntNetwork net = tiny;
  std::istringstream in(octet::fuzz::as_text(data, size));
  return octet::fuzz::accept_input_errors([&] { net.load(in, "fuzz.ckpt"); });
}
