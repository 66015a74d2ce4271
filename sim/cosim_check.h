// Value checks of the co-simulation: every tensor an RTL unit produces is compared element by
// element with the golden backend's result for the same job; the first difference stops the
// run with one line naming the unit, the job, the tensor, the indices and both values.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "golden/tensor.h"

namespace octet::sim {

// What the co-simulation has checked so far, per unit (for reports and tests).
struct UnitStats {
  int64_t jobs = 0;
  int64_t values = 0;      // output values compared with the golden backend
  int64_t rtl_cycles = 0;  // clock cycles the RTL ran (all jobs, including reset)
  double seconds = 0;      // host time spent driving the RTL (the golden comparison excluded)
};

// A value the RTL produced differs from the golden backend's.
class CosimMismatch : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "[i][j]..." of the flat index `flat` in a tensor of `shape`.
std::string index_string(const golden::Shape& shape, int64_t flat);

// Flat index of the first element where `rtl` differs from `golden`, or -1.
template <typename A, typename AA, typename B, typename BA>
int64_t first_difference(const std::vector<A, AA>& golden, const std::vector<B, BA>& rtl) {
  if (golden.size() != rtl.size()) return 0;
  for (size_t i = 0; i < golden.size(); ++i)
    if (static_cast<int64_t>(golden[i]) != static_cast<int64_t>(rtl[i])) return static_cast<int64_t>(i);
  return -1;
}

// "cosim mismatch: <layer pass>, <unit> <job>, " (the layer and pass when the model gave them).
std::string mismatch_prefix(const std::string& where, const std::string& unit, const std::string& job);

// One mismatch, as the line the run stops with (the waveform path is appended by the caller).
template <typename A, typename AA, typename B, typename BA>
std::string mismatch_line(const std::string& where, const std::string& unit, const std::string& job,
                          const std::string& tensor, const golden::Shape& shape, int64_t flat,
                          const std::vector<A, AA>& golden, const std::vector<B, BA>& rtl) {
  const std::string head = mismatch_prefix(where, unit, job) + tensor;
  if (golden.size() != rtl.size())
    return head + ": golden has " + std::to_string(golden.size()) + " values, RTL " + std::to_string(rtl.size());
  return head + index_string(shape, flat) + ": golden " +
         std::to_string(static_cast<int64_t>(golden[static_cast<size_t>(flat)])) + ", RTL " +
         std::to_string(static_cast<int64_t>(rtl[static_cast<size_t>(flat)]));
}

}  // namespace octet::sim
