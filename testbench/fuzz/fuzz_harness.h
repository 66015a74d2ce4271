// Shared by the fuzz harnesses (testbench/fuzz/fuzz_*.cpp). A parser given any bytes must
// either return or reject them with an octet::InputError (the clean one-line error); any other
// exception escapes LLVMFuzzerTestOneInput, which libFuzzer reports as a crash and the replay
// runner (replay_main.cpp) as a failure naming the input file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "golden/input_error.h"

namespace octet::fuzz {

inline std::string as_text(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

// Runs `parse`; a clean rejection (InputError) is a normal outcome, anything else propagates.
template <typename F>
int accept_input_errors(F&& parse) {
  try {
    parse();
  } catch (const InputError&) {
  }
  return 0;
}

}  // namespace octet::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
