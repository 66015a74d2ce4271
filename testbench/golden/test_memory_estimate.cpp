// The training-memory estimate: hand-computed bytes for a small network, agreement with the
// description's parameter count, and saturation instead of wrapping for impossible sizes.
#include <gtest/gtest.h>

#include <climits>

#include "golden/memory_estimate.h"

using namespace octet::golden;

namespace {
const char* kNet = R"(network m
input  x  1x4x4
conv   c  x  out=2 k=3 s=1 p=1
bnrelu a  c
avgpool p a  global
linear fc p  out=3
)";
}  // namespace

TEST(MemoryEstimate, SmallNetworkByHand) {
  const NetworkDesc desc = parse_network_text(kNet, "m.net");
  // Parameters: conv 2*1*3*3 = 18, bn gamma+beta 2*2 = 4, linear 3*2 + 3 = 9: 31, as the
  // description says; 32 bytes each.
  ASSERT_EQ(count_params(desc), 31);
  const TrainingMemory m = int_training_memory(desc, 5);
  EXPECT_EQ(m.parameters, 31 * 32);
  // Batch 5: input 16*5 B, conv 32*5*4 B, bnrelu 32*5*4 B, avgpool 2*5 B, linear 3*5*4 B,
  // plus three int64 errors of the largest node (32*5 elements).
  EXPECT_EQ(m.activations, 80 + 640 + 640 + 10 + 60 + 3 * 8 * 160);
  EXPECT_EQ(m.total(), m.parameters + m.activations);
  const TrainingMemory f = fp32_training_memory(desc, 5);
  EXPECT_EQ(f.parameters, 31 * 16);
  EXPECT_EQ(f.activations, 12 * 5 * (16 + 32 + 32 + 2 + 3));
}

TEST(MemoryEstimate, ImpossibleSizesSaturateInsteadOfWrapping) {
  EXPECT_EQ(saturating_mul(int64_t{1} << 32, int64_t{1} << 31), INT64_MAX);
  EXPECT_EQ(saturating_mul(int64_t{1} << 31, int64_t{1} << 31), int64_t{1} << 62);
  EXPECT_EQ(saturating_add(INT64_MAX - 1, 2), INT64_MAX);
  EXPECT_EQ(saturating_add(INT64_MAX - 2, 2), INT64_MAX);
  EXPECT_EQ(saturating_add(40, 2), 42);
  // A description whose shapes multiply past 2^63 (built directly: the parser may refuse it).
  NetworkDesc desc = parse_network_text(kNet, "m.net");
  for (NodeDesc& n : desc.nodes) n.out_shape = {int64_t{1} << 30, int64_t{1} << 20, int64_t{1} << 20};
  EXPECT_EQ(int_training_memory(desc, 1).activations, INT64_MAX);
  EXPECT_EQ(int_training_memory(desc, 1).total(), INT64_MAX);
  EXPECT_EQ(fp32_training_memory(desc, 1).total(), INT64_MAX);
  EXPECT_EQ(format_bytes(INT64_MAX), ">= 8 EiB");
  EXPECT_EQ(format_bytes(3 * 1024 * 1024 / 2), "1.5 MiB");
  EXPECT_EQ(format_bytes(100), "100 bytes");
}
