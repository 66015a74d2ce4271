// The headline runs: a training step of ResNet-18/34/50 at batch 1,
// 224x224, on the default 16x16 accelerator, timing mode. Prints cycles, per-pass array
// utilisation, integer and FP32-baseline energy and the simulation wall time.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>

#include "golden/network_desc.h"
#include "model/simulate.h"
#include "model_test_util.h"

namespace octet::model {
namespace {

void run(const char* net) {
  const golden::NetworkDesc desc = golden::parse_network_file(std::string(OCTET_SOURCE_DIR "/networks/") + net + ".net");
  SimOptions o = test::options(AccelConfig{}, test::horowitz_energy_table());
  const StepReport r = simulate_network_step(desc, o);
  struct Sum {
    int64_t macs = 0, cycles = 0, stall = 0, dram = 0, sram = 0;
  };
  std::map<Pass, Sum> per_pass;
  for (const PassRecord& p : r.records) {
    Sum& s = per_pass[p.pass];
    s.macs += p.macs;
    s.cycles += p.cycles;
    s.stall += p.stall_cycles;
    s.dram += p.dram_read_bytes + p.dram_write_bytes;
    s.sram += p.sram_read_bytes + p.sram_write_bytes;
  }
  const double pes = 16.0 * 16.0;
  std::printf("%s: %lld cycles (%.2f ms at 1 GHz), %lld MACs, overall utilisation %.3f, wall %.2f s\n", net,
              static_cast<long long>(r.total_cycles()), r.total_cycles() / 1e6, static_cast<long long>(r.total_macs()),
              static_cast<double>(r.total_macs()) / (static_cast<double>(r.total_cycles()) * pes), r.wall_seconds);
  for (const auto& [pass, s] : per_pass)
    std::printf("  %-8s cycles %11lld  utilisation %.3f  stalls %11lld  DRAM %7.1f MB  SRAM %7.1f MB\n", pass_name(pass),
                static_cast<long long>(s.cycles), s.cycles ? static_cast<double>(s.macs) / (static_cast<double>(s.cycles) * pes) : 0.0,
                static_cast<long long>(s.stall), s.dram / 1e6, s.sram / 1e6);
  std::array<double, kNumUnits> e{}, f{};
  for (const PassRecord& p : r.records)
    for (int u = 0; u < kNumUnits; ++u) {
      e[static_cast<size_t>(u)] += p.energy_pj[static_cast<size_t>(u)];
      f[static_cast<size_t>(u)] += p.fp32_energy_pj[static_cast<size_t>(u)];
    }
  std::printf("  energy (uJ)      integer     fp32\n");
  for (int u = 0; u < kNumUnits; ++u)
    std::printf("  %-15s %9.1f %9.1f\n", unit_name(static_cast<Unit>(u)), e[static_cast<size_t>(u)] / 1e6,
                f[static_cast<size_t>(u)] / 1e6);
  std::printf("  %-15s %9.1f %9.1f  (fp32 / integer = %.2f)\n", "total", r.total_energy_pj() / 1e6,
              r.total_fp32_energy_pj() / 1e6, r.total_fp32_energy_pj() / r.total_energy_pj());
  // Three GEMMs per layer, except no backward-data GEMM where the input is the data.
  int64_t data_layer_macs = 0;
  for (const golden::NodeDesc& d : desc.nodes)
    if (d.kind == golden::OpKind::kConv && d.inputs[0] == 0)
      data_layer_macs += d.out_shape[1] * d.out_shape[2] * desc.input().out_shape[0] * d.kernel * d.kernel * d.out_channels;
  EXPECT_EQ(r.total_macs(), 3 * golden::count_macs_forward(desc, 1) - data_layer_macs);
  for (const PassRecord& p : r.records) {
    EXPECT_LE(p.utilisation, 1.0) << p.layer;
    EXPECT_GE(p.cycles, p.ideal_cycles) << p.layer;
  }
  EXPECT_LT(r.total_energy_pj(), r.total_fp32_energy_pj());
}

TEST(ModelResnet, Resnet18) { run("resnet18"); }
TEST(ModelResnet, Resnet34) { run("resnet34"); }
TEST(ModelResnet, Resnet50) { run("resnet50"); }

}  // namespace
}  // namespace octet::model
