// The batch-norm backend of the co-simulation: rtl/bn_unit.sv verilated with --sc at each lane
// count of the build's list (OCTET_COSIM_LANES),
// one command per channel: train (statistics pass, statistics beat, normalise pass) for the
// forward job, backward (sums pass, gradient beat, dx pass) for the backward job.
// The ReLU around the unit is not in this RTL: the forward's ReLU quantization (act, mask) is
// the golden's relu_quantize of the RTL's y, and the backward's mask is applied to E1 by the
// golden's relu_backward before dy enters the unit.
#pragma once

#include <systemc>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "model/golden_backends.h"
#include "model/unit_backends.h"
#include "sim/cosim_check.h"
#include "sim/rtl_unit.h"
#include "sim/word_signal.h"

namespace octet::sim {

class RtlBnUnit : public RtlUnit, public model::BnBackend {
 public:
  // The signals between the wrapper and the verilated model; the element buses carry Lanes values.
  struct Pins {
    sc_core::sc_signal<bool> cmd_valid{"cmd_valid"}, cmd_ready{"cmd_ready"}, in_valid{"in_valid"},
        in_ready{"in_ready"}, stat_valid{"stat_valid"}, stat_ready{"stat_ready"}, out_valid{"out_valid"},
        out_ready{"out_ready"};
    sc_core::sc_signal<uint32_t> cmd_mode{"cmd_mode"}, cmd_in_shift{"cmd_in_shift"}, cmd_decay{"cmd_decay"},
        cmd_e1{"cmd_e1"}, cmd_gamma{"cmd_gamma"}, cmd_beta{"cmd_beta"}, cmd_count{"cmd_count"},
        stat_recip_shift{"stat_recip_shift"}, stat_recip{"stat_recip"}, stat_g_gamma{"stat_g_gamma"},
        stat_g_beta{"stat_g_beta"};
    sc_core::sc_signal<uint64_t> cmd_mean_acc{"cmd_mean_acc"}, cmd_sigma_acc{"cmd_sigma_acc"}, cmd_sigma{"cmd_sigma"},
        stat_mean{"stat_mean"}, stat_sigma{"stat_sigma"}, stat_mean_acc{"stat_mean_acc"},
        stat_sigma_acc{"stat_sigma_acc"};
    std::unique_ptr<WordSignal> in_data, out_y, out_dx, in_xhat, out_xhat;  // Lanes x 32, 32, 64, 16, 16 bits
  };
  // `bind` creates the verilated model with this many lanes and binds it (sim/rtl_bind.h).
  RtlBnUnit(const sc_core::sc_module_name& name, int lanes, const std::function<void(RtlBnUnit&)>& bind);
  ~RtlBnUnit() override;
  int lanes() const { return lanes_; }
  Pins& pins() { return pins_; }

  // Cycles: from the edge the first channel's command is accepted (0) to the edge at which
  // the unit accepts the next command after the last channel, i.e. the sum of the per-channel
  // periods (docs/architecture.md "Batch-norm unit": C (2 ceil(N/L) + 229) for train,
  // C (2 ceil(N/L) + 73) for backward, N = elements per channel).
  model::BnForwardOutcome forward(const model::BnForwardJob& job) override;
  model::BnBackwardOutcome backward(const model::BnBackwardJob& job) override;

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

  int lanes_;
  Pins pins_;
  model::GoldenBnBackend golden_;
};

}  // namespace octet::sim
