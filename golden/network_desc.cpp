#include "golden/network_desc.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "golden/checked_math.h"
#include "golden/input_file.h"
#include "golden/label.h"

namespace octet::golden {

namespace {

constexpr int kMaxNumber = 65536;  // largest accepted attribute / dimension value
// The last layer's out channels are the class count: the softmax's bound must cover every accepted value.
static_assert(kMaxNumber <= kMaxClasses, "class counts beyond the softmax's supported range (label.h)");

struct Line {
  int number = 0;
  std::vector<std::string> tokens;
};

std::vector<Line> tokenize(const std::string& text, int* total_lines) {
  std::vector<Line> lines;
  int number = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string raw = text.substr(pos, end - pos);
    ++number;
    if (const size_t hash = raw.find('#'); hash != std::string::npos) raw.resize(hash);
    Line line{number, {}};
    std::string tok;
    for (char ch : raw) {
      if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f') {
        if (!tok.empty()) line.tokens.push_back(std::move(tok));
        tok.clear();
      } else {
        tok.push_back(ch);
      }
    }
    if (!tok.empty()) line.tokens.push_back(std::move(tok));
    if (!line.tokens.empty()) lines.push_back(std::move(line));
    pos = end + 1;
  }
  *total_lines = std::max(1, number);
  return lines;
}

class Parser {
 public:
  Parser(std::string origin, const Shape* input_shape) : origin_(std::move(origin)), input_shape_(input_shape) {}

  [[noreturn]] void fail(int line, const std::string& field, const std::string& msg) const {
    throw DescError(origin_ + ":" + std::to_string(line) + ": field '" + field + "': " + msg);
  }

  static bool valid_name(const std::string& s) {
    if (s.empty()) return false;
    const auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
    if (!alpha(s[0])) return false;
    return std::all_of(s.begin(), s.end(), [&](char c) { return alpha(c) || (c >= '0' && c <= '9'); });
  }

  void check_name(int line, const std::string& field, const std::string& s) const {
    if (s == "global") fail(line, field, "name 'global' is reserved");
    if (!valid_name(s))
      fail(line, field, "invalid name '" + printable(s) + "' (letters, digits and '_', not starting with a digit)");
  }

  // A decimal number 0..kMaxNumber, digits only.
  int number(int line, const std::string& field, const std::string& s, int min) const {
    const bool digits = !s.empty() && s.size() <= 9 &&
                        std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits) fail(line, field, "bad number '" + printable(s) + "' (expected a non-negative decimal integer)");
    const long v = std::stol(s);
    if (v < min) fail(line, field, "must be >= " + std::to_string(min) + ", got " + printable(s));
    if (v > kMaxNumber) fail(line, field, "too large: " + printable(s) + " (at most " + std::to_string(kMaxNumber) + ")");
    return static_cast<int>(v);
  }

  static std::string shape_str(const Shape& s) {
    std::string r;
    for (size_t i = 0; i < s.size(); ++i) {
      if (i) r += 'x';
      r += std::to_string(s[i]);
    }
    return r;
  }

  static std::string kind_phrase(const NodeDesc& n) {
    const std::string k = value_kind_name(n.value_kind);
    return (k == "activation" ? "an " : "a ") + k + " (" + op_name(n.kind) + " output)";
  }

  NetworkDesc parse(const std::string& text) {
    int total_lines = 1;
    const std::vector<Line> lines = tokenize(text, &total_lines);
    NetworkDesc net;
    net.origin = origin_;
    if (lines.empty()) fail(total_lines, "network", "empty description: expected 'network <name>' as the first line");

    // Header.
    const Line& head = lines.front();
    if (head.tokens[0] != "network")
      fail(head.number, "network", "the first line must be 'network <name>', got '" + printable(head.tokens[0]) + "'");
    if (head.tokens.size() < 2) fail(head.number, "network", "missing network name");
    check_name(head.number, "network", head.tokens[1]);
    if (head.tokens.size() > 2)
      fail(head.number, "network", "unexpected token '" + printable(head.tokens[2]) + "' after the network name");
    net.name = head.tokens[1];

    // Where every name is first defined, to tell "defined later" from "undefined".
    std::map<std::string, int> first_def_line;
    for (size_t i = 1; i < lines.size(); ++i)
      if (lines[i].tokens.size() >= 2) first_def_line.emplace(lines[i].tokens[1], lines[i].number);

    std::map<std::string, int> index_of;
    for (size_t li = 1; li < lines.size(); ++li) {
      const Line& L = lines[li];
      if (!net.nodes.empty() && net.nodes.back().kind == OpKind::kLinear)
        fail(net.nodes.back().line, "op",
             "'linear' must be the last node (the network output), but line " + std::to_string(L.number) +
                 " follows it");
      net.nodes.push_back(parse_node(L, net, index_of, first_def_line));
      check_sizes(net);
      index_of.emplace(net.nodes.back().name, static_cast<int>(net.nodes.size()) - 1);
    }
    if (net.nodes.empty()) fail(head.number, "op", "no nodes: expected an 'input' node after the network line");
    const NodeDesc& last = net.nodes.back();
    if (last.kind != OpKind::kLinear)
      fail(last.line, "op",
           std::string("the last node must be a 'linear' layer (the network output), got '") + op_name(last.kind) +
               "'");
    net.output = static_cast<int>(net.nodes.size()) - 1;

    std::vector<int> readers(net.nodes.size(), 0);
    for (const NodeDesc& n : net.nodes)
      for (int i : n.inputs) ++readers[static_cast<size_t>(i)];
    for (size_t i = 0; i + 1 < net.nodes.size(); ++i)
      if (readers[i] == 0) fail(net.nodes[i].line, "name", "node '" + net.nodes[i].name + "' is never read");
    return net;
  }

 private:
  NodeDesc parse_node(const Line& L, const NetworkDesc& net, const std::map<std::string, int>& index_of,
                      const std::map<std::string, int>& first_def_line) {
    const int ln = L.number;
    const std::string& op = L.tokens[0];
    NodeDesc n;
    n.line = ln;
    if (op == "input") n.kind = OpKind::kInput;
    else if (op == "conv") n.kind = OpKind::kConv;
    else if (op == "linear") n.kind = OpKind::kLinear;
    else if (op == "bnrelu") n.kind = OpKind::kBnRelu;
    else if (op == "maxpool") n.kind = OpKind::kMaxPool;
    else if (op == "avgpool") n.kind = OpKind::kAvgPool;
    else if (op == "add") n.kind = OpKind::kAdd;
    else if (op == "network") fail(ln, "op", "'network' may appear only on the first line");
    else fail(ln, "op", "unknown op '" + printable(op) + "' (expected input, conv, linear, bnrelu, maxpool, avgpool or add)");

    if (L.tokens.size() < 2) fail(ln, "name", "missing node name");
    n.name = L.tokens[1];
    check_name(ln, "name", n.name);
    if (auto it = index_of.find(n.name); it != index_of.end())
      fail(ln, "name",
           "duplicate name '" + n.name + "' (first defined on line " +
               std::to_string(net.nodes[static_cast<size_t>(it->second)].line) + ")");

    // Input node: a shape, nothing else.
    if (n.kind == OpKind::kInput) {
      if (!net.nodes.empty())
        fail(ln, "op", "a second 'input' node (the first is on line " + std::to_string(net.nodes.front().line) + ")");
      if (L.tokens.size() < 3) fail(ln, "shape", "missing input shape CxHxW");
      n.out_shape = parse_shape(ln, L.tokens[2]);
      if (input_shape_ != nullptr) n.out_shape = *input_shape_;
      if (L.tokens.size() > 3) fail(ln, "shape", "unexpected token '" + printable(L.tokens[3]) + "' after the shape");
      n.value_kind = ValueKind::kActivation;
      return n;
    }
    if (net.nodes.empty()) fail(ln, "op", "the first node must be 'input', got '" + printable(op) + "'");

    // Inputs, attributes and flags, in any order.
    std::vector<std::string> allowed;
    switch (n.kind) {
      case OpKind::kConv: allowed = {"out", "k", "s", "p"}; break;
      case OpKind::kLinear: allowed = {"out"}; break;
      case OpKind::kMaxPool:
      case OpKind::kAvgPool: allowed = {"k", "s", "p"}; break;
      default: break;
    }
    std::map<std::string, int> attrs;
    std::vector<std::string> input_names;
    for (size_t t = 2; t < L.tokens.size(); ++t) {
      const std::string& tok = L.tokens[t];
      const size_t eq = tok.find('=');
      if (eq == std::string::npos) {
        if (tok == "global") {
          if (n.kind != OpKind::kAvgPool) fail(ln, "global", "'global' is only valid for avgpool");
          if (n.global) fail(ln, "global", "duplicate attribute");
          n.global = true;
        } else {
          input_names.push_back(tok);
        }
        continue;
      }
      const std::string key = tok.substr(0, eq), value = tok.substr(eq + 1);
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        std::string list;
        for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
        fail(ln, printable(key), "unknown attribute '" + printable(key) + "' for '" + op + "' (allowed: " + (list.empty() ? "none" : list) + ")");
      }
      if (attrs.count(key)) fail(ln, key, "duplicate attribute");
      attrs[key] = number(ln, key, value, key == "p" ? 0 : 1);
    }

    // Resolve inputs.
    const size_t arity = n.kind == OpKind::kAdd ? 2 : 1;
    if (input_names.size() != arity)
      fail(ln, "inputs",
           "'" + op + "' takes " + std::to_string(arity) + (arity == 1 ? " input" : " inputs") + ", got " +
               std::to_string(input_names.size()));
    for (const std::string& in : input_names) {
      auto it = index_of.find(in);
      if (it == index_of.end()) {
        if (in == n.name) fail(ln, "inputs", "node '" + printable(in) + "' reads itself");
        auto later = first_def_line.find(in);
        if (later != first_def_line.end() && later->second > ln)
          fail(ln, "inputs",
               "input '" + printable(in) + "' is defined later, on line " + std::to_string(later->second) +
                   " (inputs must be defined on earlier lines)");
        fail(ln, "inputs", "undefined input '" + printable(in) + "'");
      }
      n.inputs.push_back(it->second);
    }

    // Attributes: required ones and defaults.
    const auto get = [&](const std::string& key, int def, bool required) {
      auto it = attrs.find(key);
      if (it != attrs.end()) return it->second;
      if (required) fail(ln, key, "missing required attribute '" + key + "' for '" + op + "'");
      return def;
    };
    const NodeDesc& a = net.nodes[static_cast<size_t>(n.inputs[0])];
    const auto need_activation = [&](const NodeDesc& src) {
      if (src.value_kind != ValueKind::kActivation)
        fail(ln, "inputs", "'" + op + "' must read an activation, but '" + src.name + "' is " + kind_phrase(src));
    };
    const int64_t C = a.out_shape[0], H = a.out_shape[1], W = a.out_shape[2];
    const auto out_size = [&](int64_t in, const std::string& dim) {
      const int64_t span = in + 2 * n.pad - n.kernel;
      if (span < 0)
        fail(ln, "k",
             "output " + dim + " < 1: input " + std::to_string(H) + "x" + std::to_string(W) + ", k=" +
                 std::to_string(n.kernel) + " s=" + std::to_string(n.stride) + " p=" + std::to_string(n.pad));
      return span / n.stride + 1;
    };

    switch (n.kind) {
      case OpKind::kConv:
        need_activation(a);
        n.out_channels = get("out", 0, true);
        n.kernel = get("k", 1, true);
        n.stride = get("s", 1, false);
        n.pad = get("p", 0, false);
        n.out_shape = {n.out_channels, out_size(H, "height"), out_size(W, "width")};
        n.value_kind = ValueKind::kStream;
        break;
      case OpKind::kLinear:
        need_activation(a);
        n.out_channels = get("out", 0, true);
        n.out_shape = {n.out_channels, 1, 1};
        n.value_kind = ValueKind::kLogits;
        break;
      case OpKind::kMaxPool:
      case OpKind::kAvgPool:
        need_activation(a);
        if (n.global) {
          if (!attrs.empty()) fail(ln, "global", "'global' excludes k, s and p");
          n.out_shape = {C, 1, 1};
        } else {
          n.kernel = get("k", 1, true);
          n.stride = get("s", 1, true);
          n.pad = get("p", 0, false);
          if (2 * n.pad > n.kernel)
            fail(ln, "p",
                 "pad " + std::to_string(n.pad) + " exceeds half the kernel size (k=" + std::to_string(n.kernel) +
                     ")");
          n.out_shape = {C, out_size(H, "height"), out_size(W, "width")};
        }
        n.value_kind = ValueKind::kActivation;
        break;
      case OpKind::kBnRelu:
        if (a.value_kind == ValueKind::kLogits)
          fail(ln, "inputs", "'bnrelu' must read a stream or an activation, but '" + a.name + "' is " + kind_phrase(a));
        n.out_shape = a.out_shape;
        n.value_kind = ValueKind::kActivation;
        break;
      case OpKind::kAdd: {
        const NodeDesc& b = net.nodes[static_cast<size_t>(n.inputs[1])];
        for (const NodeDesc* src : {&a, &b})
          if (src->value_kind == ValueKind::kLogits)
            fail(ln, "inputs",
                 "'add' must read streams or activations, but '" + src->name + "' is " + kind_phrase(*src));
        if (a.out_shape != b.out_shape)
          fail(ln, "inputs",
               "'add' operands differ in shape: '" + a.name + "' is " + shape_str(a.out_shape) + ", '" + b.name +
                   "' is " + shape_str(b.out_shape));
        n.out_shape = a.out_shape;
        n.value_kind = ValueKind::kStream;
        break;
      }
      case OpKind::kInput: break;
    }
    return n;
  }

  // Every count a program derives from the description (output elements, parameters, MACs
  // per sample, and their totals over the network) must fit in int64: each dimension is at
  // most kMaxNumber = 2^16, so a product of four or more of them can wrap. Programs then
  // multiply by the batch (count_macs_forward) and bound memory and work themselves.
  void check_sizes(const NetworkDesc& net) {
    const NodeDesc& n = net.nodes.back();
    const auto where = [&](const std::string& field) { return origin_ + ":" + std::to_string(n.line) + ": field '" + field + "'"; };
    const int64_t elements = checked_mul<DescError>(
        checked_mul<DescError>(n.out_shape[0], n.out_shape[1], where("shape")), n.out_shape[2], where("shape"));
    int64_t params = 0, macs = 0;
    if (n.kind == OpKind::kConv) {
      const int64_t ci = net.nodes[static_cast<size_t>(n.inputs[0])].out_shape[0];
      const int64_t fan_in = checked_mul<DescError>(ci, int64_t{n.kernel} * n.kernel, where("k"));
      params = checked_mul<DescError>(fan_in, n.out_channels, where("out"));
      macs = checked_mul<DescError>(elements, fan_in, where("out"));
    } else if (n.kind == OpKind::kLinear) {
      const int64_t in = node_elements(net.nodes[static_cast<size_t>(n.inputs[0])]);
      params = checked_mul<DescError>(in, n.out_channels, where("out"));
      macs = params;
    }
    total_params_ = checked_add<DescError>(total_params_, params, where("out") + " (parameters of the network so far)");
    total_macs_ = checked_add<DescError>(total_macs_, macs, where("out") + " (MACs per sample of the network so far)");
  }

  Shape parse_shape(int ln, const std::string& s) const {
    Shape shape;
    bool ok = true;
    size_t pos = 0;
    while (ok) {
      const size_t x = s.find('x', pos);
      const std::string part = s.substr(pos, x == std::string::npos ? std::string::npos : x - pos);
      ok = !part.empty() && part.size() <= 9 &&
           std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (ok) shape.push_back(std::stol(part));
      if (x == std::string::npos) break;
      pos = x + 1;
    }
    ok = ok && shape.size() == 3 &&
         std::all_of(shape.begin(), shape.end(), [](int64_t d) { return d >= 1 && d <= kMaxNumber; });
    if (!ok)
      fail(ln, "shape",
           "bad shape '" + printable(s) + "' (expected CxHxW, each 1.." + std::to_string(kMaxNumber) + ", e.g. 1x28x28)");
    return shape;
  }

  std::string origin_;
  const Shape* input_shape_;  // replaces the input node's shape when set
  int64_t total_params_ = 0, total_macs_ = 0;
};

}  // namespace

const char* op_name(OpKind kind) {
  switch (kind) {
    case OpKind::kInput: return "input";
    case OpKind::kConv: return "conv";
    case OpKind::kLinear: return "linear";
    case OpKind::kBnRelu: return "bnrelu";
    case OpKind::kMaxPool: return "maxpool";
    case OpKind::kAvgPool: return "avgpool";
    case OpKind::kAdd: return "add";
  }
  return "?";
}

const char* value_kind_name(ValueKind kind) {
  switch (kind) {
    case ValueKind::kActivation: return "activation";
    case ValueKind::kStream: return "stream";
    case ValueKind::kLogits: return "logits";
  }
  return "?";
}

std::string read_text_file(const std::string& path) {
  return read_input_file<DescError>(path, path + ":0: field 'file'");
}

NetworkDesc parse_network_file(const std::string& path) { return parse_network_text(read_text_file(path), path); }

NetworkDesc parse_network_text(const std::string& text, const std::string& origin, const Shape* input_shape) {
  return Parser(origin, input_shape).parse(text);
}

std::vector<ParamDesc> network_params(const NetworkDesc& desc) {
  std::vector<ParamDesc> params;
  for (size_t i = 0; i < desc.nodes.size(); ++i) {
    const NodeDesc& n = desc.nodes[i];
    const int node = static_cast<int>(i);
    switch (n.kind) {
      case OpKind::kConv: {
        const int64_t ci = desc.nodes[static_cast<size_t>(n.inputs[0])].out_shape[0];
        const int64_t fan = ci * n.kernel * n.kernel;
        params.push_back({node, n.name + ".weight", {n.out_channels, ci, n.kernel, n.kernel}, fan, ParamDesc::kWeight});
        break;
      }
      case OpKind::kLinear: {
        const int64_t in = node_elements(desc.nodes[static_cast<size_t>(n.inputs[0])]);
        params.push_back({node, n.name + ".weight", {n.out_channels, in}, in, ParamDesc::kWeight});
        params.push_back({node, n.name + ".bias", {n.out_channels}, in, ParamDesc::kBias});
        break;
      }
      case OpKind::kBnRelu:
        params.push_back({node, n.name + ".gamma", {n.out_shape[0]}, 1, ParamDesc::kGamma});
        params.push_back({node, n.name + ".beta", {n.out_shape[0]}, 1, ParamDesc::kBeta});
        break;
      default: break;
    }
  }
  return params;
}

// The parser has checked that these sums fit (check_sizes); the checks here cover a
// description built by hand, and the batch.
int64_t count_params(const NetworkDesc& desc) {
  int64_t total = 0;
  for (const ParamDesc& p : network_params(desc)) total = checked_add<DescError>(total, p.size(), desc.origin + ": field 'parameters'");
  return total;
}

int64_t count_macs_forward(const NetworkDesc& desc, int batch) {
  const std::string where = desc.origin + ": field 'MACs'";
  int64_t macs = 0;
  for (const NodeDesc& n : desc.nodes) {
    if (n.kind == OpKind::kConv) {
      const int64_t ci = desc.nodes[static_cast<size_t>(n.inputs[0])].out_shape[0];
      const int64_t fan_in = checked_mul<DescError>(ci, int64_t{n.kernel} * n.kernel, where);
      macs = checked_add<DescError>(macs, checked_mul<DescError>(node_elements(n), fan_in, where), where);
    } else if (n.kind == OpKind::kLinear) {
      const int64_t in = node_elements(desc.nodes[static_cast<size_t>(n.inputs[0])]);
      macs = checked_add<DescError>(macs, checked_mul<DescError>(n.out_channels, in, where), where);
    }
  }
  return checked_mul<DescError>(macs, batch, desc.origin + ": field 'batch'");
}

}  // namespace octet::golden
