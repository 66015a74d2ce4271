// Where a simulated step's bookkeeping goes: one PassRecord per (layer, pass) and the action
// counts behind its energy, for the integer datapath and for the FP32 baseline.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

#include "model/accel_config.h"
#include "model/energy_table.h"
#include "model/sram_buffer.h"
#include "model/step_report.h"

namespace octet::model {

enum class Buffer { kIfmap, kFilter, kAccum };

struct RecordCounts {
  std::array<ActionCounts, kNumUnits> ints{};
  std::array<ActionCounts, kNumUnits> fp32{};
};

inline int64_t bytes_of(int64_t elements, double bytes_per_element) {
  return static_cast<int64_t>(std::ceil(static_cast<double>(elements) * bytes_per_element));
}

class Ledger {
 public:
  explicit Ledger(const AccelConfig& config) : config_(config) {}
  // The accelerator's buffers (ifmap, filter, accumulator), which count their own traffic.
  void bind_buffers(SramBuffer* ifmap, SramBuffer* filter, SramBuffer* accum) { buffers_ = {ifmap, filter, accum}; }

  int open(const std::string& layer, const std::string& kind, Pass pass) {
    PassRecord r;
    r.layer = layer;
    r.kind = kind;
    r.pass = pass;
    records_.push_back(std::move(r));
    counts_.emplace_back();
    return static_cast<int>(records_.size()) - 1;
  }
  PassRecord& record(int i) { return records_[static_cast<size_t>(i)]; }
  std::vector<PassRecord>& records() { return records_; }
  RecordCounts& counts(int i) { return counts_[static_cast<size_t>(i)]; }

  void act(int rec, Unit u, Action a, int64_t n) { counts(rec).ints[static_cast<size_t>(u)][a] += n; }
  void act_fp32(int rec, Unit u, Action a, int64_t n) { counts(rec).fp32[static_cast<size_t>(u)][a] += n; }

  // SRAM traffic of a buffer, integer bytes and FP32-baseline bytes.
  void sram(int rec, Buffer b, int64_t rd, int64_t wr, int64_t fp_rd, int64_t fp_wr) {
    record(rec).sram_read_bytes += rd;
    record(rec).sram_write_bytes += wr;
    SramBuffer* buf = buffers_[static_cast<size_t>(b)];
    if (buf) buf->access(rd, wr);
    const Action a = (buf ? buf->large() : large(b)) ? Action::kSramLargeByte : Action::kSramSmallByte;
    act(rec, Unit::kSram, a, rd + wr);
    act_fp32(rec, Unit::kSram, a, fp_rd + fp_wr);
  }
  void dram(int rec, int64_t rd, int64_t wr, int64_t fp_rd, int64_t fp_wr) {
    record(rec).dram_read_bytes += rd;
    record(rec).dram_write_bytes += wr;
    record(rec).fp32_dram_read_bytes += fp_rd;
    record(rec).fp32_dram_write_bytes += fp_wr;
    act(rec, Unit::kDram, Action::kDramByte, rd + wr);
    act_fp32(rec, Unit::kDram, Action::kDramByte, fp_rd + fp_wr);
  }

  // The operation timeline, when the run records one (SimOptions::record_timeline).
  void record_timeline(bool on) { timeline_.recorded = on; }
  Timeline* timeline() { return timeline_.recorded ? &timeline_ : nullptr; }
  Timeline& timeline_data() { return timeline_; }
  void stage(int rec, int64_t start, int64_t end) {
    if (timeline_.recorded) timeline_.stages.push_back(StageSpan{rec, start, end});
  }

  // Fills each record's energy from its counts.
  void finish(const EnergyTable& table);

 private:
  bool large(Buffer b) const {
    const int64_t kib = b == Buffer::kIfmap ? config_.ifmap_sram_kib
                        : b == Buffer::kFilter ? config_.filter_sram_kib
                                               : config_.accum_sram_kib;
    return kib * 1024 / std::max(1, config_.sram_banks) > 64 * 1024;
  }

  AccelConfig config_;
  std::array<SramBuffer*, 3> buffers_{};
  std::vector<PassRecord> records_;
  std::vector<RecordCounts> counts_;
  Timeline timeline_;
};

}  // namespace octet::model
