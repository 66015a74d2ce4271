// Milliseconds per call of the three fast conv passes on the small-ResNet layer shapes
// (batch 64 by default), random full-range operands. A benchmark, not a test.
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <ctime>
#include <random>
#include <string>

#include "golden/fast_conv.h"
#include "cli_common.h"

using namespace octet::golden;

namespace {

template <typename T>
Tensor<T> random_tensor(std::mt19937_64& gen, const Shape& shape, int64_t lo, int64_t hi, int exp) {
  Tensor<T> t(shape, exp);
  std::uniform_int_distribution<int64_t> d(lo, hi);
  for (auto& v : t.data) v = static_cast<T>(d(gen));
  return t;
}

// CPU time of the process with one thread (robust on a shared machine), wall time otherwise.
bool g_cpu_clock = true;

double now_ms() {
  if (!g_cpu_clock) return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

template <typename F>
double best_ms(int reps, F f) {
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    const double t0 = now_ms();
    f();
    best = std::min(best, now_ms() - t0);
  }
  return best;
}

struct Layer {
  const char* name;
  int64_t C, Co, H, K;
  int stride, pad;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ms per call of the fast conv passes on small-ResNet shapes"};
  int64_t batch = 64;
  int threads = 1, reps = 5;
  std::string only, passes = "fbw";
  app.add_option("--batch", batch, "images per call");
  app.add_option("--threads", threads, "worker threads");
  app.add_option("--reps", reps, "repetitions (the best is reported)");
  app.add_option("--layer", only, "run only the layer whose name starts with this");
  app.add_option("--passes", passes, "which passes to time: f(orward) b(ackward data) w(eight gradient)");
  octet::tools::add_version_flag(app, "octet-bench-fast-conv");
  if (const auto status = octet::tools::parse_command_line(app, argc, argv, "octet-bench-fast-conv")) return *status;
  g_cpu_clock = threads == 1;
  const Layer layers[] = {
      {"conv1 1->16 28", 1, 16, 28, 3, 1, 1},   {"s1 16->16 28", 16, 16, 28, 3, 1, 1},
      {"s2 16->32 28/2", 16, 32, 28, 3, 2, 1},  {"s2 32->32 14", 32, 32, 14, 3, 1, 1},
      {"proj 16->32 1x1/2", 16, 32, 28, 1, 2, 0}, {"s3 32->64 14/2", 32, 64, 14, 3, 2, 1},
      {"s3 64->64 7", 64, 64, 7, 3, 1, 1},
  };
  std::mt19937_64 gen(1);
  double total[3] = {0, 0, 0};
  fmt::print("batch {} threads {} avx2 {} ({} time)\n{:<20} {:>9} {:>9} {:>9}  GMAC/s(fwd)\n", batch, threads,
             fast_kernels_use_avx2(), g_cpu_clock ? "cpu" : "wall", "layer", "fwd ms", "bwd ms", "wgrad ms");
  for (const Layer& l : layers) {
    if (!std::string(l.name).starts_with(only)) continue;
    const auto x = random_tensor<uint8_t>(gen, {batch, l.C, l.H, l.H}, 0, 255, -7);
    const auto w = random_tensor<int8_t>(gen, {l.Co, l.C, l.K, l.K}, -128, 127, -7);
    const ConvParams p{l.stride, l.pad};
    const Shape os = conv_output_shape(x.shape, w.shape, p);
    const auto e = random_tensor<int32_t>(gen, os, -16256, 16256, -20);
    const auto has = [&](char c) { return passes.find(c) != std::string::npos; };
    const double f = has('f') ? best_ms(reps, [&] { (void)conv2d_forward_fast(x, w, p, threads); }) : 0;
    const double b = has('b') ? best_ms(reps, [&] { (void)conv2d_backward_data_fast(e, w, p, x.shape, threads); }) : 0;
    const double g = has('w') ? best_ms(reps, [&] { (void)conv2d_weight_grad_fast(x, e, p, w.shape, threads); }) : 0;
    const double macs = double(batch) * l.Co * os[2] * os[3] * l.C * l.K * l.K;
    fmt::print("{:<20} {:>9.3f} {:>9.3f} {:>9.3f}  {:.1f}\n", l.name, f, b, g, macs / f / 1e6);
    total[0] += f, total[1] += b, total[2] += g;
  }
  fmt::print("{:<20} {:>9.3f} {:>9.3f} {:>9.3f}  all passes {:.3f} ms\n", "total", total[0], total[1], total[2],
             total[0] + total[1] + total[2]);
  return 0;
}
