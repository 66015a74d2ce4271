// The training step's operations and their dependencies (model/step_graph.h), checked
// against graphs drawn by hand: what the serial scheduler issues today, and the freedom a
// concurrent one may use (e.g. a layer's weight-gradient and error GEMMs are independent).
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "golden/network_desc.h"
#include "model/step_graph.h"

namespace octet::model {
namespace {

std::string describe(const StepGraph& g, const golden::NetworkDesc& net, int k) {
  const StepOp& op = g.ops[static_cast<size_t>(k)];
  std::string s = std::to_string(k);
  s.append(" ").append(step_op_kind_name(op.kind)).append(" ");
  s.append(op.node >= 0 ? net.nodes[static_cast<size_t>(op.node)].name : std::string("loss"));
  if (op.kind == StepOpKind::kOptimizerUpdate) s.append(" p").append(std::to_string(op.param));
  s += " <-";
  for (int d : op.deps) s.append(" ").append(std::to_string(d));
  return s;
}

std::vector<std::string> describe(const StepGraph& g, const golden::NetworkDesc& net) {
  std::vector<std::string> out;
  for (int k = 0; k < static_cast<int>(g.ops.size()); ++k) out.push_back(describe(g, net, k));
  return out;
}

// True if op `a` follows op `b` through a chain of dependencies.
bool depends(const StepGraph& g, int a, int b) {
  for (int d : g.ops[static_cast<size_t>(a)].deps)
    if (d == b || depends(g, d, b)) return true;
  return false;
}

int find(const StepGraph& g, const golden::NetworkDesc& net, StepOpKind kind, const std::string& node) {
  for (int k = 0; k < static_cast<int>(g.ops.size()); ++k) {
    const StepOp& op = g.ops[static_cast<size_t>(k)];
    if (op.kind == kind && op.node >= 0 && net.nodes[static_cast<size_t>(op.node)].name == node) return k;
  }
  return -1;
}

// conv -> bnrelu -> linear. Parameters: 0 c1 weight, 1 γ, 2 β, 3 fc weight, 4 fc bias.
// Drawn by hand from what each operation reads and writes:
//  forward: each op reads its predecessor's value; the loss reads the logits.
//  fc backward: E2 and the bias gradient read the loss error (3); the weight gradient reads
//   E2 (4) and b1's value (1); its CQ reads the raw gradient (6); the error GEMM reads only
//   E2 (4) and the weight -- not the weight gradient.
//  b1 backward: E1 reads the error the fc error GEMM wrote (8); BN backward reads E1 and what
//   BN forward kept (1).
//  c1 backward (its input is the data: no error GEMM): E2 from BN backward's dx (10), ...
//  update: each parameter after its gradient and after every earlier reader of the parameter
//   (forward, weight decay in CQ, the error GEMM); the running statistics after BN forward.
TEST(ModelStepGraph, ConvBnLinearDependenciesAsDrawnByHand) {
  const golden::NetworkDesc net = golden::parse_network_text(
      "network tiny\ninput x 1x4x4\nconv c1 x out=2 k=1 s=1\nbnrelu b1 c1\nlinear fc b1 out=2\n", "tiny");
  const StepGraph g = build_training_step(net);
  const std::vector<std::string> expected{
      "0 forward_gemm c1 <-",
      "1 bn_forward b1 <- 0",
      "2 forward_gemm fc <- 1",
      "3 loss loss <- 2",
      "4 quantize_e2 fc <- 3",
      "5 linear_bias_grad fc <- 3",
      "6 wgrad_gemm fc <- 1 4",
      "7 quantize_gradient fc <- 6",
      "8 backward_gemm fc <- 4",
      "9 quantize_e1 b1 <- 8",
      "10 bn_backward b1 <- 1 9",
      "11 quantize_e2 c1 <- 10",
      "12 wgrad_gemm c1 <- 11",
      "13 quantize_gradient c1 <- 12",
      "14 optimizer_update c1 p0 <- 0 13",
      "15 running_stats_writeback b1 <- 1",
      "16 optimizer_update b1 p1 <- 1 10",
      "17 optimizer_update b1 p2 <- 1 10",
      "18 optimizer_update fc p3 <- 2 7 8",
      "19 optimizer_update fc p4 <- 2 5",
  };
  EXPECT_EQ(describe(g, net), expected);

  // What a concurrent scheduler may overlap: fc's weight-gradient and error GEMMs.
  const int wgrad = find(g, net, StepOpKind::kWeightGradGemm, "fc"), bwd = find(g, net, StepOpKind::kBackwardDataGemm, "fc");
  ASSERT_GE(wgrad, 0);
  ASSERT_GE(bwd, 0);
  EXPECT_FALSE(depends(g, bwd, wgrad));
  EXPECT_FALSE(depends(g, wgrad, bwd));

  // Records in the order the ledger opens them (the report's rows).
  std::vector<std::string> recs;
  for (const RecordDesc& r : g.records) recs.push_back(r.layer + " " + pass_name(r.pass));
  EXPECT_EQ(recs, (std::vector<std::string>{"c1 forward", "b1 forward", "fc forward", "loss forward", "fc backward",
                                             "fc wgrad", "b1 backward", "c1 backward", "c1 wgrad", "c1 update",
                                             "b1 update", "fc update"}));
}

// A residual add's error reaches both inputs: the first contribution (the add's, to b0 via
// c1's backward, or directly) becomes the error, the second is merged by its own operation.
TEST(ModelStepGraph, ResidualErrorsArePassedOnAndMerged) {
  const golden::NetworkDesc net = golden::parse_network_text(
      "network res\ninput x 1x4x4\nconv c0 x out=2 k=1 s=1\nbnrelu b0 c0\nconv c1 b0 out=2 k=1 s=1\n"
      "add a1 b0 c1\nbnrelu b2 a1\navgpool g b2 global\nlinear fc g out=2\n",
      "res");
  const StepGraph g = build_training_step(net);
  // Backward order: fc, g, b2, a1 (passes its error to b0 first, then to c1), c1 (its error
  // GEMM adds to b0's error: a merge), b0, c0.
  std::vector<std::string> backward;
  for (const StepOp& op : g.ops)
    if (op.kind == StepOpKind::kErrorPassThrough || op.kind == StepOpKind::kErrorMerge ||
        op.kind == StepOpKind::kBackwardDataGemm || op.kind == StepOpKind::kPoolBackward ||
        op.kind == StepOpKind::kBnBackward)
      backward.push_back(std::string(step_op_kind_name(op.kind)) + " " + net.nodes[static_cast<size_t>(op.node)].name + "->" +
                         (op.target >= 0 ? net.nodes[static_cast<size_t>(op.target)].name : "-") +
                         (op.merges ? " merges" : "") + (op.completes ? " completes" : ""));
  EXPECT_EQ(backward, (std::vector<std::string>{
                          "backward_gemm fc->g completes",
                          "pool_backward g->b2 completes",
                          "bn_backward b2->a1 completes",
                          "error_pass_through a1->b0",
                          "error_pass_through a1->c1 completes",
                          "backward_gemm c1->b0 merges completes",
                          "error_merge c1->b0 merges completes",
                          "bn_backward b0->c0 completes",
                      }));
  // b0's BN backward follows the merge, which follows both contributions.
  const int merge = find(g, net, StepOpKind::kErrorMerge, "c1");
  const int b0 = find(g, net, StepOpKind::kBnBackward, "b0");
  const int pass = find(g, net, StepOpKind::kErrorPassThrough, "a1");
  EXPECT_TRUE(depends(g, b0, merge));
  EXPECT_TRUE(depends(g, merge, pass));
  EXPECT_TRUE(depends(g, merge, find(g, net, StepOpKind::kBackwardDataGemm, "c1")));
}

// Every shipped network: dependencies point backwards (the serial order is a valid schedule)
// and no layer's error GEMM waits for its weight-gradient GEMM.
TEST(ModelStepGraph, ShippedNetworksSerialOrderIsTopologicalAndGemmsIndependent) {
  for (const char* name : {"small_resnet", "resnet18", "resnet50"}) {
    std::ifstream in(std::string(OCTET_SOURCE_DIR) + "/networks/" + name + ".net");
    std::stringstream ss;
    ss << in.rdbuf();
    const golden::NetworkDesc net = golden::parse_network_text(ss.str(), name);
    const StepGraph g = build_training_step(net);
    for (int k = 0; k < static_cast<int>(g.ops.size()); ++k)
      for (int d : g.ops[static_cast<size_t>(k)].deps) ASSERT_LT(d, k) << name << ": " << describe(g, net, k);
    int pairs = 0;
    for (int k = 0; k < static_cast<int>(g.ops.size()); ++k) {
      const StepOp& op = g.ops[static_cast<size_t>(k)];
      if (op.kind != StepOpKind::kBackwardDataGemm) continue;
      const int w = find(g, net, StepOpKind::kWeightGradGemm, net.nodes[static_cast<size_t>(op.node)].name);
      ASSERT_GE(w, 0);
      // Direct dependencies suffice: both read E2, and nothing between them writes what they read.
      EXPECT_TRUE(std::find(op.deps.begin(), op.deps.end(), w) == op.deps.end()) << name << ": " << describe(g, net, k);
      ++pairs;
    }
    EXPECT_GT(pairs, 0) << name;
  }
}

}  // namespace
}  // namespace octet::model
