// octet-fp32-bench: times training steps of the FP32 twin on random data and reports where the
// time goes, per op kind and per node.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <chrono>
#include <ctime>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>

#include "cli_common.h"
#include "golden/checked_math.h"
#include "golden/fp32_gemm.h"
#include "golden/fp32_network.h"

using namespace octet::golden;

int main(int argc, char** argv) {
  CLI::App app{"octet-fp32-bench: time FP32-twin training steps on random data"};
  std::string path;
  int batch = 32, steps = 5, threads = 0, top = 10;
  uint64_t seed = 1;
  app.add_option("file", path, "network description (.net)")->required();
  app.add_option("--batch", batch, "batch size")->capture_default_str()->check(CLI::Range(1, 4096));
  app.add_option("--steps", steps, "timed steps (after one warm-up step)")->capture_default_str()->check(CLI::Range(1, 100000));
  app.add_option("--threads", threads, "worker threads (0: hardware concurrency)")->capture_default_str()->check(CLI::Range(0, 256));
  app.add_option("--seed", seed, "seed of the random data and parameters")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--top", top, "nodes listed, slowest first")->capture_default_str()->check(CLI::Range(0, 1 << 20));
  double max_memory_gib = 0;
  app.add_option("--max-memory", max_memory_gib, "refuse a network estimated to need more memory than this many GiB "
                                                 "(default: half the physical memory)")
      ->check(CLI::Range(0.001, 1e6));
  octet::tools::add_version_flag(app, "octet-fp32-bench");
  if (const auto status = octet::tools::parse_command_line(app, argc, argv, "octet-fp32-bench")) return *status;
  return octet::tools::run_guarded("octet-fp32-bench", [&] {
    const NetworkDesc net = parse_network_file(path);
    // Before allocating: floats for the parameters (value, gradient, momentum) and for every
    // node's output and error at this batch, plus the batch itself (an upper bound).
    const std::string where = path + ": field '--max-memory'";
    const int64_t floats = octet::checked_add<octet::InputError>(
        octet::checked_mul<octet::InputError>(count_params(net), 3, where),
        octet::checked_mul<octet::InputError>(
            [&] {
              int64_t e = 0;
              for (const NodeDesc& n : net.nodes) e = octet::checked_add<octet::InputError>(e, node_elements(n), where);
              return e;
            }(),
            int64_t{3} * batch, where),
        where);
    const double need_gib = static_cast<double>(floats) * 4 / double(1 << 30);
    const double limit = max_memory_gib > 0 ? max_memory_gib : octet::tools::default_max_memory_gib();
    if (need_gib > limit)
      throw octet::InputError(fmt::format("{}: the network needs about {:.1f} GiB at batch {}, more than the limit of "
                                          "{:.1f} GiB (raise it with --max-memory, or use a smaller batch)",
                                          where, need_gib, batch, limit));
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> normal(0.f, 1.f);
    std::vector<std::vector<float>> params;
    for (const ParamDesc& p : network_params(net)) {
      std::vector<float> v(static_cast<size_t>(p.size()));
      const float sd = 1.f / std::sqrt(static_cast<float>(p.fan_in));
      for (auto& x : v)
        x = p.kind == ParamDesc::kWeight ? sd * normal(rng) : p.kind == ParamDesc::kGamma ? 1.f : 0.f;
      params.push_back(std::move(v));
    }
    Fp32Network model(net, std::move(params));
    if (threads > 0) model.set_threads(threads);
    std::vector<float> images(static_cast<size_t>(batch * node_elements(net.input())));
    std::uniform_real_distribution<float> u(0.f, 1.f);
    for (auto& x : images) x = u(rng);
    std::vector<octet::golden::Label> labels(static_cast<size_t>(batch));
    for (auto& l : labels) l = static_cast<octet::golden::Label>(rng() % static_cast<uint64_t>(net.num_classes()));

    fmt::print("{}: batch {}, {} threads, seed {}, AVX2 kernel {}\n", net.name, batch, model.threads(), seed,
               fp32::gemm_uses_avx2() ? "yes" : "no");
    model.forward_backward(images.data(), labels.data(), batch);  // warm-up (allocations)
    model.sgd_step(0.01f, 0.9f, 1e-4f);
    model.reset_timing();
    const auto t0 = std::chrono::steady_clock::now();
    const std::clock_t c0 = std::clock();
    float loss = 0;
    for (int s = 0; s < steps; ++s) {
      loss = model.forward_backward(images.data(), labels.data(), batch);
      model.sgd_step(0.01f, 0.9f, 1e-4f);
    }
    const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / steps;
    const double cpu = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC / steps;
    const double flops = 6.0 * static_cast<double>(count_macs_forward(net, batch));
    fmt::print("step: {:.2f} ms wall ({:.0f} images/s, {:.1f} GFLOP/s on 3 x 2 x forward MACs), {:.2f} ms CPU "
               "(all threads), last loss {:.4f}\n",
               sec * 1e3, batch / sec, flops / sec / 1e9, cpu * 1e3, loss);
    std::map<std::string, std::pair<double, double>> by_kind;
    std::vector<std::pair<double, size_t>> by_node;
    for (size_t i = 0; i < net.nodes.size(); ++i) {
      auto& k = by_kind[op_name(net.nodes[i].kind)];
      k.first += model.forward_seconds()[i] / steps;
      k.second += model.backward_seconds()[i] / steps;
      by_node.push_back({(model.forward_seconds()[i] + model.backward_seconds()[i]) / steps, i});
    }
    for (const auto& [kind, t] : by_kind)
      fmt::print("  {:<8} forward {:8.2f} ms  backward {:8.2f} ms\n", kind, t.first * 1e3, t.second * 1e3);
    std::sort(by_node.rbegin(), by_node.rend());
    for (int i = 0; i < top && i < static_cast<int>(by_node.size()); ++i) {
      const size_t n = by_node[static_cast<size_t>(i)].second;
      fmt::print("  {:<14} {:<8} fwd {:7.2f} ms  bwd {:7.2f} ms\n", net.nodes[n].name, op_name(net.nodes[n].kind),
                 model.forward_seconds()[n] / steps * 1e3, model.backward_seconds()[n] / steps * 1e3);
    }
    return 0;
  });
}
