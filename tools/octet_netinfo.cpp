// octet-netinfo: parses and validates a network description (docs/network-format.md) and
// prints its shapes, parameters and forward MACs. Exits 2 on a description error.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>

#include "cli_common.h"
#include "golden/network_desc.h"

using namespace octet::golden;

namespace {

std::string shape_str(const Shape& s) {
  std::string r;
  for (size_t i = 0; i < s.size(); ++i) r += fmt::format("{}{}", i ? "x" : "", s[i]);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"octet-netinfo: validate a network description and print its shapes, parameters and MACs"};
  std::string path;
  int batch = 1;
  bool nodes = false, params = false;
  app.add_option("file", path, "network description (.net)")->required();
  app.add_option("--batch", batch, "batch size for the MAC count")->capture_default_str()->check(CLI::Range(1, 1 << 20));
  app.add_flag("--nodes", nodes, "list every node with its output shape");
  app.add_flag("--params", params, "list every parameter tensor");
  octet::tools::add_version_flag(app, "octet-netinfo");
  if (const auto status = octet::tools::parse_command_line(app, argc, argv, "octet-netinfo")) return *status;
  return octet::tools::run_guarded("octet-netinfo", [&] {
    const NetworkDesc net = parse_network_file(path);
    // Every count before any output: a count that leaves int64 is an error with nothing printed.
    const int64_t total_params = count_params(net), macs = count_macs_forward(net, batch);
    if (nodes) {
      for (const NodeDesc& n : net.nodes) {
        std::string ins;
        for (int i : n.inputs) ins += (ins.empty() ? "" : " ") + net.nodes[static_cast<size_t>(i)].name;
        fmt::print("{:>4}  {:<8} {:<14} {:<24} -> {:<12} {}\n", n.line, op_name(n.kind), n.name, ins,
                   shape_str(n.out_shape), value_kind_name(n.value_kind));
      }
    }
    const auto plist = network_params(net);
    if (params)
      for (const ParamDesc& p : plist)
        fmt::print("{:<24} {:<16} fan_in {}\n", p.name, shape_str(p.shape), p.fan_in);
    int64_t weights = 0, bn = 0, bias = 0;
    for (const ParamDesc& p : plist)
      (p.kind == ParamDesc::kWeight ? weights : p.kind == ParamDesc::kBias ? bias : bn) += p.size();
    fmt::print("network {} ({}): {} nodes, input {}, {} classes\n", net.name, path, net.nodes.size(),
               shape_str(net.input().out_shape), net.num_classes());
    fmt::print("parameters: {} in {} tensors (weights {}, BN gamma/beta {}, biases {})\n", total_params,
               plist.size(), weights, bn, bias);
    fmt::print("forward MACs at batch {}: {}\n", batch, macs);
    return 0;
  });
}
