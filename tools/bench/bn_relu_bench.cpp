// Times the batch-norm and ReLU functions, reference vs fast (golden/batch_norm_fast.h,
// golden/activation_fast.h), at small_resnet's shapes for batch 64; prints ns per element
// (best of --reps runs). Checks the fast results against the reference before timing.
// A benchmark, not a test:
//   cmake --build build --target octet-bench-bn-relu && build/bin/octet-bench-bn-relu [--reps N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "golden/activation.h"
#include "golden/activation_fast.h"
#include "golden/batch_norm.h"
#include "golden/batch_norm_fast.h"
#include "cli_common.h"

using namespace octet::golden;

namespace {
template <typename F>
double best_ns(F&& f, int reps) {
  double best = 1e300;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    const auto t1 = std::chrono::steady_clock::now();
    best = std::min(best, std::chrono::duration<double, std::nano>(t1 - t0).count());
  }
  return best;
}

void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fast %s differs from the reference\n", what);
    std::exit(1);
  }
}
}  // namespace

int main(int argc, char** argv) {
  int reps = 7;
  CLI::App app{"octet-bench-bn-relu: ns/element of batch norm and ReLU, reference vs fast"};
  app.add_option("--reps", reps, "runs per row (the best is reported)")->check(CLI::Range(1, 1000000))->capture_default_str();
  octet::tools::add_version_flag(app, "octet-bench-bn-relu");
  if (const auto status = octet::tools::parse_command_line(app, argc, argv, "octet-bench-bn-relu")) return *status;
  std::printf("avx2=%d reps=%d, ns/element: reference -> fast (speed-up)\n", bn_relu_fast_uses_avx2(), reps);
  std::mt19937_64 gen(1);
  for (const Shape& shape : {Shape{64, 16, 28, 28}, Shape{64, 32, 14, 14}, Shape{64, 64, 7, 7}}) {
    // Training-like data: the stream on 2^-14, |x| ~ 2^16; E1 payloads in the int8 range.
    Tensor<int32_t> x(shape, -14);
    std::normal_distribution<double> normal(3000, 1 << 16);
    for (auto& v : x.data) v = static_cast<int32_t>(normal(gen));
    const int64_t C = shape[1];
    Tensor<int16_t> gamma({C}, -7), beta({C}, -7);
    for (auto& v : gamma.data) v = static_cast<int16_t>(100 + gen() % 60);
    for (auto& v : beta.data) v = static_cast<int16_t>(static_cast<int>(gen() % 200) - 100);
    Tensor<int32_t> e1(shape, -20);
    for (auto& v : e1.data) v = static_cast<int32_t>(gen() % 255) - 127;
    const double n = static_cast<double>(x.size());

    const BnStats s = bn_batch_statistics(x);
    const BnForward f = bn_forward(x, s, gamma, beta);
    const ReluForward r = relu_quantize(f.y);
    const Tensor<int32_t> dy = relu_backward(e1, r.mask);
    const BnBackward b = bn_backward(dy, f.xhat, gamma, s);
    require(bn_batch_statistics_fast(x).sigma == s.sigma, "statistics");
    require(bn_forward_fast(x, s, gamma, beta).y.data == f.y.data, "forward");
    require(bn_relu_forward_fast(x, s, gamma, beta).relu.a.data == r.a.data, "bn+relu forward");
    require(relu_quantize_fast(f.y).mask == r.mask, "relu_quantize");
    require(relu_backward_fast(e1, r.mask).data == dy.data, "relu_backward");
    require(bn_backward_fast(dy, f.xhat, gamma, s).dx.data == b.dx.data, "backward");
    require(bn_relu_backward_fast(e1, r.mask, f.xhat, gamma, s).dx.data == b.dx.data, "relu+bn backward");

    for (int th : {1, 2}) {
      std::printf("{%ld,%ld,%ld,%ld} threads %d\n", shape[0], shape[1], shape[2], shape[3], th);
      const auto row = [&](const char* name, double ref, double fast) {
        std::printf("  %-22s %7.3f -> %6.3f  (%5.1fx)\n", name, ref / n, fast / n, ref / fast);
      };
      const double t_stats = best_ns([&] { (void)bn_batch_statistics(x, th); }, reps);
      const double t_fwd = best_ns([&] { (void)bn_forward(x, s, gamma, beta, th); }, reps);
      const double t_relu = best_ns([&] { (void)relu_quantize(f.y); }, reps);
      const double t_rback = best_ns([&] { (void)relu_backward(e1, r.mask); }, reps);
      const double t_bwd = best_ns([&] { (void)bn_backward(dy, f.xhat, gamma, s, th); }, reps);
      const double f_stats = best_ns([&] { (void)bn_batch_statistics_fast(x, th); }, reps);
      const double f_fwd = best_ns([&] { (void)bn_forward_fast(x, s, gamma, beta, th); }, reps);
      const double f_relu = best_ns([&] { (void)relu_quantize_fast(f.y, th); }, reps);
      const double f_rback = best_ns([&] { (void)relu_backward_fast(e1, r.mask, th); }, reps);
      const double f_bwd = best_ns([&] { (void)bn_backward_fast(dy, f.xhat, gamma, s, th); }, reps);
      const double f_fused_fwd = best_ns([&] { (void)bn_relu_forward_fast(x, s, gamma, beta, th); }, reps);
      const double f_fused_bwd = best_ns([&] { (void)bn_relu_backward_fast(e1, r.mask, f.xhat, gamma, s, th); }, reps);
      row("bn_batch_statistics", t_stats, f_stats);
      row("bn_forward", t_fwd, f_fwd);
      row("relu_quantize", t_relu, f_relu);
      row("relu_backward", t_rback, f_rback);
      row("bn_backward", t_bwd, f_bwd);
      row("bn_forward+relu_q", t_fwd + t_relu, f_fused_fwd);
      row("relu_back+bn_backward", t_rback + t_bwd, f_fused_bwd);
      row("stage total", t_stats + t_fwd + t_relu + t_rback + t_bwd, f_stats + f_fused_fwd + f_fused_bwd);
    }
  }
}
