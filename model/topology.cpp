// SCALE-Sim v2 topology CSVs (conv and GEMM formats), parsed strictly: every malformed
// row is a one-line TopologyError "<file>:<line>: field '<column>': <message>".
#include "model/topology.h"

#include <fmt/format.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "golden/checked_math.h"
#include "golden/input_file.h"
#include "model/text_fields.h"

namespace octet::model {

namespace {

using text::split_cells;

constexpr std::array<const char*, 9> kConvColumns = {
    "Layer name", "IFMAP Height", "IFMAP Width", "Filter Height", "Filter Width",
    "Channels",   "Num Filter",   "Strides",     "Stride Width"};
constexpr size_t kConvRequired = 8;  // the stride-width column is optional
constexpr std::array<const char*, 4> kGemmColumns = {"Layer Name", "M", "N", "K"};
// Large enough for any real layer, small enough that products of sizes fit in int64.
constexpr int64_t kMaxSize = int64_t{1} << 31;
constexpr size_t kMaxNameChars = 256;

[[noreturn]] void fail(const std::string& origin, int line, std::string_view field, const std::string& msg) {
  throw TopologyError(fmt::format("{}:{}: field '{}': {}", origin, line, field, msg));
}

class RowReader {
 public:
  RowReader(const std::string& origin, int line, std::vector<std::string_view> cells, const char* const* names,
            size_t required, size_t max_cols)
      : origin_(origin), line_(line), cells_(std::move(cells)), names_(names) {
    if (cells_.size() < required)
      fail(origin_, line_, names_[cells_.size()],
           fmt::format("missing column (row has {} of {} columns)", cells_.size(), required));
    if (cells_.size() > max_cols)
      fail(origin_, line_, fmt::format("column {}", max_cols + 1),
           fmt::format("unexpected extra column '{}' (at most {} columns)", printable(cells_[max_cols]), max_cols));
  }
  size_t size() const { return cells_.size(); }
  std::string name(size_t i) const {
    const std::string_view name = cells_[i];
    if (name.empty()) fail(origin_, line_, names_[i], "empty layer name");
    // Names reach terminals, CSV and JSON reports: printable ASCII only (a Latin-1 byte is
    // not UTF-8 and made the JSON report fail after the run).
    for (const char c : name)
      if (c < 0x20 || c > 0x7e)
        fail(origin_, line_, names_[i], fmt::format("'{}' is not printable ASCII", printable(name)));
    if (name.size() > kMaxNameChars)
      fail(origin_, line_, names_[i], fmt::format("'{}' is longer than {} characters", printable(name), kMaxNameChars));
    return std::string(name);
  }
  int64_t positive(size_t i) const {
    const auto v = text::parse_int(cells_[i]);
    if (!v) fail(origin_, line_, names_[i], fmt::format("'{}' is not an integer", printable(cells_[i])));
    if (*v <= 0) fail(origin_, line_, names_[i], fmt::format("must be positive, got {}", *v));
    if (*v > kMaxSize) fail(origin_, line_, names_[i], fmt::format("{} is larger than {}", *v, kMaxSize));
    return *v;
  }
  [[noreturn]] void error(size_t i, const std::string& msg) const { fail(origin_, line_, names_[i], msg); }
  // a * b for the sizes of column i; an error naming that column if it leaves int64.
  int64_t mul(int64_t a, int64_t b, size_t i) const {
    return checked_mul<TopologyError>(a, b, fmt::format("{}:{}: field '{}'", origin_, line_, names_[i]));
  }

 private:
  const std::string& origin_;
  int line_;
  std::vector<std::string_view> cells_;
  const char* const* names_;
};

ConvLayerSpec parse_conv_row(const RowReader& r, int line) {
  ConvLayerSpec s;
  s.name = r.name(0);
  s.ifmap_h = r.positive(1);
  s.ifmap_w = r.positive(2);
  s.filter_h = r.positive(3);
  s.filter_w = r.positive(4);
  s.channels = r.positive(5);
  s.num_filter = r.positive(6);
  s.stride_h = r.positive(7);
  s.stride_w = r.size() > 8 ? r.positive(8) : s.stride_h;
  if (s.filter_h > s.ifmap_h) r.error(3, fmt::format("{} is larger than IFMAP Height {}", s.filter_h, s.ifmap_h));
  if (s.filter_w > s.ifmap_w) r.error(4, fmt::format("{} is larger than IFMAP Width {}", s.filter_w, s.ifmap_w));
  s.depthwise = s.name.find("DP") != std::string::npos;
  s.line = line;
  // The model multiplies these (tensor sizes, MACs of the three training GEMMs): every such
  // product must fit in int64. The batch and the run's budget are checked by the program.
  const int64_t ofmap = r.mul(s.ofmap_h(), s.ofmap_w(), 2);
  r.mul(r.mul(s.ifmap_h, s.ifmap_w, 2), s.channels, 5);
  const int64_t filter = r.mul(r.mul(s.filter_h, s.filter_w, 4), s.depthwise ? 1 : s.channels, 5);
  r.mul(r.mul(ofmap, filter, 4), s.depthwise ? s.channels : s.num_filter, s.depthwise ? 5 : 6);
  r.mul(filter, s.num_filter, 6);
  return s;
}

GemmLayerSpec parse_gemm_row(const RowReader& r, int line) {
  GemmLayerSpec s;
  s.name = r.name(0);
  s.m = r.positive(1);
  s.n = r.positive(2);
  s.k = r.positive(3);
  s.line = line;
  r.mul(r.mul(s.m, s.n, 2), s.k, 3);  // MACs (see parse_conv_row)
  return s;
}

// SCALE-Sim always skips the first line as a header. Tells the format from it, and refuses
// a first line that is a layer row (SCALE-Sim would silently drop that layer).
std::string format_from_header(const std::string& origin, int line, std::string_view header,
                               const std::string& format) {
  const auto cells = split_cells(header);
  if (cells.size() >= 2 && text::parse_int(cells[1]))
    fail(origin, line, "header",
         "the first line is a layer row; SCALE-Sim skips the first line, so add a header line");
  if (format != "auto") return format;
  const std::string second = cells.size() >= 2 ? text::lower(cells[1]) : "";
  if (second == "m") return "gemm";
  if (second.find("ifmap") != std::string::npos) return "conv";
  fail(origin, line, "header",
       fmt::format("cannot tell conv from gemm format from '{}'; give the format (conv or gemm)", printable(header)));
}

}  // namespace

Topology parse_scalesim_topology_text(const std::string& text, const std::string& origin,
                                      const std::string& format) {
  if (format != "auto" && format != "conv" && format != "gemm")
    fail(origin, 0, "format", fmt::format("unknown topology format '{}' (conv, gemm or auto)", printable(format)));
  Topology topo;
  topo.origin = origin;
  const auto lines = text::split_lines(text);
  std::string fmt_used;
  for (size_t i = 0; i < lines.size(); ++i) {
    const int line = static_cast<int>(i) + 1;
    if (text::trim(lines[i]).empty()) continue;
    if (fmt_used.empty()) {
      fmt_used = format_from_header(origin, line, lines[i], format);
      continue;
    }
    if (fmt_used == "conv") {
      const RowReader r(origin, line, split_cells(lines[i]), kConvColumns.data(), kConvRequired, kConvColumns.size());
      topo.conv.push_back(parse_conv_row(r, line));
    } else {
      const RowReader r(origin, line, split_cells(lines[i]), kGemmColumns.data(), kGemmColumns.size(),
                        kGemmColumns.size());
      topo.gemm.push_back(parse_gemm_row(r, line));
    }
  }
  if (topo.conv.empty() && topo.gemm.empty())
    fail(origin, static_cast<int>(lines.size()), "Layer name", "no layer rows after the header");
  return topo;
}

Topology parse_scalesim_topology(const std::string& path, const std::string& format) {
  return parse_scalesim_topology_text(read_input_file<TopologyError>(path, path + ":0: field 'file'"), path, format);
}

}  // namespace octet::model
