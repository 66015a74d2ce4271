// Adapters that let the trainer drive the integer network and the FP32 twin.
#pragma once

#include <memory>

#include "golden/int_network.h"
#include "golden/trainer.h"

namespace octet::golden {

class IntModel : public TrainableModel {
 public:
  IntModel(const NetworkDesc& desc, uint64_t seed, IntTrainOptions options) : net_(desc, seed, options) {}
  std::string mode() const override { return "int8"; }
  StepStats train_step(const Batch& b, const SchedulePhase& phase) override {
    const IntStepResult r = net_.train_step(b.images, b.labels, phase.lr_q, phase.gscale_log2);
    return {r.correct, r.loss};
  }
  std::vector<int> predict(const Batch& b) override {
    const Tensor<int32_t> logits = net_.infer(b.images);
    const int64_t classes = logits.shape[1];
    std::vector<int> out(b.labels.size());
    for (size_t i = 0; i < out.size(); ++i) {
      const int32_t* z = &logits.data[i * classes];
      out[i] = static_cast<int>(std::max_element(z, z + classes) - z);
    }
    return out;
  }
  uint64_t digest() const override { return net_.state_digest(); }
  IntNetwork& network() { return net_; }

 private:
  IntNetwork net_;
};

// The FP32 twin, initialised from the integer network's initial masters (value M * 2^-23).
std::unique_ptr<TrainableModel> make_fp32_model(const NetworkDesc& desc, const std::vector<ParamState>& initial,
                                                int threads, int bn_decay_shift);

}  // namespace octet::golden
