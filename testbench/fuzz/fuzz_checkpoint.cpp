// Fuzz target: checkpoints (IntNetwork::load in golden/int_network.cpp), loaded into the tiny
// network of checkpoint_net.h. Each input is loaded twice: as it is, and resealed (its last 8
// bytes replaced by the FNV-1a checksum of the rest), because almost every mutation breaks the
// checksum and would otherwise stop the parser there; the reseal lets mutations reach the
// structure parsing behind it, which must hold against a crafted file, not only a damaged one.
#include <sstream>

#include "golden/checkpoint.h"
#include "testbench/fuzz/checkpoint_net.h"
#include "testbench/fuzz/fuzz_harness.h"

namespace {

void load(const std::string& bytes) {
  static const octet::golden::IntNetwork tiny = octet::fuzz::checkpoint_network();
  octet::golden::IntNetwork net = tiny;
  std::istringstream in(bytes);
  octet::fuzz::accept_input_errors([&] { net.load(in, "fuzz.ckpt"); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes = octet::fuzz::as_text(data, size);
  load(bytes);
  if (bytes.size() >= 8) {
    const uint64_t sum = octet::golden::fnv1a64(std::string_view(bytes).substr(0, bytes.size() - 8));
    for (int i = 0; i < 8; ++i) bytes[bytes.size() - 8 + static_cast<size_t>(i)] = static_cast<char>(sum >> (8 * i));
    load(bytes);
  }
  return 0;
}
