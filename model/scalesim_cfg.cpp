// SCALE-Sim v2 .cfg files (INI, as Python's configparser reads them: `key = value` or
// `key: value`, `#`/`;` comments, case-insensitive keys). The keys that describe something
// Octet models are applied to an AccelConfig; the others are accepted and ignored.
#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "golden/input_file.h"
#include "model/text_fields.h"
#include "model/topology.h"

namespace octet::model {

namespace {

constexpr int64_t kMaxArraySide = 4096;
constexpr double kMinBandwidth = 1.0 / 64, kMaxBandwidth = 1 << 20;

[[noreturn]] void fail(const std::string& origin, int line, std::string_view field, const std::string& msg) {
  throw TopologyError(fmt::format("{}:{}: field '{}': {}", origin, line, field, msg));
}

int64_t positive_int(const std::string& origin, int line, std::string_view key, std::string_view value,
                     int64_t max) {
  const auto v = text::parse_int(value);
  if (!v) fail(origin, line, key, fmt::format("'{}' is not an integer", printable(value)));
  if (*v <= 0) fail(origin, line, key, fmt::format("must be positive, got {}", *v));
  if (*v > max) fail(origin, line, key, fmt::format("{} is larger than {}", *v, max));
  return *v;
}

}  // namespace

AccelConfig parse_scalesim_cfg_text(const std::string& text, const std::string& origin, AccelConfig base) {
  AccelConfig cfg = std::move(base);
  std::string section;
  const auto lines = text::split_lines(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    const int line = static_cast<int>(i) + 1;
    const std::string_view l = text::trim(lines[i]);
    if (l.empty() || l.front() == '#' || l.front() == ';') continue;
    if (l.front() == '[') {
      if (l.back() != ']') fail(origin, line, "section", fmt::format("'{}' lacks its closing ']'", printable(l)));
      section = std::string(text::trim(l.substr(1, l.size() - 2)));
      continue;
    }
    const size_t sep = l.find_first_of("=:");
    if (sep == std::string_view::npos)
      fail(origin, line, printable(l), "expected 'key = value', 'key: value' or '[section]'");
    const std::string_view key_raw = text::trim(l.substr(0, sep));
    const std::string_view value = text::trim(l.substr(sep + 1));
    if (key_raw.empty()) fail(origin, line, "key", "empty key");
    if (section.empty()) fail(origin, line, printable(key_raw), "key before any [section]");
    const std::string key = text::lower(key_raw);
    if (section == "general") {
      if (key == "run_name") {
        if (value.empty()) fail(origin, line, key_raw, "empty run name");
        for (const char c : value)  // the name reaches the reports (JSON, CSV) and the terminal
          if (c < 0x20 || c > 0x7e) fail(origin, line, key_raw, fmt::format("'{}' is not printable ASCII", printable(value)));
        cfg.name = std::string(value);
      }
    } else if (section == "architecture_presets") {
      // 4096 PEs per side (as --array) and 1 GiB per buffer bound nonsense, not real designs
      // (and keep the tiling's products of buffer sizes within int64, model/gemm_plan.cpp).
      if (key == "arrayheight") cfg.array_rows = static_cast<int>(positive_int(origin, line, key_raw, value, kMaxArraySide));
      else if (key == "arraywidth") cfg.array_cols = static_cast<int>(positive_int(origin, line, key_raw, value, kMaxArraySide));
      else if (key == "ifmapsramszkb") cfg.ifmap_sram_kib = positive_int(origin, line, key_raw, value, int64_t{1} << 20);
      else if (key == "filtersramszkb") cfg.filter_sram_kib = positive_int(origin, line, key_raw, value, int64_t{1} << 20);
      else if (key == "ofmapsramszkb") cfg.accum_sram_kib = positive_int(origin, line, key_raw, value, int64_t{1} << 20);
      else if (key == "dataflow") {
        const std::string df = text::lower(value);
        if (df != "os" && df != "ws" && df != "is")
          fail(origin, line, key_raw, fmt::format("unknown dataflow '{}' (SCALE-Sim has os, ws, is)", printable(value)));
        if (df != "os")
          fail(origin, line, key_raw,
               fmt::format("dataflow '{}' is not modelled: only os (output stationary, the RTL's dataflow) is", value));
        cfg.dataflow = "os";
      } else if (key == "bandwidth") {
        // SCALE-Sim's words per cycle; its default word is one byte, as Octet's operands are.
        // Bounded so that transfer times stay meaningful: 1e-300 made every transfer take
        // more cycles than int64 holds (negative stalls, fewer cycles than the default).
        const auto bw = text::parse_number(value);
        if (!bw) fail(origin, line, key_raw, fmt::format("'{}' is not a number", printable(value)));
        if (!(*bw >= kMinBandwidth && *bw <= kMaxBandwidth))
          fail(origin, line, key_raw,
               fmt::format("{} is outside {}..{} bytes per cycle", printable(value), kMinBandwidth, kMaxBandwidth));
        cfg.dram_bytes_per_cycle = *bw;
      }
    } else if (section == "run_presets") {
      if (key == "interfacebandwidth") {
        const std::string mode = text::lower(value);
        if (mode != "calc" && mode != "user")
          fail(origin, line, key_raw, fmt::format("'{}' is neither CALC nor USER", printable(value)));
      }
    }
  }
  return cfg;
}

AccelConfig parse_scalesim_cfg(const std::string& path, AccelConfig base) {
  return parse_scalesim_cfg_text(read_input_file<TopologyError>(path, path + ":0: field 'file'"), path, std::move(base));
}

}  // namespace octet::model
