// octet-sim's run estimate (tools/sim_budget.h).
//
// Calibration (Release build, 16x16 array, default buffers): a GEMM topology row
// 16384 x 16384 x 4096 issues 1,310,720 blocks over its three training GEMMs and peaks at
// 2.0 GiB (1.6 KiB per block) in 28 s; kBytesPerBlock = 4 KiB leaves room for other layouts.
// The functional figures are generous upper bounds (every tensor of the step held in its
// widest form by both the model and the golden reference), not measurements.
#include "tools/sim_budget.h"

#include <fmt/format.h>

#include "golden/checked_math.h"
#include "golden/network_desc.h"
#include "model/gemm_plan.h"
#include "model/simulate.h"
#include "tools/sim_cli.h"

namespace octet::tools {

namespace {

// Sums of checked products, each naming the workload and the quantity.
class Tally {
 public:
  explicit Tally(std::string origin) : origin_(std::move(origin)) {}
  int64_t mul(int64_t a, int64_t b, const char* what) const { return checked_mul<CliError>(a, b, where(what)); }
  int64_t add(int64_t a, int64_t b, const char* what) const { return checked_add<CliError>(a, b, where(what)); }
  std::string where(const char* what) const { return fmt::format("{}: field '{}'", origin_, what); }

 private:
  std::string origin_;
};

// Blocks of one GEMM as the controller issues them (model/array_gemm.cpp, SystolicArray::issue_gemm).
int64_t gemm_blocks(const model::GemmShape& s, const model::AccelConfig& config, const Tally& t) {
  const model::GemmPlan p = model::plan_gemm(s, config);
  return t.mul(t.mul(t.mul(s.groups, p.n_blocks, "blocks"), p.m_blocks, "blocks"), p.d_chunks, "blocks");
}

// A layer's three training GEMMs: forward M x D x N, weight gradient D x M x N, data gradient
// M x N x D (model/network_step_backward.cpp).
int64_t training_blocks(int64_t m, int64_t d, int64_t n, int64_t groups, const model::AccelConfig& c, const Tally& t) {
  int64_t blocks = gemm_blocks(model::GemmShape{m, d, n, groups, 1, 1}, c, t);
  blocks = t.add(blocks, gemm_blocks(model::GemmShape{d, m, n, groups, 1, 1}, c, t), "blocks");
  return t.add(blocks, gemm_blocks(model::GemmShape{m, n, d, groups, 1, 1}, c, t), "blocks");
}

void add_timing_memory(RunEstimate& e, const Tally& t) {
  e.memory_bytes = t.add(kBaseMemoryBytes, t.mul(e.blocks, kBytesPerBlock, "memory"), "memory");
}

}  // namespace

RunEstimate estimate_network_run(const golden::NetworkDesc& net, const model::SimOptions& o) {
  const Tally t(net.origin);
  const int64_t batch = o.batch;
  RunEstimate e;
  int64_t elements = 0, macs = 0;
  for (const golden::NodeDesc& n : net.nodes) {
    elements = t.add(elements, t.mul(golden::node_elements(n), batch, "tensor elements"), "tensor elements");
    if (n.kind != golden::OpKind::kConv && n.kind != golden::OpKind::kLinear) continue;
    const golden::NodeDesc& in = net.nodes[static_cast<size_t>(n.inputs[0])];
    int64_t m = batch, d = golden::node_elements(in);
    if (n.kind == golden::OpKind::kConv) {
      m = t.mul(batch, t.mul(n.out_shape[1], n.out_shape[2], "MACs"), "MACs");
      d = t.mul(in.out_shape[0], int64_t{n.kernel} * n.kernel, "MACs");
    }
    e.blocks = t.add(e.blocks, training_blocks(m, d, n.out_channels, 1, o.config, t), "blocks");
    macs = t.add(macs, t.mul(t.mul(m, d, "MACs"), n.out_channels, "MACs"), "MACs");
  }
  add_timing_memory(e, t);
  if (o.functional) {
    // Three GEMMs per layer; the model and the golden reference each compute them.
    e.functional_macs = t.mul(macs, 6, "MACs");
    const int64_t tensors = t.mul(elements, kFunctionalBytesPerElement, "memory");
    const int64_t params = t.mul(golden::count_params(net), kFunctionalBytesPerParam, "memory");
    e.memory_bytes = t.add(e.memory_bytes, t.add(tensors, params, "memory"), "memory");
  }
  return e;
}

RunEstimate estimate_topology_run(const model::Topology& topology, const model::SimOptions& o) {
  const Tally t(topology.origin);
  const int64_t batch = o.batch;
  RunEstimate e;
  for (const model::ConvLayerSpec& c : topology.conv) {
    const int64_t m = t.mul(batch, t.mul(c.ofmap_h(), c.ofmap_w(), "MACs"), "MACs");
    const int64_t window = t.mul(c.filter_h, c.filter_w, "MACs");
    const int64_t blocks = c.depthwise ? training_blocks(m, window, 1, c.channels, o.config, t)
                                       : training_blocks(m, t.mul(window, c.channels, "MACs"), c.num_filter, 1, o.config, t);
    e.blocks = t.add(e.blocks, blocks, "blocks");
  }
  for (const model::GemmLayerSpec& g : topology.gemm)
    e.blocks = t.add(e.blocks, training_blocks(t.mul(g.m, batch, "MACs"), g.k, g.n, 1, o.config, t), "blocks");
  add_timing_memory(e, t);
  return e;
}

void check_run_budget(const RunEstimate& e, double max_memory_gib, const std::string& origin) {
  const double gib = static_cast<double>(e.memory_bytes) / double(1 << 30);
  if (gib > max_memory_gib)
    throw CliError(fmt::format("{}: field '--max-memory': the run needs about {:.1f} GiB ({} array blocks{}), more "
                               "than the limit of {:.1f} GiB (raise it with --max-memory, or use a smaller batch or "
                               "a larger array)",
                               origin, gib, e.blocks, e.functional_macs ? ", functional tensors" : "", max_memory_gib));
  if (e.functional_macs > kMaxFunctionalMacs)
    throw CliError(fmt::format("{}: field '--functional': the step computes {} MACs, more than the functional mode's "
                               "limit of 2^40 (simulate its timing without --functional, or use a smaller batch)",
                               origin, e.functional_macs));
}

}  // namespace octet::tools
