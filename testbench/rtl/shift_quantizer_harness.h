// Drives the verilated shift_quantizer through one tensor: configuration, pass 1 and
// pass 2 beats (valid held until ready), output collection with protocol checks.
#pragma once

#include <memory>
#include <string>

#include "testbench/rtl/shift_quantizer_types.h"

class VerilatedContext;
class VerilatedFstC;
class Vshift_quantizer;

namespace octet::tb {

class SqHarness {
 public:
  // With a non-empty trace_path every cycle is dumped to that FST file.
  explicit SqHarness(const std::string& trace_path = "");
  ~SqHarness();
  SqHarness(const SqHarness&) = delete;
  SqHarness& operator=(const SqHarness&) = delete;

  // w: the addend stream (cfg.addend), one per element; empty streams junk on in_addend_i.
  SqRun run(const SqConfig& cfg, const std::vector<int64_t>& x, const SqTiming& timing = {},
            const std::vector<int8_t>& w = {});

 private:
  void clock_low();
  void clock_high();

  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<Vshift_quantizer> dut_;
  std::unique_ptr<VerilatedFstC> trace_;
  uint64_t cycle_ = 0;
};

}  // namespace octet::tb
