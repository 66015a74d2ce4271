// The shipped SCALE-Sim topologies (topologies/, written by tools/gen_topologies.py) describe
// the same layers as the network descriptions (networks/*.net).
//
// Tolerance: the conv-format files fold padding into the IFMAP size (H + 2p), as SCALE-Sim's
// own do, and SCALE-Sim's output size ceil((H + 2p - k + s) / s) is one more than the
// network's floor((H + 2p - k) / s) + 1 exactly when (H + 2p - k) is not a multiple of s
// (every stride-2 layer of these ResNets). So each row is checked field by field against its
// node, the output size may exceed the network's by that one row/column and only then, the
// MACs at the network's output sizes equal count_macs_forward exactly, and the MACs SCALE-Sim
// would count lie between 1x and 1.03x of them (measured: +2.3%, +2.0%, +1.0%, +2.9% for
// small_resnet, ResNet-18, -34, -50). The GEMM-format file is im2col of the true sizes:
// exact.
#include <gtest/gtest.h>

#include <map>

#include "golden/network_desc.h"
#include "model/topology.h"

using namespace octet;
using namespace octet::model;

namespace {

const std::string kRoot = OCTET_SOURCE_DIR;

struct Expected {
  const char* net;
  size_t layers;
};

}  // namespace

class ShippedConvTopology : public ::testing::TestWithParam<Expected> {};

TEST_P(ShippedConvTopology, MatchesItsNetworkDescription) {
  const Expected e = GetParam();
  const golden::NetworkDesc net = golden::parse_network_file(kRoot + "/networks/" + e.net + ".net");
  const Topology topo = parse_scalesim_topology(kRoot + "/topologies/" + e.net + ".csv");
  ASSERT_EQ(topo.conv.size(), e.layers);
  std::map<std::string, const golden::NodeDesc*> by_name;
  size_t mac_nodes = 0;
  for (const auto& n : net.nodes) {
    by_name[n.name] = &n;
    mac_nodes += n.kind == golden::OpKind::kConv || n.kind == golden::OpKind::kLinear;
  }
  EXPECT_EQ(topo.conv.size(), mac_nodes);
  int64_t true_macs = 0, scalesim_macs = 0;
  for (const ConvLayerSpec& row : topo.conv) {
    SCOPED_TRACE(row.name);
    ASSERT_TRUE(by_name.count(row.name));
    const golden::NodeDesc& n = *by_name[row.name];
    const golden::NodeDesc& in = net.nodes[static_cast<size_t>(n.inputs[0])];
    EXPECT_FALSE(row.depthwise);
    EXPECT_EQ(row.num_filter, n.out_channels);
    if (n.kind == golden::OpKind::kLinear) {  // a 1x1 conv over the flattened input
      EXPECT_EQ(row.ifmap_h, 1);
      EXPECT_EQ(row.filter_h, 1);
      EXPECT_EQ(row.channels, golden::node_elements(in));
    } else {
      ASSERT_EQ(n.kind, golden::OpKind::kConv);
      EXPECT_EQ(row.ifmap_h, in.out_shape[1] + 2 * n.pad);
      EXPECT_EQ(row.ifmap_w, in.out_shape[2] + 2 * n.pad);
      EXPECT_EQ(row.filter_h, n.kernel);
      EXPECT_EQ(row.filter_w, n.kernel);
      EXPECT_EQ(row.channels, in.out_shape[0]);
      EXPECT_EQ(row.stride_h, n.stride);
      EXPECT_EQ(row.stride_w, n.stride);
      const int64_t extra = (row.ifmap_h - row.filter_h) % row.stride_h != 0 ? 1 : 0;
      EXPECT_EQ(row.ofmap_h(), n.out_shape[1] + extra);
      EXPECT_EQ(row.ofmap_w(), n.out_shape[2] + extra);
    }
    const int64_t per_pixel = row.filter_h * row.filter_w * row.channels * row.num_filter;
    true_macs += golden::node_elements(n) / n.out_channels * per_pixel;
    scalesim_macs += row.ofmap_h() * row.ofmap_w() * per_pixel;
  }
  const int64_t golden_macs = golden::count_macs_forward(net, 1);
  EXPECT_EQ(true_macs, golden_macs);
  EXPECT_GE(scalesim_macs, golden_macs);
  EXPECT_LE(static_cast<double>(scalesim_macs), 1.03 * static_cast<double>(golden_macs));
}

INSTANTIATE_TEST_SUITE_P(Networks, ShippedConvTopology,
                         ::testing::Values(Expected{"small_resnet", 16}, Expected{"resnet18", 21},
                                           Expected{"resnet34", 37}, Expected{"resnet50", 54}),
                         [](const auto& info) { return std::string(info.param.net); });

TEST(ShippedTopologies, GemmExampleIsExactIm2col) {
  const golden::NetworkDesc net = golden::parse_network_file(kRoot + "/networks/small_resnet.net");
  const Topology topo = parse_scalesim_topology(kRoot + "/topologies/small_resnet_gemm.csv");
  ASSERT_EQ(topo.gemm.size(), 16u);
  EXPECT_TRUE(topo.conv.empty());
  int64_t macs = 0;
  for (const GemmLayerSpec& g : topo.gemm) macs += g.m * g.n * g.k;
  EXPECT_EQ(macs, golden::count_macs_forward(net, 1));
  EXPECT_EQ(topo.gemm.back().name, "fc");
  EXPECT_EQ(topo.gemm.back().m, 1);
  EXPECT_EQ(topo.gemm.back().n, 10);
  EXPECT_EQ(topo.gemm.back().k, 64);
}

TEST(ShippedTopologies, ConfigExample) {
  const AccelConfig c = parse_scalesim_cfg(kRoot + "/topologies/octet16x16.cfg");
  EXPECT_EQ(c.name, "octet16x16");
  EXPECT_EQ(c.array_rows, 16);
  EXPECT_EQ(c.array_cols, 16);
  EXPECT_EQ(c.dataflow, "os");
  EXPECT_EQ(c.ifmap_sram_kib, 256);
  EXPECT_EQ(c.filter_sram_kib, 256);
  EXPECT_EQ(c.accum_sram_kib, 256);
  EXPECT_EQ(c.dram_bytes_per_cycle, 16.0);
}
