// Renders a StepReport (model/step_report.h): the terminal table, JSON and CSV. The file
// writers go through a temporary and a rename, so a report is never left half-written.
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "model/step_report.h"

namespace octet::model {

// One pass summed over all layers. utilisation = macs / (cycles * rows * cols).
struct PassSummary {
  Pass pass = Pass::kForward;
  int64_t cycles = 0, macs = 0, ideal_cycles = 0;
  double utilisation = 0;
  double energy_pj = 0, fp32_energy_pj = 0;
};
std::array<PassSummary, static_cast<size_t>(Pass::kCount)> summarise_passes(const StepReport& report);

// Per layer and pass: cycles, ideal cycles, utilisation, SRAM and DRAM bytes, energy by unit
// and its FP32 baseline (µJ); a totals row; then the per-pass summary and the energy ratio.
std::string report_table_text(const StepReport& report);

// {"format", "workload", ..., "config", "energy_origin", "records": [...], "totals": {...}}.
nlohmann::json report_json(const StepReport& report);

// A header line, then one line per record (docs/user-guide.md lists the columns).
std::string report_csv_text(const StepReport& report);

// Throw std::runtime_error naming the path when it cannot be written.
void write_report_json(const StepReport& report, const std::string& path);
void write_report_csv(const StepReport& report, const std::string& path);

}  // namespace octet::model
