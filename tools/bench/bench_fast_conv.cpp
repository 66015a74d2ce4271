// Milliseconds per call of the three fast conv passes on the small-ResNet layer shapes
// (batch 64 by default) or ResNet-18's at 224x224 (--net resnet18), random full-range
// operands, on the fastest instruction path or the one named by --path. A benchmark, not a test.
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "golden/input_error.h"

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
  int64_t wmax = 128;
  std::string only, passes = "fbw", path_name, net = "small_resnet";
  app.add_option("--batch", batch, "images per call");
  app.add_option("--threads", threads, "worker threads");
  app.add_option("--reps", reps, "repetitions (the best is reported)");
  app.add_option("--layer", only, "run only the layer whose name starts with this");
  app.add_option("--passes", passes, "which passes to time: f(orward) b(ackward data) w(eight gradient)");
  app.add_option("--path", path_name, "instruction path: portable, avx2, avx2_u8, avx_vnni, avx512_vnni (default: the fastest)");
  app.add_option("--net", net, "layer shapes: small_resnet or resnet18 (224x224, one conv per distinct shape)");
  app.add_option("--wmax", wmax, "weights drawn from [-wmax, wmax] (avx2_u8 takes bytes only for wmax <= 64)");
  octet::tools::add_version_flag(app, "octet-bench-fast-conv");
  if (const auto status = octet::tools::parse_command_line(app, argc, argv, "octet-bench-fast-conv")) return *status;
  g_cpu_clock = threads == 1;
  const int bad = octet::tools::run_guarded("octet-bench-fast-conv", [&] {
    if (!path_name.empty()) {
      const ConvPath path = parse_conv_path(path_name, "--path");
      if (!conv_path_supported(path)) throw octet::InputError("--path: this CPU cannot run '" + path_name + "'");
      fast_conv_set_path(path);
    }
    if (net != "small_resnet" && net != "resnet18") throw octet::InputError("--net: '" + octet::printable(net) + "' is not small_resnet or resnet18");
    return 0;
  });
  if (bad != 0) return bad;
  const std::vector<Layer> small = {
      {"conv1 1->16 28", 1, 16, 28, 3, 1, 1},   {"s1 16->16 28", 16, 16, 28, 3, 1, 1},
      {"s2 16->32 28/2", 16, 32, 28, 3, 2, 1},  {"s2 32->32 14", 32, 32, 14, 3, 1, 1},
      {"proj 16->32 1x1/2", 16, 32, 28, 1, 2, 0}, {"s3 32->64 14/2", 32, 64, 14, 3, 2, 1},
      {"s3 64->64 7", 64, 64, 7, 3, 1, 1},
  };
  const std::vector<Layer> resnet18 = {
      {"conv1 3->64 224/2 7x7", 3, 64, 224, 7, 2, 3}, {"l1 64->64 56", 64, 64, 56, 3, 1, 1},
      {"l2 64->128 56/2", 64, 128, 56, 3, 2, 1},      {"l2 128->128 28", 128, 128, 28, 3, 1, 1},
      {"l2 proj 64->128 1x1/2", 64, 128, 56, 1, 2, 0}, {"l3 128->256 28/2", 128, 256, 28, 3, 2, 1},
      {"l3 256->256 14", 256, 256, 14, 3, 1, 1},      {"l3 proj 128->256 1x1/2", 128, 256, 28, 1, 2, 0},
      {"l4 256->512 14/2", 256, 512, 14, 3, 2, 1},    {"l4 512->512 7", 512, 512, 7, 3, 1, 1},
      {"l4 proj 256->512 1x1/2", 256, 512, 14, 1, 2, 0},
  };
  const std::vector<Layer>& layers = net == "resnet18" ? resnet18 : small;
  std::mt19937_64 gen(1);
  double total[3] = {0, 0, 0};
  fmt::print("{} batch {} threads {} path {} ({} time)\n{:<24} {:>9} {:>9} {:>9}  GMAC/s(fwd)\n", net, batch, threads,
             conv_path_name(fast_conv_path()), g_cpu_clock ? "cpu" : "wall", "layer", "fwd ms", "bwd ms", "wgrad ms");
  for (const Layer& l : layers) {
    if (!std::string(l.name).starts_with(only)) continue;
    const auto x = random_tensor<uint8_t>(gen, {batch, l.C, l.H, l.H}, 0, 255, -7);
    const auto w = random_tensor<int8_t>(gen, {l.Co, l.C, l.K, l.K}, -wmax, std::min<int64_t>(wmax, 127), -7);
    const ConvParams p{l.stride, l.pad};
    const Shape os = conv_output_shape(x.shape, w.shape, p);
    const auto e = random_tensor<int32_t>(gen, os, -16256, 16256, -20);
    const auto has = [&](char c) { return passes.find(c) != std::string::npos; };
    const double f = has('f') ? best_ms(reps, [&] { (void)conv2d_forward_fast(x, w, p, threads); }) : 0;
    const double b = has('b') ? best_ms(reps, [&] { (void)conv2d_backward_data_fast(e, w, p, x.shape, threads); }) : 0;
    const double g = has('w') ? best_ms(reps, [&] { (void)conv2d_weight_grad_fast(x, e, p, w.shape, threads); }) : 0;
    const double macs = double(batch) * l.Co * os[2] * os[3] * l.C * l.K * l.K;
    fmt::print("{:<24} {:>9.3f} {:>9.3f} {:>9.3f}  {:.1f}\n", l.name, f, b, g, macs / f / 1e6);
    total[0] += f, total[1] += b, total[2] += g;
  }
  fmt::print("{:<24} {:>9.3f} {:>9.3f} {:>9.3f}  all passes {:.3f} ms\n", "total", total[0], total[1], total[2],
             total[0] + total[1] + total[2]);
  return 0;
}
