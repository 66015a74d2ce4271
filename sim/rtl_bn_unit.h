// The batch-norm backend of the co-simulation: rtl/bn_unit.sv verilated with --sc (4 lanes),
// one command per channel: train (statistics pass, statistics beat, normalise pass) for the
// forward job, backward (sums pass, gradient beat, dx pass) for the backward job.
// The ReLU around the unit is not in this RTL: the forward's ReLU quantization (act, mask) is
// the golden's relu_quantize of the RTL's y, and the backward's mask is applied to E1 by the
// golden's relu_backward before dy enters the unit.
#pragma once

#include <systemc>

#include <cstdint>
#include <memory>
#include <vector>

#include "model/golden_backends.h"
#include "model/unit_backends.h"
#include "sim/cosim_check.h"
#include "sim/rtl_unit.h"

class Vsc_bn_unit;

namespace octet::sim {

inline constexpr int kBnLanes = OCTET_COSIM_LANES;

class RtlBnUnit : public RtlUnit, public model::BnBackend {
 public:
  explicit RtlBnUnit(const sc_core::sc_module_name& name);
  ~RtlBnUnit() override;

  // Cycles: from the edge the first channel's command is accepted (0) to the edge at which
  // the unit accepts the next command after the last channel, i.e. the sum of the per-channel
  // periods (docs/architecture.md "Batch-norm unit": C (2 ceil(N/L) + 229) for train,
  // C (2 ceil(N/L) + 73) for backward, N = elements per channel).
  model::BnForwardOutcome forward(const model::BnForwardJob& job) override;
  model::BnBackwardOutcome backward(const model::BnBackwardJob& job) override;
  const UnitStats& stats() const { return stats_; }
  void reset_stats() { stats_ = {}; }

 private:
  // One channel command and its streams.
  struct Channel {
    int mode = 0;  // octet_pkg::bn_mode_e: 0 train, 2 backward
    int64_t n = 0;
    int in_shift = 0, e1 = 0;
    int16_t gamma = 0, beta = 0;
    int64_t sigma = 0;
    int64_t mean_acc = 0, sigma_acc = 0;  // running accumulators (train)
    int decay = 0;
    std::vector<int32_t> data;   // x or dy
    std::vector<int16_t> xhat;   // backward input
    // results
    int64_t mean = 0, sigma_out = 0, recip = 0, mean_acc_out = 0, sigma_acc_out = 0;
    int recip_shift = 0;
    int32_t g_gamma = 0, g_beta = 0;
    std::vector<int16_t> xhat_out;
    std::vector<int32_t> y;
    std::vector<int64_t> dx;
  };
  // Streams the channels back to back; returns the cycles as defined above.
  int64_t run_channels(std::vector<Channel>& chans);
  void trace_model(VerilatedFstC* fst) override;

  std::unique_ptr<Vsc_bn_unit> rtl_;
  sc_core::sc_signal<bool> cmd_valid_{"cmd_valid"}, cmd_ready_{"cmd_ready"}, in_valid_{"in_valid"},
      in_ready_{"in_ready"}, stat_valid_{"stat_valid"}, stat_ready_{"stat_ready"}, out_valid_{"out_valid"},
      out_ready_{"out_ready"};
  sc_core::sc_signal<uint32_t> cmd_mode_{"cmd_mode"}, cmd_in_shift_{"cmd_in_shift"}, cmd_decay_{"cmd_decay"},
      cmd_e1_{"cmd_e1"}, cmd_gamma_{"cmd_gamma"}, cmd_beta_{"cmd_beta"}, cmd_count_{"cmd_count"},
      stat_recip_shift_{"stat_recip_shift"}, stat_recip_{"stat_recip"}, stat_g_gamma_{"stat_g_gamma"},
      stat_g_beta_{"stat_g_beta"};
  sc_core::sc_signal<uint64_t> cmd_mean_acc_{"cmd_mean_acc"}, cmd_sigma_acc_{"cmd_sigma_acc"}, cmd_sigma_{"cmd_sigma"},
      in_xhat_{"in_xhat"}, stat_mean_{"stat_mean"}, stat_sigma_{"stat_sigma"}, stat_mean_acc_{"stat_mean_acc"},
      stat_sigma_acc_{"stat_sigma_acc"}, out_xhat_{"out_xhat"};
  sc_core::sc_signal<sc_dt::sc_bv<kBnLanes * 32>> in_data_{"in_data"}, out_y_{"out_y"};
  sc_core::sc_signal<sc_dt::sc_bv<kBnLanes * 64>> out_dx_{"out_dx"};

  model::GoldenBnBackend golden_;
  UnitStats stats_;
};

}  // namespace octet::sim
