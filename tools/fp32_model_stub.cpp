// Placeholder until the FP32 twin lands: asking for it is a clear error.
#include <stdexcept>

#include "train_models.h"

namespace octet::golden {
std::unique_ptr<TrainableModel> make_fp32_model(const NetworkDesc&, uint64_t, const IntTrainOptions&, int) {
  throw std::runtime_error("--mode: the FP32 twin is not built yet; use --mode int8");
}
}  // namespace octet::golden
