// NetworkStep: the backward and update operations (the forward ones: network_step.cpp).
#include <memory>

#include "golden/int_network.h"
#include "golden/loss.h"
#include "golden/pooling.h"
#include "golden/residual.h"
#include "model/gemm_plan.h"
#include "model/lowering.h"
#include "model/network_step.h"
#include "model/storage_widths.h"

namespace octet::model {

using golden::NodeDesc;
using golden::OpKind;
using golden::Tensor;

namespace {

using namespace storage;  // NOLINT: the width constants kAct, kE2, ... read as a table here
constexpr double kActBytes = kAct, kWideBytes = kWide, kE2Bytes = kE2, kE1Bytes = kE1;
constexpr double kXhatBytes = kXhat, kMaskBytes = kMask;

int64_t b(int64_t n, double bytes) { return bytes_of(n, bytes); }

template <typename T>
Tensor<T> reshaped(Tensor<T> t, golden::Shape s) {
  t.shape = std::move(s);
  return t;
}

Issued one(Op* op, std::function<void()> then = nullptr) { return Issued{{op}, std::move(then)}; }

}  // namespace

// The error arriving at node i through the shift-quantizer: E2 (flag quantization, as
// hardware codes) at a conv / linear output, E1 (SQ) at a bnrelu output.
Issued NetworkStep::quantize_error(const StepOp& op, SqMode mode, double out_bytes) {
  const int i = op.node;
  const int64_t n = elems(i);
  std::function<SqJob()> job;
  if (fs_)
    job = [this, i, mode] {
      SqJob j;
      j.mode = mode;
      j.in = err_[static_cast<size_t>(i)];
      j.bits = golden::kIntErrorBits;
      return j;
    };
  Op* q = u_.sq->quantize(op.record, mode, n, quantize_traffic(mode, n, kWideBytes, out_bytes, res_.error_home(i)), job,
                          [this, i](SqOutcome& o) { quantized_err_[static_cast<size_t>(i)] = std::move(o.out); });
  if (!fs_ || mode != SqMode::kFlag) return one(q);
  return one(q, [this, i] {  // E2 as the operand of both GEMMs
    const NodeDesc& d = node(i);
    Tensor<int32_t>& e2 = quantized_err_[static_cast<size_t>(i)];
    e2_matrix_[static_cast<size_t>(i)] = error_matrix(d.kind == OpKind::kConv ? e2 : reshaped(e2, {N_, d.out_channels, 1, 1}));
  });
}

Issued NetworkStep::linear_bias_grad(const StepOp& op) {  // batch sum of the loss error
  const int i = op.node, p = op.param;
  const int64_t n_out = elems(i), co = node(i).out_channels;
  VuShape shape;
  shape.op = VuOp::kBiasGrad;
  shape.rows = N_;
  shape.cols = co;
  return one(vector(op.record, n_out, {1, 0, 0}, shape,
                    Io{}.in(n_out, kWideBytes, kFp32, 1, res_.error_home(i)).dram(0, b(co, kParamGrad), 0, b(co, kFp32)).t,
                    [this, i] {
                      VuJob j;
                      j.a64 = err_[static_cast<size_t>(i)];
                      return j;
                    },
                    [this, p](VuOutcome& o) { grads_[static_cast<size_t>(p + 1)] = std::move(o.out32); }));
}

Issued NetworkStep::weight_grad_gemm(const StepOp& op) {
  const int i = op.node, p = op.param;
  const NodeDesc& d = node(i);
  const bool conv = d.kind == OpKind::kConv;
  const auto [f, m, co] = gemm_dims(i);
  GemmShape s{f, m, co, 1, kActBytes, kE2Bytes};
  if (conv) s.x_reuse = window_reuse(d.kernel, d.kernel, d.stride, d.stride);
  // CQ streams it; FP32: the optimizer, later.
  const Handoff keep = grad_raw_home_[static_cast<size_t>(p)] = resident_if(cfg_, f * co, true, false);
  // CQ is fused when the drained values are the final ones: one reduction chunk (longer
  // reductions are merged in the accumulator SRAM after the drain) and no weight decay (its
  // term is added on the quantizer's input, after the drain-path maximum). docs/architecture.md,
  // "Schedule of a training step", fused quantization.
  grad_fused_[static_cast<size_t>(p)] = plan_gemm(s, cfg_).d_chunks == 1 && decay_lambda_ < 0;
  if (!fs_) return Issued{gemm(op.record, s, kWideBytes, nullptr, keep), nullptr};
  const NodeValue& iv = values_[static_cast<size_t>(d.inputs[0])];
  const golden::Shape os{N_, co, conv ? d.out_shape[1] : 1, conv ? d.out_shape[2] : 1};
  auto g = std::make_shared<GemmData>();
  g->kind = GemmKind::kWeightGrad;
  g->act = conv ? im2col(iv.act, d.kernel, golden::ConvParams{d.stride, d.pad}, os) : reshaped(iv.act, {N_, f});
  g->err = e2_matrix_[static_cast<size_t>(i)];
  g->out = Tensor<int64_t>({f, co}, g->act.exp + g->err.exp);
  return Issued{gemm(op.record, s, kWideBytes, g.get(), keep), [this, g, p] {
                  grad_raw_[static_cast<size_t>(p)] = gradient_to_param(g->out, fs_->params[static_cast<size_t>(p)].shape);
                }};
}

// G = CQ(G_raw + weight decay) through the shift-quantizer: the decay term is added on its
// input stream (rtl/sq_addend.sv), from the layer's W8 streamed beside G_raw.
Issued NetworkStep::quantize_gradient(const StepOp& op) {
  const int p = op.param;
  const auto [f, m, co] = gemm_dims(op.node);
  const int64_t n = f * co;
  const bool decay = decay_lambda_ >= 0;
  std::function<SqJob()> job;
  if (fs_)
    job = [this, p, decay] {
      SqJob j;
      j.mode = SqMode::kConstant;
      j.in = std::move(grad_raw_[static_cast<size_t>(p)]);
      j.cq = golden::gradient_cq_params(fs_->seed, fs_->step, p, fs_->gscale_log2);
      if (decay) {
        j.decay_lambda = decay_lambda_;
        j.decay_w8 = fs_->weight8[static_cast<size_t>(p)];
      }
      return j;
    };
  const bool fused = grad_fused_[static_cast<size_t>(p)] != 0;
  const StreamTraffic t = gradient_quantize_traffic(n, kWideBytes, param_widths(golden::ParamDesc::kWeight).grad,
                                                    grad_raw_home_[static_cast<size_t>(p)], fused, decay);
  return one(u_.sq->quantize(op.record, SqMode::kConstant, n, t, job,
                             [this, p](SqOutcome& o) { grads_[static_cast<size_t>(p)] = std::move(o.out); }, fused,
                             decay));
}

Issued NetworkStep::backward_data_gemm(const StepOp& op) {
  const int i = op.node, p = op.param, src = op.target;
  const NodeDesc& d = node(i);
  const bool conv = d.kind == OpKind::kConv;
  const auto [f, m, co] = gemm_dims(i);
  const int64_t n_in = elems(src);
  GemmShape s{m, co, f, 1, kE2Bytes, 1};
  if (conv) s.out_reuse = window_reuse(d.kernel, d.kernel, d.stride, d.stride);
  const Handoff keep = res_.contribution_home(i, src, n_in, op.merges);
  if (!fs_) return Issued{gemm(op.record, s, kWideBytes, nullptr, keep), [this, &op, keep] { contribute(op, {}, keep); }};
  const golden::Shape os{N_, co, conv ? d.out_shape[1] : 1, conv ? d.out_shape[2] : 1};
  auto g = std::make_shared<GemmData>();
  g->kind = GemmKind::kBackwardData;
  g->err = e2_matrix_[static_cast<size_t>(i)];  // a copy: the weight-gradient GEMM may come later (concurrent schedule)
  g->weight = weight_matrix(fs_->weight8[static_cast<size_t>(p)]);
  g->out = Tensor<int64_t>({m, f}, g->err.exp + g->weight.exp);
  return Issued{gemm(op.record, s, kWideBytes, g.get(), keep), [this, &op, g, keep, conv, os] {
                  const NodeDesc& nd = node(op.node);
                  const golden::Shape& in_shape = values_[static_cast<size_t>(op.target)].act.shape;
                  Tensor<int64_t> e1raw = conv ? col2im(g->out, in_shape, nd.kernel, golden::ConvParams{nd.stride, nd.pad}, os)
                                               : reshaped(g->out, in_shape);
                  contribute(op, std::move(e1raw), keep);
                }};
}

Issued NetworkStep::bn_backward(const StepOp& op) {
  const int i = op.node, p = op.param;
  const NodeDesc& d = node(i);
  const bool need = op.target >= 0;
  const int64_t n_out = elems(i), n_in = elems(d.inputs[0]);
  // Two passes over E1, x̂, mask (FP32: dy, x̂, mask); dx out, and G of γ and β for the update.
  const Handoff dx_home = need ? res_.contribution_home(i, op.target, n_in, op.merges) : Handoff{};
  const int64_t c = d.out_shape[0];
  const StreamTraffic t = Io{}.dram(2 * b(n_out, kE1Bytes + kXhatBytes + kMaskBytes), b(2 * c, kParamGrad),
                                    2 * b(n_out, kFp32 + kFp32Mask), b(2 * c, kFp32))
                              .in(n_out, 0, kFp32, 2, res_.error_home(i))
                              .out(n_in, kWideBytes, kFp32, dx_home).t;
  auto dx = std::make_shared<Tensor<int64_t>>();
  std::function<BnBackwardJob()> jb;
  std::function<void(BnBackwardOutcome&)> done;
  if (fs_) {
    jb = [this, i, p] {
      const NodeValue& v = values_[static_cast<size_t>(i)];
      return BnBackwardJob{quantized_err_[static_cast<size_t>(i)], v.mask, v.xhat, fs_->affine[static_cast<size_t>(p)], v.stats};
    };
    done = [this, p, dx](BnBackwardOutcome& o) {
      grads_[static_cast<size_t>(p)] = std::move(o.g_gamma);
      grads_[static_cast<size_t>(p + 1)] = std::move(o.g_beta);
      *dx = std::move(o.dx);
    };
  }
  Op* bn = u_.bn->backward(op.record, n_out, c, t, jb, done);
  if (!need) return one(bn);
  return one(bn, [this, &op, dx, dx_home] { contribute(op, std::move(*dx), dx_home); });
}

Issued NetworkStep::pool_backward(const StepOp& op) {
  const int i = op.node, src = op.target;
  const bool mx = node(i).kind == OpKind::kMaxPool;
  const int64_t n_out = elems(i), n_in = elems(src);
  const Handoff e_home = res_.contribution_home(i, src, n_in, op.merges);
  const StreamTraffic t = Io{}.in(n_out, kWideBytes, kFp32, 1, res_.error_home(i))
                              .dram(mx ? b(n_out, kPoolIndex) : 0, 0, mx ? b(n_out, kFp32PoolIndex) : 0, 0)  // argmax
                              .out(n_in, kWideBytes, kFp32, e_home).t;
  auto e = std::make_shared<Tensor<int64_t>>();
  Op* pass = vector(op.record, n_in, {mx ? 0 : 1, 0, 0}, pool_shape(i, mx ? VuOp::kMaxPoolBwd : VuOp::kAvgPoolBwd), t,
                     [this, i, mx] {
                       VuJob j;
                       j.a64 = err_[static_cast<size_t>(i)];
                       if (mx) j.argmax = values_[static_cast<size_t>(i)].argmax;
                       return j;
                     },
                     [e](VuOutcome& o) { *e = std::move(o.out64); });
  return one(pass, [this, &op, e, e_home] { contribute(op, std::move(*e), e_home); });
}

// A residual add's error goes on to each input unchanged: on chip to the input that comes
// next in the backward order if it is there, else through DRAM.
Issued NetworkStep::error_pass_through(const StepOp& op) {
  const int i = op.node;
  const Handoff h = op.target == i - 1 ? Handoff{res_.error_home(i).ints, res_.error_home(i).fp, false} : Handoff{};
  contribute(op, fs_ ? err_[static_cast<size_t>(i)] : Tensor<int64_t>{}, h);
  return {};
}

// err[target] += the part node i contributed: an error add on the vector unit, reading the new
// part where it is and the earlier error from DRAM, and writing the sum where the complete
// error goes (final_home) once it is the last contribution.
Issued NetworkStep::error_merge(const StepOp& op) {
  const int target = op.target;
  const int64_t n = elems(target);
  auto part = std::make_shared<ErrorPart>(std::move(parts_.at({op.node, target})));
  parts_.erase({op.node, target});
  const Handoff out = op.completes ? res_.final_home(op.node, target, n) : Handoff{};
  res_.error_home(target) = out;
  const StreamTraffic t =
      Io{}.in(n, kWideBytes, kFp32, 1, part->home).in(n, kWideBytes, kFp32, 1, {}).out(n, kWideBytes, kFp32, out).t;
  VuShape shape;
  shape.op = VuOp::kErrorAdd;
  shape.n = n;
  return one(vector(op.record, n, {1, 0, 0}, shape, t,
                    [this, target, part] {
                      VuJob j;
                      j.a64 = err_[static_cast<size_t>(target)];
                      j.b64 = std::move(part->e);
                      return j;
                    },
                    [this, target](VuOutcome& o) { err_[static_cast<size_t>(target)] = std::move(o.out64); }));
}

// ---- update --------------------------------------------------------------------------------

Issued NetworkStep::running_stats_writeback(const StepOp& op) {
  const int i = op.node;
  const int64_t c = node(i).out_shape[0];
  // The BN unit computed the updated accumulators in the forward's statistics beat (the
  // backend's outcome: the RTL's in co-simulation); this pass writes them back.
  return one(u_.bn->stream(op.record, 2 * c, {2, 0, 0}, {b(2 * c, kRunningStat), b(2 * c, kRunningStat), b(2 * c, kFp32), b(2 * c, kFp32)},
                         fs_ ? std::function<void()>([this, i] {
                           fs_->running[static_cast<size_t>(i)] = std::move(values_[static_cast<size_t>(i)].running);
                         })
                             : nullptr));
}

Issued NetworkStep::optimizer_update(const StepOp& op) {
  const auto q = static_cast<size_t>(op.param);
  const golden::ParamDesc& pd = graph_.params[q];
  const int64_t n = pd.size();
  const OptKind kind = pd.kind == golden::ParamDesc::kWeight ? OptKind::kWeight8
                       : pd.kind == golden::ParamDesc::kBias ? OptKind::kBias
                                                             : OptKind::kBnAffine;
  // Reads M, V, G; writes M, V and the working copy (FP32: w, v, g; w, v).
  const ParamWidths w = param_widths(pd.kind);
  const StreamTraffic t{b(n, w.master + w.momentum + w.grad), b(n, w.master + w.momentum + w.working), b(n, 3 * kFp32),
                        b(n, 2 * kFp32)};
  std::function<OptJob()> jb;
  std::function<void(OptOutcome&)> done;
  if (fs_) {
    jb = [this, q, kind] { return OptJob{kind, fs_->states[q], grads_[q], fs_->lr_q}; };
    done = [this, q, kind](OptOutcome& o) {
      fs_->states[q] = std::move(o.state);
      switch (kind) {
        case OptKind::kWeight8: fs_->weight8[q] = golden::derive_weight8(fs_->states[q].master); break;
        case OptKind::kBnAffine: fs_->affine[q] = golden::derive_bn_affine(fs_->states[q].master); break;
        case OptKind::kBias: fs_->bias[q] = golden::derive_bias(fs_->states[q].master); break;
      }
    };
  }
  return one(u_.opt->update(op.record, n, t, jb, done));
}

}  // namespace octet::model
