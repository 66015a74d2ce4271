// ns/element of the reference tensor quantizers and adds against their fast twins at
// training-like sizes (small_resnet, batch 64). A benchmark, not a test:
//   cmake --build build --target octet-bench-quantizers && build/bin/octet-bench-quantizers [--reps N]
// Each row is the best of `reps` runs. The quantizer and add rows reuse their operands (hot in
// L3 at the smaller size); the accumulate rows start from fresh copies, as in a training step.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "golden/quantizers.h"
#include "golden/quantizers_fast.h"
#include "golden/residual.h"
#include "golden/residual_fast.h"
#include "cli_common.h"

using namespace octet::golden;

namespace {

int reps = 15;

// Best of `reps` wall times of f, in ns per element.
double ns_per_element(int64_t n, const std::function<void()>& f) {
  double best = 1e30;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    const auto t1 = std::chrono::steady_clock::now();
    best = std::min(best, std::chrono::duration<double, std::nano>(t1 - t0).count());
  }
  return best / static_cast<double>(n);
}

// Errors as in training: heavy-tailed magnitudes below 2^bits, both signs.
template <typename T>
Tensor<T> errors(int64_t n, int bits, int exp, uint64_t seed) {
  std::mt19937_64 gen(seed);
  Tensor<T> t({n}, exp);
  for (auto& x : t.data) {
    const auto mag = static_cast<int64_t>((gen() & ((uint64_t{1} << bits) - 1)) >> (gen() % 16));
    x = static_cast<T>(gen() & 1 ? -mag : mag);
  }
  return t;
}

void row(const std::string& name, int64_t n, int threads, double ref, double fast) {
  std::printf("%-28s n=%-8lld threads=%d  reference %7.3f ns/el  fast %7.3f ns/el  x%.1f\n", name.c_str(),
              static_cast<long long>(n), threads, ref, fast, ref / fast);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"octet-bench-quantizers: ns/element of the tensor quantizers and adds, reference vs fast"};
  app.add_option("--reps", reps, "runs per row (the best is reported)")->check(CLI::Range(1, 1000000))->capture_default_str();
  octet::tools::add_version_flag(app, "octet-bench-quantizers");
  if (const auto status = octet::tools::parse_command_line(app, argc, argv, "octet-bench-quantizers")) return *status;
  volatile int sink = 0;
  for (int64_t n : {int64_t{64} * 16 * 28 * 28, int64_t{64} * 64 * 7 * 7}) {
    const Tensor<int64_t> x = errors<int64_t>(n, 20, -20, 1);
    const Tensor<int64_t> y = errors<int64_t>(n, 20, -21, 2);
    const Tensor<int64_t> y_same = errors<int64_t>(n, 20, -20, 3);
    const Tensor<int32_t> a = errors<int32_t>(n, 20, -14, 4);
    const Tensor<int32_t> b = errors<int32_t>(n, 20, -15, 5);
    CqParams cq;
    cq.key = make_stream_key(1, 2, 17);
    for (int th : {1, 2}) {
      row("tensor_scale_log2", n, th, ns_per_element(n, [&] { sink = sink + tensor_scale_log2(x.data.data(), n); }),
          ns_per_element(n, [&] { sink = sink + tensor_scale_log2_fast(x.data.data(), n, th); }));
      row("shift_quantize k=8", n, th, ns_per_element(n, [&] { sink = sink + shift_quantize(x, 8, th).data[0]; }),
          ns_per_element(n, [&] { sink = sink + shift_quantize_fast(x, 8, th).data[0]; }));
      row("flag_quantize k=8", n, th, ns_per_element(n, [&] { sink = sink + flag_quantize(x, 8, th).data[0]; }),
          ns_per_element(n, [&] { sink = sink + flag_quantize_fast(x, 8, th).data[0]; }));
      row("constant_factor_quantize s=7", n, th,
          ns_per_element(n, [&] { sink = sink + constant_factor_quantize(x, cq, th).data[0]; }),
          ns_per_element(n, [&] { sink = sink + constant_factor_quantize_fast(x, cq, th).data[0]; }));
      row("error_add (exp gap 1)", n, th, ns_per_element(n, [&] { sink = sink + static_cast<int>(error_add(x, y).data[0]); }),
          ns_per_element(n, [&] { sink = sink + static_cast<int>(error_add_fast(x, y, th).data[0]); }));
      row("error_add (same exp)", n, th,
          ns_per_element(n, [&] { sink = sink + static_cast<int>(error_add(x, y_same).data[0]); }),
          ns_per_element(n, [&] { sink = sink + static_cast<int>(error_add_fast(x, y_same, th).data[0]); }));
      // accumulate: into = error_add(into, e) as int_network does it, against the in-place sum
      // (each run starts from a fresh copy of `into`, made outside the timed region).
      {
        std::vector<Tensor<int64_t>> copies_ref(static_cast<size_t>(reps), x), copies_fast(static_cast<size_t>(reps), x);
        std::vector<Tensor<int64_t>> moved_e(static_cast<size_t>(reps), y);  // int_network moves e in
        size_t next_ref = 0, next_fast = 0;
        row("accumulate (exp gap 1)", n, th, ns_per_element(n, [&] {
              Tensor<int64_t>& into = copies_ref[next_ref++];
              into = error_add(into, y);
            }),
            ns_per_element(n, [&] { 
              accumulate_error_fast(copies_fast[next_fast], std::move(moved_e[next_fast]), th);
              ++next_fast;
            }));
      }
      row("residual_add (exp gap 1)", n, th, ns_per_element(n, [&] { sink = sink + residual_add(a, b).data[0]; }),
          ns_per_element(n, [&] { sink = sink + residual_add_fast(a, b, th).data[0]; }));
    }
  }
  return sink == 12345 ? 1 : 0;
}
