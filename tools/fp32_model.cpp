// The FP32 twin as a TrainableModel: standard SGD with momentum 0.9 and weight decay 1e-4,
// started from the integer network's initial masters so that both begin identically.
#include <cmath>

#include "golden/fp32_network.h"
#include "train_models.h"

namespace octet::golden {

namespace {

class Fp32Model : public TrainableModel {
 public:
  Fp32Model(const NetworkDesc& desc, std::vector<std::vector<float>> init, int threads, int bn_decay_shift)
      : net_(desc, std::move(init)) {
    net_.set_threads(threads);
    net_.set_bn_decay_shift(bn_decay_shift);
  }
  std::string mode() const override { return "fp32"; }
  StepStats train_step(const Batch& b, const SchedulePhase& phase) override {
    const int n = static_cast<int>(b.labels.size());
    to_float(b);
    const float loss = net_.forward_backward(pixels_.data(), b.labels.data(), n);
    StepStats st;
    st.loss = loss;
    const std::vector<float>& z = net_.logits();
    const size_t classes = z.size() / static_cast<size_t>(n);
    for (int i = 0; i < n; ++i) {
      const float* row = &z[static_cast<size_t>(i) * classes];
      st.correct += (std::max_element(row, row + classes) - row) == b.labels[static_cast<size_t>(i)];
    }
    net_.sgd_step(static_cast<float>(phase.fp32_lr), 0.9f, 1e-4f);
    return st;
  }
  std::vector<int> predict(const Batch& b) override {
    to_float(b);
    std::vector<int> classes;
    net_.predict(pixels_.data(), static_cast<int>(b.labels.size()), classes);
    return classes;
  }

 private:
  // The same input values as the integer path: pixel * 2^-8.
  void to_float(const Batch& b) {
    pixels_.resize(b.images.data.size());
    for (size_t i = 0; i < pixels_.size(); ++i) pixels_[i] = std::ldexp(static_cast<float>(b.images.data[i]), b.images.exp);
  }
  Fp32Network net_;
  std::vector<float> pixels_;
};

}  // namespace

std::unique_ptr<TrainableModel> make_fp32_model(const NetworkDesc& desc, const std::vector<ParamState>& initial,
                                                int threads, int bn_decay_shift) {
  std::vector<std::vector<float>> init;
  for (const ParamState& s : initial) {
    std::vector<float> v(s.master.data.size());
    for (size_t i = 0; i < v.size(); ++i) v[i] = std::ldexp(static_cast<float>(s.master.data[i]), s.master.exp);
    init.push_back(std::move(v));
  }
  return std::make_unique<Fp32Model>(desc, std::move(init), threads, bn_decay_shift);
}

}  // namespace octet::golden
