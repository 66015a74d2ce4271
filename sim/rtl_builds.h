// The verilated configurations of this build: the systolic array sizes (OCTET_COSIM_ARRAYS)
// and the lane counts of the streaming units (OCTET_COSIM_LANES), from sim/CMakeLists.txt,
// which generates their definitions (rtl_builds.cpp in the build tree).
#pragma once

#include <string>
#include <vector>

namespace octet::sim {

class RtlSystolicArray;
class RtlShiftQuantizer;
class RtlOptimizerUnit;
class RtlBnUnit;
class RtlVectorUnit;

struct ArraySize {
  int rows = 0, cols = 0;
};
const std::vector<ArraySize>& verilated_array_sizes();
const std::vector<int>& verilated_lane_counts();

// A new wrapper around a new verilated model of that configuration (which must be built).
RtlSystolicArray* new_verilated_systolic_array(const char* name, int rows, int cols);
RtlShiftQuantizer* new_verilated_shift_quantizer(const char* name, int lanes);
RtlOptimizerUnit* new_verilated_optimizer_unit(const char* name, int lanes);
RtlBnUnit* new_verilated_bn_unit(const char* name, int lanes);
RtlVectorUnit* new_verilated_vector_unit(const char* name, int lanes);

}  // namespace octet::sim
