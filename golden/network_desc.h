// Network description: a line-based text format (docs/network-format.md), its parser and
// validator, the parameter list in network order, and MAC counts for reports.
#pragma once

#include "golden/input_error.h"
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "golden/tensor.h"

namespace octet::golden {

enum class OpKind { kInput, kConv, kLinear, kBnRelu, kMaxPool, kAvgPool, kAdd };
enum class ValueKind { kActivation, kStream, kLogits };

// The op keyword as written in a .net file ("conv", "bnrelu", ...).
const char* op_name(OpKind kind);
// "activation", "stream", "logits".
const char* value_kind_name(ValueKind kind);

struct NodeDesc {
  OpKind kind = OpKind::kInput;
  std::string name;
  std::vector<int> inputs;  // indices of earlier nodes
  int out_channels = 0;     // conv, linear
  int kernel = 1, stride = 1, pad = 0;  // conv, maxpool, avgpool (unused by a global avgpool)
  bool global = false;                  // avgpool over the whole H x W
  Shape out_shape;                      // {C, H, W} inferred; linear: {out, 1, 1}
  ValueKind value_kind = ValueKind::kActivation;
  int line = 0;  // 1-based line in the source
};

struct NetworkDesc {
  std::string name;
  std::string origin;  // file path or the origin given to parse_network_text
  std::vector<NodeDesc> nodes;
  int output = -1;  // index of the output node (the last node, a linear layer)

  const NodeDesc& input() const { return nodes.front(); }
  int num_classes() const { return static_cast<int>(nodes[static_cast<size_t>(output)].out_channels); }
};

// A parse or validation error. what() is one line: "origin:line: field 'f': message".
class DescError : public InputError {
 public:
  using InputError::InputError;
};

NetworkDesc parse_network_file(const std::string& path);
// With `input_shape`, the input node takes that shape instead of the one written (and every
// later shape follows): the same description at another image size.
NetworkDesc parse_network_text(const std::string& text, const std::string& origin,
                               const Shape* input_shape = nullptr);

// Parameters in network order (node order; within a node as listed):
//   conv   -> weight {Co, Ci, k, k}            fan_in = Ci*k*k
//   linear -> weight {out, in}, bias {out}     fan_in = in (for both)
//   bnrelu -> gamma {C}, beta {C}              fan_in = 1
// Names are "<node>.weight", "<node>.bias", "<node>.gamma", "<node>.beta".
struct ParamDesc {
  int node = -1;
  std::string name;
  Shape shape;
  int64_t fan_in = 1;
  enum Kind { kWeight, kBias, kGamma, kBeta } kind = kWeight;
  int64_t size() const { return shape_elements(shape); }
};
std::vector<ParamDesc> network_params(const NetworkDesc& desc);
int64_t count_params(const NetworkDesc& desc);

// Multiply-accumulates of one forward pass of conv and linear layers (the only MACs that
// matter for reports; BN, pooling and adds are elementwise) for `batch` samples.
int64_t count_macs_forward(const NetworkDesc& desc, int batch);

// Elements of a node's output for one sample (C*H*W).
inline int64_t node_elements(const NodeDesc& n) { return shape_elements(n.out_shape); }

// Reads a whole file into a string; throws DescError("path: cannot open ...").
std::string read_text_file(const std::string& path);

}  // namespace octet::golden
