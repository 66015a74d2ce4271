// octet-bench-systolic: Verilator simulation speed of the 16x16 systolic array.
// Runs a tiled GEMM of random operands through the array (with the testbench driver,
// so the figure includes the C++ feeder) and reports simulated cycles per wall-clock
// second and MACs per second (useful MACs M*N*K, and PE-slots cycles*Rows*Cols).
// Not a test: no pass/fail beyond a sanity check of the cycle count.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <chrono>
#include <random>

#include "Vsystolic_array_16x16.h"
#include "sim/array_driver.h"
#include "cli_common.h"

int main(int argc, char** argv) {
  using namespace octet::sim;
  constexpr int kRows = 16, kCols = 16;
  int64_t M = 256, K = 256, N = 256;
  int reps = 3;
  CLI::App app{"Verilator simulation speed of the 16x16 systolic array"};
  app.add_option("-m", M, "GEMM rows")->check(CLI::PositiveNumber);
  app.add_option("-k", K, "GEMM reduction depth")->check(CLI::PositiveNumber);
  app.add_option("-n", N, "GEMM columns")->check(CLI::PositiveNumber);
  app.add_option("--reps", reps, "repetitions (best is reported)")->check(CLI::PositiveNumber);
  octet::tools::add_version_flag(app, "octet-bench-systolic");
  if (const auto status = octet::tools::parse_command_line(app, argc, argv, "octet-bench-systolic")) return *status;

  ArrayGemm g;
  g.M = M, g.K = K, g.N = N;
  std::mt19937_64 rng(1);
  g.x.resize(static_cast<size_t>(M * K));
  g.y.resize(static_cast<size_t>(K * N));
  for (auto& o : g.x) o = {static_cast<int32_t>(rng() % 256), false};
  for (auto& o : g.y) o = {static_cast<int32_t>(rng() % 255) - 127, (rng() & 1) != 0};

  ArrayDriver<Vsystolic_array_16x16> drv(kRows, kCols, octet::params::kAccW);
  double best = 1e300;
  uint64_t cycles = 0;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    cycles = drv.run(g).cycles;
    const std::chrono::duration<double> dt = std::chrono::steady_clock::now() - t0;
    best = std::min(best, dt.count());
  }
  const uint64_t formula = array_gemm_cycles(M, K, N, kRows, kCols);
  if (cycles != formula) {
    fmt::print(stderr, "cycle count {} differs from the formula {}\n", cycles, formula);
    return 1;
  }
  const double macs = static_cast<double>(M) * static_cast<double>(K) * static_cast<double>(N);
  fmt::print("16x16 array, GEMM {}x{}x{}: {} cycles in {:.3f} s (best of {})\n", M, K, N, cycles, best, reps);
  fmt::print("  simulation speed : {:.3g} cycles/s\n", static_cast<double>(cycles) / best);
  fmt::print("  useful MACs      : {:.3g} MAC/s ({:.1f}% PE utilisation)\n", macs / best,
             100.0 * macs / (static_cast<double>(cycles) * kRows * kCols));
  fmt::print("  PE-slot MACs     : {:.3g} MAC/s\n", static_cast<double>(cycles) * kRows * kCols / best);

  // The model alone: clock it with one beat held on the inputs (every PE accumulates every
  // cycle), without the feeder's packing and unpacking.
  VerilatedContext ctx;
  Vsystolic_array_16x16 model(&ctx, "TOP");
  model.rst_ni = 0;
  for (int i = 0; i < 2; ++i) model.clk_i = 0, model.eval(), model.clk_i = 1, model.eval();
  model.rst_ni = 1;
  model.in_valid_i = 1, model.in_first_i = 0, model.in_last_i = 0;
  for (int r = 0; r < kRows; ++r) put_bits(model.in_a_value_i, r * kOpBits, kOpBits, 200 + r);
  for (int c = 0; c < kCols; ++c) put_bits(model.in_b_value_i, c * kOpBits, kOpBits, 0x1FF - c);
  const uint64_t raw_cycles = 20 * cycles;
  const auto t0 = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < raw_cycles; ++i) model.clk_i = 0, model.eval(), model.clk_i = 1, model.eval();
  const std::chrono::duration<double> dt = std::chrono::steady_clock::now() - t0;
  model.final();
  fmt::print("model alone, {} cycles: {:.3g} cycles/s, {:.3g} MAC/s\n", raw_cycles, raw_cycles / dt.count(),
             static_cast<double>(raw_cycles) * kRows * kCols / dt.count());
  return 0;
}
