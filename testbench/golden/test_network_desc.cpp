// Network description parser: shipped networks, shapes, parameters and every error message.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>

#include "golden/network_desc.h"

using namespace octet::golden;

namespace {

const std::string kNetworks = OCTET_NETWORKS_DIR;

// A valid network exercising every op; error tests edit one line of it.
const char* kTiny =
    "# a comment line\n"
    "network tiny   # the name\n"
    "\n"
    "input   x   2x9x9\n"
    "conv    c1  x   out=4 k=3 s=1 p=1\n"
    "bnrelu  a1  c1\n"
    "conv    c2  a1  out=4 k=3 p=1\n"
    "add     s1  c1 c2\n"
    "bnrelu  a2  s1\n"
    "maxpool m1  a2  k=3 s=2 p=1\n"
    "avgpool p1  m1  k=2 s=1\n"
    "avgpool g   p1  global\n"
    "linear  fc  g   out=3\n";

std::string error_of(const std::string& text) {
  try {
    parse_network_text(text, "t.net");
  } catch (const DescError& e) {
    return e.what();
  }
  return "(no error)";
}

// kTiny with line `line` (1-based) replaced by `replacement`.
std::string tiny_with(int line, const std::string& replacement) {
  std::string out, text = kTiny;
  int n = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    ++n;
    out += (n == line ? replacement : text.substr(pos, end - pos)) + "\n";
    pos = end + 1;
  }
  return out;
}

int64_t param_count(const NetworkDesc& net) { return count_params(net); }

}  // namespace

TEST(NetworkDesc, ParsesTinyWithShapesKindsAndLines) {
  const NetworkDesc net = parse_network_text(kTiny, "t.net");
  EXPECT_EQ(net.name, "tiny");
  ASSERT_EQ(net.nodes.size(), 10u);
  EXPECT_EQ(net.output, 9);
  EXPECT_EQ(net.num_classes(), 3);
  const auto& n = net.nodes;
  EXPECT_EQ(n[0].kind, OpKind::kInput);
  EXPECT_EQ(n[0].line, 4);
  EXPECT_EQ(n[0].out_shape, (Shape{2, 9, 9}));
  EXPECT_EQ(n[1].kind, OpKind::kConv);
  EXPECT_EQ(n[1].inputs, (std::vector<int>{0}));
  EXPECT_EQ(n[1].out_channels, 4);
  EXPECT_EQ(n[1].kernel, 3);
  EXPECT_EQ(n[1].pad, 1);
  EXPECT_EQ(n[1].value_kind, ValueKind::kStream);
  EXPECT_EQ(n[2].value_kind, ValueKind::kActivation);
  EXPECT_EQ(n[3].stride, 1);  // default
  EXPECT_EQ(n[4].kind, OpKind::kAdd);
  EXPECT_EQ(n[4].inputs, (std::vector<int>{1, 3}));
  EXPECT_EQ(n[4].value_kind, ValueKind::kStream);
  EXPECT_EQ(n[6].kind, OpKind::kMaxPool);
  EXPECT_EQ(n[6].out_shape, (Shape{4, 5, 5}));  // floor((9 + 2 - 3)/2) + 1
  EXPECT_EQ(n[7].out_shape, (Shape{4, 4, 4}));  // floor((5 - 2)/1) + 1
  EXPECT_FALSE(n[7].global);
  EXPECT_TRUE(n[8].global);
  EXPECT_EQ(n[8].out_shape, (Shape{4, 1, 1}));
  EXPECT_EQ(n[9].kind, OpKind::kLinear);
  EXPECT_EQ(n[9].out_shape, (Shape{3, 1, 1}));
  EXPECT_EQ(n[9].value_kind, ValueKind::kLogits);
  EXPECT_EQ(n[9].line, 13);
}

TEST(NetworkDesc, ParamsInNetworkOrderWithFanIn) {
  const NetworkDesc net = parse_network_text(kTiny, "t.net");
  const auto p = network_params(net);
  ASSERT_EQ(p.size(), 8u);
  EXPECT_EQ(p[0].name, "c1.weight");
  EXPECT_EQ(p[0].shape, (Shape{4, 2, 3, 3}));
  EXPECT_EQ(p[0].fan_in, 18);
  EXPECT_EQ(p[0].kind, ParamDesc::kWeight);
  EXPECT_EQ(p[0].node, 1);
  EXPECT_EQ(p[1].name, "a1.gamma");
  EXPECT_EQ(p[1].shape, (Shape{4}));
  EXPECT_EQ(p[1].kind, ParamDesc::kGamma);
  EXPECT_EQ(p[2].name, "a1.beta");
  EXPECT_EQ(p[2].kind, ParamDesc::kBeta);
  EXPECT_EQ(p[3].name, "c2.weight");
  EXPECT_EQ(p[3].fan_in, 36);
  EXPECT_EQ(p[4].name, "a2.gamma");
  EXPECT_EQ(p[6].name, "fc.weight");
  EXPECT_EQ(p[6].shape, (Shape{3, 4}));
  EXPECT_EQ(p[6].fan_in, 4);
  EXPECT_EQ(p[7].name, "fc.bias");
  EXPECT_EQ(p[7].shape, (Shape{3}));
  EXPECT_EQ(p[7].kind, ParamDesc::kBias);
  EXPECT_EQ(param_count(net), 72 + 8 + 144 + 8 + 12 + 3);
  // MACs: c1 4*81*18, c2 4*81*36, fc 3*4; per sample times batch.
  EXPECT_EQ(count_macs_forward(net, 1), 4 * 81 * 18 + 4 * 81 * 36 + 12);
  EXPECT_EQ(count_macs_forward(net, 5), 5 * (4 * 81 * 18 + 4 * 81 * 36 + 12));
}

TEST(NetworkDesc, TabsCrlfTrailingCommentsAndNoFinalNewline) {
  const NetworkDesc net = parse_network_text(
      "network\tt # x\r\n\r\n  # indented comment\r\ninput\tx\t1x4x6\r\nlinear fc x out=2#c", "t.net");
  ASSERT_EQ(net.nodes.size(), 2u);
  EXPECT_EQ(net.nodes[0].out_shape, (Shape{1, 4, 6}));
  EXPECT_EQ(network_params(net)[0].shape, (Shape{2, 24}));  // linear flattens C*H*W
  EXPECT_EQ(net.nodes[1].line, 5);
}

TEST(NetworkDesc, AddAcceptsActivationOperandsAndBnReluReadsActivation) {
  const NetworkDesc net = parse_network_text(
      "network t\ninput x 1x4x4\nbnrelu a x\nadd s x a\nbnrelu b s\nlinear fc b out=2\n", "t.net");
  EXPECT_EQ(net.nodes[2].value_kind, ValueKind::kStream);
  EXPECT_EQ(net.nodes[1].value_kind, ValueKind::kActivation);
}

TEST(NetworkDesc, OutputSizesFloorAndNonSquare) {
  const NetworkDesc net = parse_network_text(
      "network t\ninput x 3x224x224\nconv c x out=8 k=7 s=2 p=3\nbnrelu a c\nmaxpool m a k=3 s=2 p=1\n"
      "conv d m out=4 k=1 s=2\nbnrelu b d\nlinear fc b out=2\n",
      "t.net");
  EXPECT_EQ(net.nodes[1].out_shape, (Shape{8, 112, 112}));
  EXPECT_EQ(net.nodes[3].out_shape, (Shape{8, 56, 56}));
  EXPECT_EQ(net.nodes[4].out_shape, (Shape{4, 28, 28}));
  const NetworkDesc ns = parse_network_text(
      "network t\ninput x 3x17x10\nconv c x out=2 k=3 s=2\nbnrelu a c\navgpool p a k=2 s=3 p=1\nlinear fc p out=2\n",
      "t.net");
  EXPECT_EQ(ns.nodes[1].out_shape, (Shape{2, 8, 4}));  // floor(14/2)+1, floor(7/2)+1
  EXPECT_EQ(ns.nodes[3].out_shape, (Shape{2, 3, 2}));  // floor((8+2-2)/3)+1, floor((4+2-2)/3)+1
}

TEST(NetworkDesc, SmallResnet) {
  const NetworkDesc net = parse_network_file(kNetworks + "/small_resnet.net");
  EXPECT_EQ(net.name, "small_resnet");
  EXPECT_EQ(net.input().out_shape, (Shape{1, 28, 28}));
  EXPECT_EQ(net.num_classes(), 10);
  const int64_t params = param_count(net);
  std::printf("small_resnet: %lld parameters, %lld forward MACs per sample\n", static_cast<long long>(params),
              static_cast<long long>(count_macs_forward(net, 1)));
  EXPECT_EQ(params, 174778);
  EXPECT_GE(params, 100000);
  EXPECT_LE(params, 300000);
  const NodeDesc& gap = net.nodes[static_cast<size_t>(net.output) - 1];
  EXPECT_TRUE(gap.global);
  EXPECT_EQ(gap.out_shape, (Shape{64, 1, 1}));
  EXPECT_EQ(net.nodes[static_cast<size_t>(net.output) - 2].out_shape, (Shape{64, 7, 7}));
  int projections = 0;
  for (const NodeDesc& n : net.nodes)
    if (n.kind == OpKind::kConv && n.kernel == 1) {
      ++projections;
      EXPECT_EQ(n.stride, 2);
      EXPECT_EQ(net.nodes[static_cast<size_t>(n.inputs[0])].kind, OpKind::kBnRelu);
    }
  EXPECT_EQ(projections, 2);
}

struct Published {
  const char* file;
  int64_t ours;       // exact count of our pre-activation variant
  double published;   // torchvision's (post-activation) count
  Shape last_stage;   // output of the last residual stage
  double gmacs;       // published forward GMACs per 224x224 image
};

class ImagenetResnets : public ::testing::TestWithParam<Published> {};

TEST_P(ImagenetResnets, ParameterCountsShapesAndMacs) {
  const Published& p = GetParam();
  const NetworkDesc net = parse_network_file(kNetworks + "/" + p.file);
  EXPECT_EQ(net.input().out_shape, (Shape{3, 224, 224}));
  EXPECT_EQ(net.num_classes(), 1000);
  const int64_t params = param_count(net);
  const double macs = static_cast<double>(count_macs_forward(net, 1));
  std::printf("%s: %lld parameters (published %.0f, %+.3f%%), %.3f GMACs (published ~%.2f)\n", p.file,
              static_cast<long long>(params), p.published, 100.0 * (static_cast<double>(params) / p.published - 1),
              macs / 1e9, p.gmacs);
  EXPECT_EQ(params, p.ours);
  EXPECT_NEAR(static_cast<double>(params) / p.published, 1.0, 0.01);
  EXPECT_NEAR(macs / 1e9 / p.gmacs, 1.0, 0.03);
  EXPECT_EQ(net.nodes[static_cast<size_t>(net.output) - 2].out_shape, p.last_stage);
  EXPECT_EQ(net.nodes[1].out_shape, (Shape{64, 112, 112}));
  EXPECT_EQ(net.nodes[3].out_shape, (Shape{64, 56, 56}));
}

INSTANTIATE_TEST_SUITE_P(Shipped, ImagenetResnets,
                         ::testing::Values(Published{"resnet18.net", 11687720, 11689512, {512, 7, 7}, 1.82},
                                           Published{"resnet34.net", 21795880, 21797672, {512, 7, 7}, 3.67},
                                           Published{"resnet50.net", 25549352, 25557032, {2048, 7, 7}, 4.11}));

TEST(NetworkDesc, MissingFile) {
  try {
    parse_network_file("/nonexistent/x.net");
    FAIL() << "no error";
  } catch (const DescError& e) {
    EXPECT_STREQ(e.what(), "/nonexistent/x.net:0: field 'file': cannot open: No such file or directory");
  }
}

// A directory reads as an empty file through std::ifstream: it must be named as what it is.
TEST(NetworkDesc, DirectoryIsNotADescription) {
  try {
    parse_network_file(kNetworks);
    FAIL() << "no error";
  } catch (const DescError& e) {
    EXPECT_EQ(std::string(e.what()), kNetworks + ":0: field 'file': is a directory, not a file");
  }
}

// Tokens are echoed through octet::printable: bytes outside printable ASCII as \xNN (a NUL
// does not cut the message, Latin-1 or binary garbage does not reach the terminal raw), and
// a long token is cut with its length.
TEST(NetworkDesc, ErrorsEchoTokensPrintably) {
  EXPECT_EQ(error_of(tiny_with(6, "bnrelu a\xe9" "1 c1")),
            "t.net:6: field 'name': invalid name 'a\\xE91' (letters, digits and '_', not starting with a digit)");
  EXPECT_EQ(error_of(tiny_with(6, std::string("re\0lu a1 c1", 11))),
            "t.net:6: field 'op': unknown op 're\\x00lu' (expected input, conv, linear, bnrelu, maxpool, avgpool or add)");
  EXPECT_EQ(error_of(tiny_with(5, "conv c1 x out=4 k=" + std::string(100000, '7') + " p=1")),
            "t.net:5: field 'k': bad number '" + std::string(48, '7') +
                "... (100000 bytes)' (expected a non-negative decimal integer)");
  EXPECT_EQ(error_of(tiny_with(4, "input x \x01\x02\xff")),
            "t.net:4: field 'shape': bad shape '\\x01\\x02\\xFF' (expected CxHxW, each 1..65536, e.g. 1x28x28)");
}

// Every dimension is at most 2^16, so parameter and MAC counts of four or more dimensions can
// leave int64; they used to wrap (octet-netinfo printed weights 0, MACs 0). 2^48 = 65536^3.
TEST(NetworkDesc, CountsThatLeaveInt64AreRefusedAtTheirLine) {
  EXPECT_EQ(error_of("network t\ninput x 65536x65536x65536\nlinear fc x out=65536\n"),
            "t.net:3: field 'out': 281474976710656 x 65536 does not fit in 64 bits");
  // Conv: 2^48 outputs x fan-in 2^16 MACs per sample.
  EXPECT_EQ(error_of("network t\ninput x 65536x65536x65536\nconv c x out=65536 k=1\nbnrelu a c\nlinear fc a out=2\n"),
            "t.net:3: field 'out': 281474976710656 x 65536 does not fit in 64 bits");
  // Each layer fits, their sum does not: 2^62 + 2^62 MACs per sample.
  EXPECT_EQ(error_of("network t\ninput x 65536x65536x16384\nconv c x out=65536 k=1\nbnrelu a c\n"
                     "conv d a out=65536 k=1\nbnrelu b d\nlinear fc b out=2\n"),
            "t.net:5: field 'out' (MACs per sample of the network so far): 4611686018427387904 + 4611686018427387904 "
            "does not fit in 64 bits");
}

// Largest counts that fit are exact, and the batch multiplication is checked too.
TEST(NetworkDesc, MacCountsAreExactUpToInt64AndTheBatchIsChecked) {
  const NetworkDesc net = parse_network_text("network t\ninput x 1x65536x65536\nconv c x out=65536 k=1\n"
                                             "bnrelu a c\nlinear fc a out=1\n", "t.net");
  // conv: 2^32 outputs per channel x 2^16 channels x fan-in 1; linear: 2^48 inputs x 1 output.
  const int64_t per_sample = (int64_t{1} << 48) + (int64_t{1} << 48);
  EXPECT_EQ(count_macs_forward(net, 1), per_sample);
  EXPECT_EQ(count_macs_forward(net, 8192), per_sample * 8192);  // 2^62
  try {
    count_macs_forward(net, 16384);  // 2^63
    FAIL() << "no error";
  } catch (const DescError& e) {
    EXPECT_STREQ(e.what(), "t.net: field 'batch': 562949953421312 x 16384 does not fit in 64 bits");
  }
}

// The largest class count the softmax supports (kMaxClasses = 2^16, golden/label.h) is accepted.
TEST(NetworkDesc, AcceptsTheLargestSupportedClassCount) {
  EXPECT_EQ(parse_network_text(tiny_with(13, "linear fc g out=65536"), "t.net").num_classes(), 65536);
}

struct ErrorCase {
  const char* what;
  std::string text;
  const char* message;
};

class DescErrors : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(DescErrors, ExactMessage) { EXPECT_EQ(error_of(GetParam().text), GetParam().message) << GetParam().what; }

// Lines of kTiny: 2 network, 4 input, 5 c1, 6 a1, 7 c2, 8 s1, 9 a2, 10 m1, 11 p1, 12 g, 13 fc.
INSTANTIATE_TEST_SUITE_P(
    All, DescErrors,
    ::testing::Values(
        ErrorCase{"empty", "\n# only a comment\n\n", "t.net:3: field 'network': empty description: expected 'network <name>' as the first line"},
        ErrorCase{"no header", tiny_with(2, "network"), "t.net:2: field 'network': missing network name"},
        ErrorCase{"header not first", tiny_with(2, "input x 1x2x2"), "t.net:2: field 'network': the first line must be 'network <name>', got 'input'"},
        ErrorCase{"header extra", tiny_with(2, "network a b"), "t.net:2: field 'network': unexpected token 'b' after the network name"},
        ErrorCase{"bad network name", tiny_with(2, "network 9x"), "t.net:2: field 'network': invalid name '9x' (letters, digits and '_', not starting with a digit)"},
        ErrorCase{"second network", tiny_with(3, "network again"), "t.net:3: field 'op': 'network' may appear only on the first line"},
        ErrorCase{"only header", "network t\n", "t.net:1: field 'op': no nodes: expected an 'input' node after the network line"},
        ErrorCase{"unknown op", tiny_with(6, "relu a1 c1"), "t.net:6: field 'op': unknown op 'relu' (expected input, conv, linear, bnrelu, maxpool, avgpool or add)"},
        ErrorCase{"missing name", tiny_with(6, "bnrelu"), "t.net:6: field 'name': missing node name"},
        ErrorCase{"bad name", tiny_with(6, "bnrelu a-1 c1"), "t.net:6: field 'name': invalid name 'a-1' (letters, digits and '_', not starting with a digit)"},
        ErrorCase{"attribute as name", tiny_with(5, "conv out=4 x k=3"), "t.net:5: field 'name': invalid name 'out=4' (letters, digits and '_', not starting with a digit)"},
        ErrorCase{"reserved name", tiny_with(6, "bnrelu global c1"), "t.net:6: field 'name': name 'global' is reserved"},
        ErrorCase{"duplicate name", tiny_with(7, "conv c1 a1 out=4 k=3 p=1"), "t.net:7: field 'name': duplicate name 'c1' (first defined on line 5)"},
        ErrorCase{"input not first", "network t\nconv c x out=1 k=1\ninput x 1x2x2\n", "t.net:2: field 'op': the first node must be 'input', got 'conv'"},
        ErrorCase{"second input", tiny_with(3, "input y 1x2x2"), "t.net:4: field 'op': a second 'input' node (the first is on line 3)"},
        ErrorCase{"missing shape", tiny_with(4, "input x"), "t.net:4: field 'shape': missing input shape CxHxW"},
        ErrorCase{"bad shape", tiny_with(4, "input x 2x9"), "t.net:4: field 'shape': bad shape '2x9' (expected CxHxW, each 1..65536, e.g. 1x28x28)"},
        ErrorCase{"zero in shape", tiny_with(4, "input x 2x0x9"), "t.net:4: field 'shape': bad shape '2x0x9' (expected CxHxW, each 1..65536, e.g. 1x28x28)"},
        ErrorCase{"junk after shape", tiny_with(4, "input x 2x9x9 y"), "t.net:4: field 'shape': unexpected token 'y' after the shape"},
        ErrorCase{"unknown attribute", tiny_with(5, "conv c1 x out=4 k=3 q=1"), "t.net:5: field 'q': unknown attribute 'q' for 'conv' (allowed: out, k, s, p)"},
        ErrorCase{"attribute on bnrelu", tiny_with(6, "bnrelu a1 c1 eps=1"), "t.net:6: field 'eps': unknown attribute 'eps' for 'bnrelu' (allowed: none)"},
        ErrorCase{"linear stride", tiny_with(13, "linear fc g out=3 s=1"), "t.net:13: field 's': unknown attribute 's' for 'linear' (allowed: out)"},
        ErrorCase{"duplicate attribute", tiny_with(5, "conv c1 x out=4 k=3 k=3 p=1"), "t.net:5: field 'k': duplicate attribute"},
        ErrorCase{"bad number", tiny_with(5, "conv c1 x out=4 k=3x p=1"), "t.net:5: field 'k': bad number '3x' (expected a non-negative decimal integer)"},
        ErrorCase{"negative number", tiny_with(5, "conv c1 x out=4 k=3 p=-1"), "t.net:5: field 'p': bad number '-1' (expected a non-negative decimal integer)"},
        ErrorCase{"empty number", tiny_with(5, "conv c1 x out= k=3 p=1"), "t.net:5: field 'out': bad number '' (expected a non-negative decimal integer)"},
        ErrorCase{"zero channels", tiny_with(5, "conv c1 x out=0 k=3 p=1"), "t.net:5: field 'out': must be >= 1, got 0"},
        ErrorCase{"zero stride", tiny_with(5, "conv c1 x out=4 k=3 s=0 p=1"), "t.net:5: field 's': must be >= 1, got 0"},
        ErrorCase{"huge number", tiny_with(5, "conv c1 x out=100000 k=3 p=1"), "t.net:5: field 'out': too large: 100000 (at most 65536)"},
        // The class count: the integer softmax's bound holds up to 2^16 classes (docs/numerics.md §7.1, §10).
        ErrorCase{"too many classes", tiny_with(13, "linear fc g out=65537"), "t.net:13: field 'out': too large: 65537 (at most 65536)"},
        ErrorCase{"missing out", tiny_with(5, "conv c1 x k=3 p=1"), "t.net:5: field 'out': missing required attribute 'out' for 'conv'"},
        ErrorCase{"missing k", tiny_with(5, "conv c1 x out=4"), "t.net:5: field 'k': missing required attribute 'k' for 'conv'"},
        ErrorCase{"pool missing s", tiny_with(10, "maxpool m1 a2 k=3"), "t.net:10: field 's': missing required attribute 's' for 'maxpool'"},
        ErrorCase{"avgpool neither", tiny_with(11, "avgpool p1 m1"), "t.net:11: field 'k': missing required attribute 'k' for 'avgpool'"},
        ErrorCase{"global with k", tiny_with(12, "avgpool g p1 global k=2"), "t.net:12: field 'global': 'global' excludes k, s and p"},
        ErrorCase{"global twice", tiny_with(12, "avgpool g p1 global global"), "t.net:12: field 'global': duplicate attribute"},
        ErrorCase{"global on maxpool", tiny_with(10, "maxpool m1 a2 global"), "t.net:10: field 'global': 'global' is only valid for avgpool"},
        ErrorCase{"pool pad too big", tiny_with(10, "maxpool m1 a2 k=3 s=2 p=2"), "t.net:10: field 'p': pad 2 exceeds half the kernel size (k=3)"},
        ErrorCase{"no input", tiny_with(6, "bnrelu a1"), "t.net:6: field 'inputs': 'bnrelu' takes 1 input, got 0"},
        ErrorCase{"two inputs to conv", tiny_with(7, "conv c2 a1 x out=4 k=3 p=1"), "t.net:7: field 'inputs': 'conv' takes 1 input, got 2"},
        ErrorCase{"add one input", tiny_with(8, "add s1 c1"), "t.net:8: field 'inputs': 'add' takes 2 inputs, got 1"},
        ErrorCase{"undefined input", tiny_with(6, "bnrelu a1 c9"), "t.net:6: field 'inputs': undefined input 'c9'"},
        ErrorCase{"input defined later", tiny_with(6, "bnrelu a1 c2"), "t.net:6: field 'inputs': input 'c2' is defined later, on line 7 (inputs must be defined on earlier lines)"},
        ErrorCase{"reads itself", tiny_with(6, "bnrelu a1 a1"), "t.net:6: field 'inputs': node 'a1' reads itself"},
        ErrorCase{"conv reads stream", tiny_with(7, "conv c2 c1 out=4 k=3 p=1"), "t.net:7: field 'inputs': 'conv' must read an activation, but 'c1' is a stream (conv output)"},
        ErrorCase{"pool reads stream", tiny_with(10, "maxpool m1 s1 k=3 s=2 p=1"), "t.net:10: field 'inputs': 'maxpool' must read an activation, but 's1' is a stream (add output)"},
        ErrorCase{"linear reads stream", "network t\ninput x 1x2x2\nconv c x out=2 k=1\nlinear fc c out=2\n", "t.net:4: field 'inputs': 'linear' must read an activation, but 'c' is a stream (conv output)"},
        ErrorCase{"add shape mismatch", tiny_with(8, "add s1 c1 x"), "t.net:8: field 'inputs': 'add' operands differ in shape: 'c1' is 4x9x9, 'x' is 2x9x9"},
        ErrorCase{"conv output < 1", tiny_with(5, "conv c1 x out=4 k=11 p=0"), "t.net:5: field 'k': output height < 1: input 9x9, k=11 s=1 p=0"},
        ErrorCase{"pool output < 1", tiny_with(11, "avgpool p1 m1 k=6 s=1"), "t.net:11: field 'k': output height < 1: input 5x5, k=6 s=1 p=0"},
        ErrorCase{"width < 1", "network t\ninput x 1x9x2\nconv c x out=1 k=3\nbnrelu a c\nlinear fc a out=2\n", "t.net:3: field 'k': output width < 1: input 9x2, k=3 s=1 p=0"},
        ErrorCase{"linear not last", tiny_with(13, "linear fc g out=3\nbnrelu z fc"), "t.net:13: field 'op': 'linear' must be the last node (the network output), but line 14 follows it"},
        ErrorCase{"last not linear", tiny_with(13, ""), "t.net:12: field 'op': the last node must be a 'linear' layer (the network output), got 'avgpool'"},
        ErrorCase{"unused node", tiny_with(8, "add s1 c1 c1"), "t.net:7: field 'name': node 'c2' is never read"}));

// Another input shape re-infers every later shape; a global pool keeps ResNet-18's parameters.
TEST(NetworkDescInputShape, ResNet18AtAnotherSize) {
  const std::string text = read_text_file(kNetworks + "/resnet18.net");
  const NetworkDesc at224 = parse_network_text(text, "resnet18.net");
  const Shape small{3, 32, 32};
  const NetworkDesc at32 = parse_network_text(text, "resnet18.net", &small);
  EXPECT_EQ(at32.input().out_shape, small);
  ASSERT_EQ(at32.nodes.size(), at224.nodes.size());
  EXPECT_EQ(at32.nodes[1].out_shape, (Shape{64, 16, 16}));  // conv1, stride 2
  EXPECT_EQ(at224.nodes[1].out_shape, (Shape{64, 112, 112}));
  const std::vector<ParamDesc> a = network_params(at224), b = network_params(at32);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].shape, b[i].shape) << a[i].name;
  EXPECT_EQ(count_macs_forward(at224, 1) / count_macs_forward(at32, 1), 48);  // ~ (224/32)² less the fc
  // A shape too small for a layer is that layer's error.
  const Shape tiny{1, 2, 2};
  EXPECT_THROW(parse_network_text("network t\ninput x 1x9x9\nconv c x out=2 k=3\nlinear fc c out=2\n", "t.net", &tiny),
               DescError);
}
