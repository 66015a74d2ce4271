#include "model/golden_backends.h"

#include <stdexcept>

#include "golden/activation.h"
#include "golden/gemm.h"
#include "golden/int_network.h"
#include "golden/loss.h"
#include "golden/optimizer.h"
#include "golden/residual.h"

namespace octet::model {

const char* gemm_kind_name(GemmKind k) {
  switch (k) {
    case GemmKind::kForward: return "forward";
    case GemmKind::kBackwardData: return "backward";
    case GemmKind::kWeightGrad: return "wgrad";
  }
  return "?";
}

ArrayTileOutcome GoldenArrayBackend::run_tile(const ArrayTileJob& job) {
  ArrayTileOutcome o;
  switch (job.kind) {
    case GemmKind::kForward: o.out = golden::gemm_forward(job.act, job.weight); break;
    case GemmKind::kBackwardData: o.out = golden::gemm_backward_data(job.err, job.weight); break;
    case GemmKind::kWeightGrad: o.out = golden::gemm_weight_grad(job.act, job.err); break;
  }
  return o;
}

SqOutcome GoldenShiftQuantizerBackend::run(const SqJob& job) {
  SqOutcome o;
  golden::Tensor<int64_t> decayed;
  const golden::Tensor<int64_t>* in = &job.in;
  if (job.decay_lambda >= 0) {
    decayed = job.in;
    golden::add_weight_decay(decayed, job.decay_w8, job.decay_lambda);
    in = &decayed;
  }
  switch (job.mode) {
    case SqMode::kDirect: o.out = golden::requantize(*in, job.out_exp, job.lo, job.hi); break;
    case SqMode::kShift: o.out = golden::shift_quantize(*in, job.bits, threads_); break;
    case SqMode::kConstant: o.out = golden::constant_factor_quantize(*in, job.cq, threads_); break;
    case SqMode::kFlag: o.out = golden::flag_quantize(*in, job.bits, threads_); break;
  }
  return o;
}

BnForwardOutcome GoldenBnBackend::forward(const BnForwardJob& job) {
  BnForwardOutcome o;
  o.stats = golden::bn_batch_statistics(job.x, threads_);
  if (job.running.mean_acc.size() != o.stats.mean.size() || job.running.sigma_acc.size() != o.stats.mean.size())
    throw std::invalid_argument("bn forward: running accumulators do not match the channel count");
  o.running = job.running;
  golden::bn_update_running(o.running, o.stats, job.decay_shift);
  golden::BnForward bn = golden::bn_forward(job.x, o.stats, job.gamma, job.beta, threads_);
  golden::ReluForward r = golden::relu_quantize(bn.y);
  o.xhat = std::move(bn.xhat);
  o.y = std::move(bn.y);
  o.act = std::move(r.a);
  o.mask = std::move(r.mask);
  return o;
}

BnBackwardOutcome GoldenBnBackend::backward(const BnBackwardJob& job) {
  const golden::Tensor<int32_t> dy = golden::relu_backward(job.e1, job.mask);
  golden::BnBackward b = golden::bn_backward(dy, job.xhat, job.gamma, job.stats, threads_);
  BnBackwardOutcome o;
  o.dx = std::move(b.dx);
  o.g_gamma = std::move(b.g_gamma);
  o.g_beta = std::move(b.g_beta);
  return o;
}

namespace {
template <typename T>
golden::Tensor<int32_t> widened32(const golden::Tensor<T>& t) {
  golden::Tensor<int32_t> w(t.shape, t.exp);
  for (size_t i = 0; i < t.data.size(); ++i) w.data[i] = t.data[i];
  return w;
}
}  // namespace

OptOutcome GoldenOptimizerBackend::run(const OptJob& job) {
  OptOutcome o;
  o.state = job.state;
  golden::momentum_update(o.state, job.grad, job.lr_q);
  switch (job.kind) {
    case OptKind::kWeight8: o.work = widened32(golden::derive_weight8(o.state.master)); break;
    case OptKind::kBnAffine: o.work = widened32(golden::derive_bn_affine(o.state.master)); break;
    case OptKind::kBias: o.work = golden::derive_bias(o.state.master); break;
  }
  return o;
}

const char* vu_op_name(VuOp op) {
  switch (op) {
    case VuOp::kResidualAdd: return "residual_add";
    case VuOp::kErrorAdd: return "error_add";
    case VuOp::kBiasGrad: return "bias_grad";
    case VuOp::kMaxPool: return "maxpool";
    case VuOp::kAvgPool: return "avgpool";
    case VuOp::kMaxPoolBwd: return "maxpool_bwd";
    case VuOp::kAvgPoolBwd: return "avgpool_bwd";
    case VuOp::kLoss: return "loss";
  }
  return "?";
}

VuOutcome GoldenVectorUnitBackend::run(const VuJob& job) {
  VuOutcome o;
  const VuShape& s = job.shape;
  switch (s.op) {
    case VuOp::kResidualAdd: o.out32 = golden::residual_add(job.a32, job.b32); break;
    case VuOp::kErrorAdd: o.out64 = golden::error_add(job.a64, job.b64); break;
    case VuOp::kBiasGrad: o.out32 = golden::linear_bias_grad(job.a64); break;
    case VuOp::kMaxPool: {
      golden::MaxPoolForward m = golden::maxpool_forward(job.act, s.pool);
      o.act = std::move(m.out);
      o.argmax = std::move(m.argmax);
      break;
    }
    case VuOp::kAvgPool: o.act = golden::avgpool_forward(job.act, s.pool, threads_); break;
    case VuOp::kMaxPoolBwd: o.out64 = golden::maxpool_backward(job.a64, job.argmax, s.in); break;
    case VuOp::kAvgPoolBwd: o.out64 = golden::avgpool_backward(job.a64, s.in, s.pool, threads_); break;
    case VuOp::kLoss: o.out64 = golden::softmax_cross_entropy(job.a32, job.labels).error; break;
  }
  return o;
}

UnitBackends with_golden_defaults(UnitBackends b, int threads) {
  if (!b.array) b.array = std::make_shared<GoldenArrayBackend>();
  if (!b.shift_quantizer) b.shift_quantizer = std::make_shared<GoldenShiftQuantizerBackend>(threads);
  if (!b.bn) b.bn = std::make_shared<GoldenBnBackend>(threads);
  if (!b.optimizer) b.optimizer = std::make_shared<GoldenOptimizerBackend>();
  if (!b.vector) b.vector = std::make_shared<GoldenVectorUnitBackend>(threads);
  return b;
}

}  // namespace octet::model
