// An on-chip buffer of the accelerator (ifmap / filter scratchpad, accumulator SRAM): its
// capacity and banking from AccelConfig, and the bytes read and written during a run. The
// tiling plan (model/gemm_plan.h) fits blocks into half of it (double buffering); its bank
// size picks the SRAM energy class.
#pragma once

#include <systemc>

#include <cstdint>

namespace octet::model {

class SramBuffer : public sc_core::sc_module {
 public:
  explicit SramBuffer(const sc_core::sc_module_name& name) : sc_module(name) {}

  void configure(int64_t kib, int banks) {
    bytes_ = kib * 1024;
    banks_ = banks < 1 ? 1 : banks;
    read_ = written_ = 0;
  }
  int64_t capacity_bytes() const { return bytes_; }
  int64_t bank_bytes() const { return bytes_ / banks_; }
  // Banks over 64 KiB are charged as large SRAM (energy table: sram_large_byte).
  bool large() const { return bank_bytes() > 64 * 1024; }

  void access(int64_t rd, int64_t wr) {
    read_ += rd;
    written_ += wr;
  }
  int64_t bytes_read() const { return read_; }
  int64_t bytes_written() const { return written_; }

 private:
  int64_t bytes_ = 0;
  int banks_ = 1;
  int64_t read_ = 0, written_ = 0;
};

}  // namespace octet::model
