#include "model/network_residency.h"

#include <algorithm>

namespace octet::model {

using golden::NodeDesc;
using golden::OpKind;

NetworkResidency::NetworkResidency(const golden::NetworkDesc& net, const AccelConfig& cfg)
    : net_(net), cfg_(cfg), consumers_(net.nodes.size(), 0), value_home_(net.nodes.size()), err_home_(net.nodes.size()) {
  for (const NodeDesc& d : net.nodes)
    for (int in : d.inputs) ++consumers_[static_cast<size_t>(in)];
}

Handoff NetworkResidency::value_home_if(int i, int64_t n) const {
  const auto& nodes = net_.nodes;
  const auto ui = static_cast<size_t>(i);
  bool streams = false;
  if (ui + 1 == nodes.size()) {
    streams = i == net_.output && consumers_[ui] == 0;
  } else {
    const NodeDesc& next = nodes[ui + 1];
    streams = consumers_[ui] == 1 && (next.kind == OpKind::kBnRelu || next.kind == OpKind::kAdd) &&
              std::find(next.inputs.begin(), next.inputs.end(), i) != next.inputs.end();
  }
  return resident_if(cfg_, n, streams, streams);
}

Handoff NetworkResidency::reader_streams(int node, int64_t n) const {
  const OpKind k = net_.nodes[static_cast<size_t>(node)].kind;
  if (k == OpKind::kInput || k == OpKind::kAdd) return {};
  return resident_if(cfg_, n, true, k == OpKind::kBnRelu || k == OpKind::kMaxPool || k == OpKind::kAvgPool);
}

Handoff NetworkResidency::final_home(int i, int target, int64_t n) const {
  if (i >= 0 && target != i - 1) return {};
  const NodeDesc& t = net_.nodes[static_cast<size_t>(target)];
  if (t.kind != OpKind::kAdd) return reader_streams(target, n);
  const int next = target - 1;
  if (std::find(t.inputs.begin(), t.inputs.end(), next) == t.inputs.end() || consumers_[static_cast<size_t>(next)] > 1)
    return {};
  Handoff h = reader_streams(next, n);
  for (int src : t.inputs)
    h.through = h.through || (src != next && net_.nodes[static_cast<size_t>(src)].kind != OpKind::kInput);
  return h;
}

Handoff NetworkResidency::contribution_home(int i, int target, int64_t n, bool merges) const {
  if (merges) return resident_if(cfg_, n, true, true);
  if (target != i - 1) return {};
  if (consumers_[static_cast<size_t>(target)] > 1) return {};
  return final_home(i, target, n);
}

}  // namespace octet::model
