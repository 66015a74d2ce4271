// octet-quantize: the quantizer demo. Quantizes one tensor (an embedded, seeded
// wide-accumulator tensor by default, or integer payloads from a file) with each
// WAGEUBN quantizer and reports levels, clipping and error against the exact value.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_common.h"
#include "golden/input_error.h"
#include "golden/input_file.h"
#include "golden/quantizers.h"
#include "golden/write_atomically.h"
#include "octet_params.h"

using namespace octet::golden;

namespace {

struct Row {
  std::string name, path;
  int out_exp = 0;
  int64_t levels = 0, clipped = 0, zeros = 0;
  double max_err = 0, rms_err = 0, snr_db = 0;
};

// An embedded tensor shaped like a conv layer's wide accumulator: a bell-shaped body
// (sum of four uniform 16-bit draws) with a few large outliers, seeded by the counter RNG.
Tensor<int64_t> embedded_tensor(int64_t n, uint64_t seed) {
  const StreamKey key = make_stream_key(seed, 0, 0xDE70);
  Tensor<int64_t> t({n}, -20);
  for (int64_t i = 0; i < n; ++i) {
    const uint64_t r = random_bits(key, static_cast<uint64_t>(i));
    int64_t s = 0;
    for (int j = 0; j < 4; ++j) s += static_cast<int64_t>((r >> (16 * j)) & 0xFFFF);
    s -= 2 * 65536;  // centred, std about 37800
    if (i % 997 == 0) s *= 4;  // outliers
    t.data[i] = s;
  }
  return t;
}

// Payloads are bounded so that every quantizer's arithmetic (scale, shifts, squares of
// errors) stays exact in int64 and double: |payload| < 2^40, as a 48-bit accumulator's.
constexpr int64_t kMaxPayload = (int64_t{1} << 40) - 1;
// Exponents are bounded so that payload * 2^exp and the output exponents stay in int range
// and double (2^-300 .. 2^300): --exp 2147483647 wrapped the exponent arithmetic.
constexpr int kMaxExp = 300;

Tensor<int64_t> read_payloads(const std::string& file, int exp) {
  const std::string text = octet::read_input_file<octet::InputError>(file, file + ":0: field '--input'");
  std::vector<int64_t> v;
  std::string tok;
  std::istringstream ss(text);
  while (ss >> tok) {
    size_t used = 0;
    int64_t x = 0;
    try {
      x = std::stoll(tok, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != tok.size() || x > kMaxPayload || x < -kMaxPayload)
      throw octet::InputError(fmt::format("{}: field 'element {}': '{}' is not an integer payload in -(2^40-1)..2^40-1",
                                          file, v.size() + 1, octet::printable(tok)));
    v.push_back(x);
  }
  if (v.empty()) throw octet::InputError(fmt::format("{}: field '--input': no payloads in file", file));
  const auto n = static_cast<int64_t>(v.size());
  return Tensor<int64_t>({n}, std::move(v), exp);
}

// Error against the exact value payload * 2^exact_exp (x.exp, except for CQ whose
// output is normalised: there the exact value is x / 2^r * 2^s * 2^out_exp).
Row measure(const std::string& name, const std::string& path, const Tensor<int64_t>& x, int exact_exp,
            const Tensor<int32_t>& q, int64_t clip_level) {
  Row r{name, path, q.exp};
  std::vector<int32_t> sorted(q.data.begin(), q.data.end());
  std::sort(sorted.begin(), sorted.end());
  r.levels = std::unique(sorted.begin(), sorted.end()) - sorted.begin();
  double err2 = 0, sig2 = 0;
  for (int64_t i = 0; i < x.size(); ++i) {
    const double exact = std::ldexp(static_cast<double>(x.data[i]), exact_exp);
    const double e = q.as_double(i) - exact;
    err2 += e * e;
    sig2 += exact * exact;
    r.max_err = std::max(r.max_err, std::abs(e));
    r.clipped += clip_level > 0 && std::abs(static_cast<int64_t>(q.data[i])) >= clip_level;
    r.zeros += q.data[i] == 0;
  }
  r.rms_err = std::sqrt(err2 / static_cast<double>(x.size()));
  r.snr_db = err2 > 0 ? 10 * std::log10(sig2 / err2) : INFINITY;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"octet-quantize: the WAGEUBN quantizers on one tensor (docs/numerics.md)"};
  int bits = 8, gscale_log2 = octet::params::kDefaultGScaleLog2, exp = -20;
  uint64_t seed = 1;
  int64_t elements = 100000;
  std::string input, json_out;
  app.add_option("--bits", bits, "bit-width k of the quantizers")->capture_default_str();
  app.add_option("--gscale-log2", gscale_log2, "log2 of the gradient scale of CQ")->capture_default_str()->check(CLI::Range(0, 15));
  app.add_option("--seed", seed, "seed of the embedded tensor and of stochastic rounding")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--elements", elements, "size of the embedded tensor")->capture_default_str()->check(CLI::Range(1, 100000000));
  app.add_option("--input", input, "whitespace-separated integer payloads instead of the embedded tensor");
  app.add_option("--exp", exp, "exponent of the input payloads (value = payload * 2^exp)")
      ->capture_default_str()
      ->check(CLI::Range(-kMaxExp, kMaxExp));
  app.add_option("--json", json_out, "also write the report as JSON to this file");
  octet::tools::add_version_flag(app, "octet-quantize");
  if (const auto status = octet::tools::parse_command_line(app, argc, argv, "octet-quantize")) return *status;
  return octet::tools::run_guarded("octet-quantize", [&] {
    try {
      check_bits("--bits", bits, kMaxFlagBits);
    } catch (const std::invalid_argument& e) {
      throw octet::InputError(e.what());
    }
    if (!json_out.empty() && std::filesystem::is_directory(json_out))
      throw octet::InputError(fmt::format("{}: field '--json': is a directory", octet::printable(json_out, 200)));
    const Tensor<int64_t> x = input.empty() ? embedded_tensor(elements, seed) : read_payloads(input, exp);
    const int r = tensor_scale_log2(x.data.data(), x.size());
    CqParams cq;
    cq.log2_scale = gscale_log2;
    cq.key = make_stream_key(seed, 0, 1);
    const int64_t lim = (int64_t{1} << (bits - 1)) - 1;
    std::vector<Row> rows = {
        measure("direct Q (clipped)", "W", x, x.exp, direct_quantize(x, bits, Clip::kSymmetric), lim),
        measure("shift SQ", "E1", x, x.exp, shift_quantize(x, bits), lim),
        measure("constant-factor CQ", "G", x, gscale_log2 - r + cq.out_exp, constant_factor_quantize(x, cq),
                (int64_t{1} << gscale_log2) - 1),
        measure("flag (fine/coarse)", "E2", x, x.exp, flag_quantize(x, bits), lim << (bits - 1)),
    };
    fmt::print("input: {} {} elements at exponent {}; scale R = 2^round(log2 max|x|) = 2^{} payload units\n",
               x.size(), input.empty() ? "embedded (seeded)" : input, x.exp, r);
    fmt::print("{:<20} {:<4} {:>7} {:>7} {:>8} {:>8} {:>12} {:>12} {:>8}\n", "quantizer", "path", "out exp", "levels",
               "clipped", "zeros", "max |err|", "rms err", "SNR dB");
    for (const Row& row : rows)
      fmt::print("{:<20} {:<4} {:>7} {:>7} {:>8} {:>8} {:>12.4g} {:>12.4g} {:>8.2f}\n", row.name, row.path, row.out_exp,
                 row.levels, row.clipped, row.zeros, row.max_err, row.rms_err, row.snr_db);
    fmt::print("CQ's output is normalised (constant exponent {}): its error is against x / R * 2^{} * 2^{}.\n",
               cq.out_exp, gscale_log2, cq.out_exp);
    if (!json_out.empty()) {
      nlohmann::json j;
      j["format"] = "octet-quantize-report";
      j["version"] = 1;
      j["elements"] = x.size();
      j["input_exp"] = x.exp;
      j["scale_log2"] = r;
      j["bits"] = bits;
      for (const Row& row : rows)
        j["quantizers"].push_back({{"name", row.name}, {"path", row.path}, {"out_exp", row.out_exp},
                                   {"levels", row.levels}, {"clipped", row.clipped}, {"zeros", row.zeros},
                                   {"max_err", row.max_err}, {"rms_err", row.rms_err}, {"snr_db", row.snr_db}});
      octet::write_atomically(json_out, j.dump(2) + "\n", "the JSON report");
      fmt::print("wrote {}\n", json_out);
    }
    return 0;
  });
}
