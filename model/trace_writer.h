// The timeline of a simulated step (StepReport::timeline) as Chrome trace-event JSON, which
// Perfetto (ui.perfetto.dev) and chrome://tracing open: one track per unit and one for the
// DRAM channel, one complete event ("ph": "X") per operation and per stall, with the layer,
// pass, tile and stall reason in its args. Time unit: one accelerator cycle per trace
// microsecond (viewers label the axis in µs; the metadata says so). Written through a
// temporary and a rename, as the reports.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "model/step_report.h"

namespace octet::model {

// Process and thread ids of the tracks (tid = the Unit's index + 1; the controller's stages 0).
inline constexpr int kTraceUnitsPid = 1, kTraceMemoryPid = 2, kTraceControllerTid = 0;

nlohmann::json trace_json(const StepReport& report);
// Throws std::runtime_error naming the path when it cannot be written.
void write_trace_json(const StepReport& report, const std::string& path);

}  // namespace octet::model
