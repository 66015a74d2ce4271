// Where a tensor handed from its producer to the next operation(s) of the schedule lives
// (docs/architecture.md, "Tensor residency"), and a streaming pass's traffic built tensor by
// tensor from it.
#pragma once

#include <cstdint>

#include "model/accel_config.h"
#include "model/gemm_plan.h"
#include "model/ledger.h"
#include "model/storage_widths.h"

namespace octet::model {

// A streaming pass's memory traffic, integer datapath and FP32 baseline (0 for passes the
// FP32 baseline does not have): DRAM bytes, and accumulator-SRAM bytes of tensors resident
// on chip. Only the DRAM bytes bound the pass's time.
struct StreamTraffic {
  int64_t rd = 0, wr = 0, fp_rd = 0, fp_wr = 0;              // DRAM
  int64_t acc_rd = 0, acc_wr = 0, fp_acc_rd = 0, fp_acc_wr = 0;  // accumulator SRAM
};

// Per datapath: true = in the accumulator SRAM, at the accumulator width (kAccumBytes
// integer, 4 bytes FP32); false = spilled to DRAM.
struct Handoff {
  bool ints = false, fp = false;
  bool through = false;  // also written to DRAM, for a reader that comes later
};

// A tensor of n elements handed to the next operation(s) stays in the accumulator SRAM when
// that datapath's consumer streams it from there and its accumulator-width bytes fit the
// whole accumulator SRAM (nothing else lives there between the two operations: a GEMM whose
// output is resident accumulates every block in place, with no double-buffered halves).
inline Handoff resident_if(const AccelConfig& cfg, int64_t n, bool int_consumer, bool fp_consumer) {
  const int64_t cap = cfg.accum_sram_kib * 1024;
  return Handoff{int_consumer && bytes_of(n, kAccumBytes) <= cap,
                 fp_consumer && bytes_of(n, storage::kFp32) <= cap};
}

// A streaming pass's traffic, built tensor by tensor. Bytes per element 0: the tensor is not
// part of that datapath (e.g. no FP32 twin of a quantizer pass).
struct Io {
  StreamTraffic t;
  Io& in(int64_t n, double int_b, double fp_b, int passes = 1, Handoff h = {}) {
    if (int_b > 0) (h.ints ? t.acc_rd : t.rd) += passes * bytes_of(n, h.ints ? kAccumBytes : int_b);
    if (fp_b > 0) (h.fp ? t.fp_acc_rd : t.fp_rd) += passes * bytes_of(n, h.fp ? storage::kFp32 : fp_b);
    return *this;
  }
  Io& out(int64_t n, double int_b, double fp_b, Handoff h = {}) {
    if (int_b > 0) (h.ints ? t.acc_wr : t.wr) += bytes_of(n, h.ints ? kAccumBytes : int_b);
    if (fp_b > 0) (h.fp ? t.fp_acc_wr : t.fp_wr) += bytes_of(n, h.fp ? storage::kFp32 : fp_b);
    if (h.through && h.ints && int_b > 0) t.wr += bytes_of(n, int_b);
    if (h.through && h.fp && fp_b > 0) t.fp_wr += bytes_of(n, fp_b);
    return *this;
  }
  // DRAM bytes not tied to a handed-over tensor (x̂, masks, argmax, statistics).
  Io& dram(int64_t rd, int64_t wr, int64_t fp_rd, int64_t fp_wr) {
    t.rd += rd;
    t.wr += wr;
    t.fp_rd += fp_rd;
    t.fp_wr += fp_wr;
    return *this;
  }
};

}  // namespace octet::model
