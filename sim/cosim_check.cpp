#include "sim/cosim_check.h"

namespace octet::sim {

std::string index_string(const golden::Shape& shape, int64_t flat) {
  if (shape.empty()) return index_string(golden::Shape{flat + 1}, flat);
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    const int64_t extent = shape[d] > 0 ? shape[d] : 1;
    idx[d] = flat % extent;
    flat /= extent;
  }
  std::string s;
  for (int64_t i : idx) {
    s.push_back('[');
    s.append(std::to_string(i));
    s.push_back(']');
  }
  return s;
}

std::string mismatch_prefix(const std::string& where, const std::string& unit, const std::string& job) {
  std::string s = "cosim mismatch: ";
  if (!where.empty()) s.append(where).append(", ");
  return s.append(unit).append(" ").append(job).append(", ");
}

}  // namespace octet::sim
