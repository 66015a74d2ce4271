#include "model/compulsory_traffic.h"

#include <set>

#include "model/storage_widths.h"

namespace octet::model {

namespace {

// Storage widths: model/storage_widths.h, the table the simulated step's transfers read.
using storage::kFp32;
constexpr int64_t kLabel = static_cast<int64_t>(storage::kLabel);  // golden::Label, both datapaths
static_assert(storage::kAct == 1 && storage::kPoolIndex == 1 && storage::kXhat == 2 && storage::kMask == 1.0 / 8,
              "the counts below are written for 1-byte pixels, activations and pool indices, 2-byte x̂, 1-bit masks");
constexpr int64_t kWord = static_cast<int64_t>(kFp32);

// A parameter's working copy, master and momentum, bytes per element.
int64_t param_bytes(golden::ParamDesc::Kind k) {
  const storage::ParamWidths w = storage::param_widths(k);
  return static_cast<int64_t>(w.working + w.master + w.momentum);
}

int64_t mask_bytes(int64_t n) { return (n + 7) / 8; }  // one bit per element

}  // namespace

CompulsoryTraffic compulsory_traffic(const golden::NetworkDesc& desc, int batch) {
  CompulsoryTraffic c;
  c.known = true;
  const int64_t N = batch;
  // Parameters: working copy, master and momentum each read once and written once.
  for (const golden::ParamDesc& p : golden::network_params(desc)) {
    c.params += 2 * p.size() * param_bytes(p.kind);
    c.fp32_params += 2 * p.size() * (kWord + kWord);
  }
  // The batch: images (uint8 pixels) and labels, read once.
  const int64_t pixels = N * golden::node_elements(desc.input());
  c.batch = pixels + N * kLabel;
  c.fp32_batch = pixels * kWord + N * kLabel;
  // What the backward pass reads of the forward pass, each tensor written once and read once:
  // a conv / linear input activation (not the batch itself), BN's x̂ and ReLU mask, a max
  // pool's window index (one byte per output).
  std::set<int> saved_inputs;
  for (const golden::NodeDesc& d : desc.nodes) {
    const int64_t n_out = N * golden::node_elements(d);
    switch (d.kind) {
      case golden::OpKind::kConv:
      case golden::OpKind::kLinear:
        if (desc.nodes[static_cast<size_t>(d.inputs[0])].kind != golden::OpKind::kInput) saved_inputs.insert(d.inputs[0]);
        break;
      case golden::OpKind::kBnRelu:
        c.saved += 2 * (2 * n_out + mask_bytes(n_out));
        c.fp32_saved += 2 * (kWord * n_out + mask_bytes(n_out));
        break;
      case golden::OpKind::kMaxPool:
        c.saved += 2 * n_out;
        c.fp32_saved += 2 * n_out;
        break;
      default:
        break;
    }
  }
  for (int j : saved_inputs) {
    const int64_t n = N * golden::node_elements(desc.nodes[static_cast<size_t>(j)]);
    c.saved += 2 * n;
    c.fp32_saved += 2 * kWord * n;
  }
  return c;
}

CompulsoryTraffic compulsory_traffic(const Topology& t, int batch) {
  CompulsoryTraffic c;
  c.known = true;
  const int64_t N = batch;
  bool first = true;
  const auto row = [&](int64_t weights, int64_t inputs) {
    c.params += 2 * weights * param_bytes(golden::ParamDesc::kWeight);
    c.fp32_params += 2 * weights * (kWord + kWord);
    if (first) {
      c.batch += inputs;
      c.fp32_batch += kWord * inputs;
    } else {
      c.saved += 2 * inputs;
      c.fp32_saved += 2 * kWord * inputs;
    }
    first = false;
  };
  for (const ConvLayerSpec& l : t.conv)
    row(l.filter_h * l.filter_w * (l.depthwise ? 1 : l.channels) * (l.depthwise ? l.channels : l.num_filter),
        N * l.ifmap_h * l.ifmap_w * l.channels);
  for (const GemmLayerSpec& g : t.gemm) row(g.k * g.n, g.m * g.k);
  return c;
}

}  // namespace octet::model
