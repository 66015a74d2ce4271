#include "golden/memory_estimate.h"

#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <string>

namespace octet::golden {

int64_t saturating_mul(int64_t a, int64_t b) {
  int64_t r = 0;
  return a < 0 || b < 0 || __builtin_mul_overflow(a, b, &r) ? INT64_MAX : r;
}

int64_t saturating_add(int64_t a, int64_t b) {
  int64_t r = 0;
  return a < 0 || b < 0 || __builtin_add_overflow(a, b, &r) ? INT64_MAX : r;
}

namespace {

// C*H*W of a node's output for one sample, saturating.
int64_t elements_per_sample(const NodeDesc& n) {
  int64_t e = 1;
  for (int64_t d : n.out_shape) e = saturating_mul(e, d);
  return e;
}

int64_t parameter_elements(const NetworkDesc& desc) {
  int64_t total = 0;
  for (const NodeDesc& n : desc.nodes) {
    const int64_t in = n.inputs.empty() ? 0 : elements_per_sample(desc.nodes[static_cast<size_t>(n.inputs[0])]);
    const int64_t in_channels = n.inputs.empty() ? 0 : desc.nodes[static_cast<size_t>(n.inputs[0])].out_shape.at(0);
    switch (n.kind) {
      case OpKind::kConv:
        total = saturating_add(total, saturating_mul(saturating_mul(n.out_channels, in_channels),
                                                     saturating_mul(n.kernel, n.kernel)));
        break;
      case OpKind::kLinear:
        total = saturating_add(total, saturating_mul(n.out_channels, saturating_add(in, 1)));
        break;
      case OpKind::kBnRelu:
        total = saturating_add(total, saturating_mul(2, n.out_shape.at(0)));
        break;
      default:
        break;
    }
  }
  return total;
}

}  // namespace

TrainingMemory int_training_memory(const NetworkDesc& desc, int64_t batch) {
  TrainingMemory m;
  m.parameters = saturating_mul(32, parameter_elements(desc));
  int64_t saved = 0, largest = 0;
  for (const NodeDesc& n : desc.nodes) {
    const int64_t e = saturating_mul(elements_per_sample(n), batch);
    int64_t bytes_per_element = 4;  // conv, linear, add: int32 streams
    switch (n.kind) {
      case OpKind::kInput:
      case OpKind::kAvgPool: bytes_per_element = 1; break;
      case OpKind::kBnRelu: bytes_per_element = 4; break;
      case OpKind::kMaxPool: bytes_per_element = 9; break;
      default: break;
    }
    saved = saturating_add(saved, saturating_mul(bytes_per_element, e));
    largest = std::max(largest, e);
  }
  m.activations = saturating_add(saved, saturating_mul(3 * 8, largest));
  return m;
}

TrainingMemory fp32_training_memory(const NetworkDesc& desc, int64_t batch) {
  TrainingMemory m;
  m.parameters = saturating_mul(16, parameter_elements(desc));
  for (const NodeDesc& n : desc.nodes)
    m.activations = saturating_add(m.activations, saturating_mul(12, saturating_mul(elements_per_sample(n), batch)));
  return m;
}

std::string format_bytes(int64_t bytes) {
  if (bytes == INT64_MAX) return ">= 8 EiB";
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 6) {
    v /= 1024;
    ++u;
  }
  char buf[48];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

int64_t physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? saturating_mul(pages, page) : 0;
}

}  // namespace octet::golden
