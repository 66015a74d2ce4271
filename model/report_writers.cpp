// Terminal table, JSON and CSV renderings of a simulated training step.
#include "model/report_writers.h"

#include <fmt/format.h>

#include <algorithm>

#include "golden/write_atomically.h"

namespace octet::model {

namespace {

// Version of the --json report: 2 named the units by their RTL / SystemC module names.
constexpr int kReportFormatVersion = 2;

double utilisation(int64_t macs, int64_t cycles, const AccelConfig& c) {
  const double pes = static_cast<double>(c.array_rows) * c.array_cols;
  return cycles > 0 ? static_cast<double>(macs) / (static_cast<double>(cycles) * pes) : 0.0;
}

double uj(double pj) { return pj * 1e-6; }

nlohmann::json by_unit(const std::array<double, kNumUnits>& pj) {
  nlohmann::json j = nlohmann::json::object();
  for (int u = 0; u < kNumUnits; ++u) j[unit_name(static_cast<Unit>(u))] = pj[static_cast<size_t>(u)];
  return j;
}

nlohmann::json config_json(const AccelConfig& c) {
  return {{"name", c.name},
          {"array_rows", c.array_rows},
          {"array_cols", c.array_cols},
          {"dataflow", c.dataflow},
          {"sq_lanes", c.sq_lanes},
          {"bn_lanes", c.bn_lanes},
          {"opt_lanes", c.opt_lanes},
          {"vector_lanes", c.vector_lanes},
          {"ifmap_sram_kib", c.ifmap_sram_kib},
          {"filter_sram_kib", c.filter_sram_kib},
          {"accum_sram_kib", c.accum_sram_kib},
          {"sram_banks", c.sram_banks},
          {"dram_bytes_per_cycle", c.dram_bytes_per_cycle},
          {"dram_latency_cycles", c.dram_latency_cycles},
          {"clock_mhz", c.clock_mhz}};
}

// A CSV cell: quoted only if it holds a comma, quote or newline.
std::string csv_cell(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace

std::array<PassSummary, static_cast<size_t>(Pass::kCount)> summarise_passes(const StepReport& report) {
  std::array<PassSummary, static_cast<size_t>(Pass::kCount)> s{};
  for (size_t p = 0; p < s.size(); ++p) s[p].pass = static_cast<Pass>(p);
  for (const PassRecord& r : report.records) {
    PassSummary& t = s[static_cast<size_t>(r.pass)];
    t.cycles += r.cycles;
    t.macs += r.macs;
    t.ideal_cycles += r.ideal_cycles;
    t.energy_pj += r.energy_total();
    t.fp32_energy_pj += r.fp32_energy_total();
  }
  for (PassSummary& t : s) t.utilisation = utilisation(t.macs, t.cycles, report.config);
  return s;
}

std::string report_table_text(const StepReport& report) {
  const AccelConfig& c = report.config;
  std::string out;
  auto line = [&out](const std::string& s) { out += s + "\n"; };
  line(fmt::format("octet-sim: {} ({}), batch {}, {}x{} array ({}), energy table {}{}{}, {} schedule", report.workload,
                   report.workload_origin, report.batch, c.array_rows, c.array_cols, c.dataflow,
                   report.energy_origin, report.functional ? ", values checked" : "",
                   report.cosim ? ", RTL co-simulation" : "", report.schedule));
  size_t lw = 5;
  for (const PassRecord& r : report.records) lw = std::max(lw, r.layer.size());
  std::string head = fmt::format("{:<{}} {:<8} {:>13} {:>13} {:>6} {:>13} {:>13}", "layer", lw, "pass", "cycles",
                                 "ideal", "util%", "SRAM B", "DRAM B");
  // One column per unit, headed by its one name (the RTL and SystemC module name).
  std::array<size_t, kNumUnits> uw{};
  for (int u = 0; u < kNumUnits; ++u) {
    uw[static_cast<size_t>(u)] = std::max<size_t>(10, std::string(unit_name(static_cast<Unit>(u))).size());
    head += fmt::format(" {:>{}}", unit_name(static_cast<Unit>(u)), uw[static_cast<size_t>(u)]);
  }
  head += fmt::format(" {:>11} {:>11}", "total µJ", "FP32 µJ");
  line(head);
  auto row = [&](const std::string& layer, const std::string& pass, int64_t cycles, int64_t ideal, double util,
                 int64_t sram, int64_t dram, const std::array<double, kNumUnits>& e, double total, double fp32) {
    std::string s = fmt::format("{:<{}} {:<8} {:>13} {:>13} {:>6.1f} {:>13} {:>13}", layer, lw, pass, cycles, ideal,
                                100.0 * util, sram, dram);
    for (size_t u = 0; u < e.size(); ++u) s += fmt::format(" {:>{}.3f}", uj(e[u]), uw[u]);
    s += fmt::format(" {:>11.3f} {:>11.3f}", uj(total), uj(fp32));
    line(s);
  };
  int64_t cycles = 0, ideal = 0, sram = 0, dram = 0, macs = 0;
  std::array<double, kNumUnits> e{};
  double total = 0, fp32 = 0;
  for (const PassRecord& r : report.records) {
    const int64_t rs = r.sram_read_bytes + r.sram_write_bytes, rd = r.dram_read_bytes + r.dram_write_bytes;
    row(r.layer, pass_name(r.pass), r.cycles, r.ideal_cycles, r.utilisation, rs, rd, r.energy_pj, r.energy_total(),
        r.fp32_energy_total());
    cycles += r.cycles, ideal += r.ideal_cycles, sram += rs, dram += rd, macs += r.macs;
    for (size_t u = 0; u < e.size(); ++u) e[u] += r.energy_pj[u];
    total += r.energy_total(), fp32 += r.fp32_energy_total();
  }
  row("TOTAL", "", cycles, ideal, utilisation(macs, cycles, c), sram, dram, e, total, fp32);
  line("");
  line(fmt::format("{:<8} {:>13} {:>15} {:>13} {:>10} {:>12} {:>12} {:>9}", "pass", "cycles", "MACs", "ideal",
                   "array util", "energy µJ", "FP32 µJ", "int/FP32"));
  for (const PassSummary& p : summarise_passes(report))
    line(fmt::format("{:<8} {:>13} {:>15} {:>13} {:>9.1f}% {:>12.3f} {:>12.3f} {:>9}", pass_name(p.pass), p.cycles,
                     p.macs, p.ideal_cycles, 100.0 * p.utilisation, uj(p.energy_pj), uj(p.fp32_energy_pj),
                     p.fp32_energy_pj > 0 ? fmt::format("{:.3f}", p.energy_pj / p.fp32_energy_pj) : "-"));
  line(fmt::format("step: {} cycles ({:.3f} ms at {} MHz), {} MACs, array utilisation {:.1f}%", cycles,
                   static_cast<double>(cycles) / (c.clock_mhz * 1e3), c.clock_mhz, macs,
                   100.0 * utilisation(macs, cycles, c)));
  if (report.schedule == "concurrent")
    line("       (concurrent schedule: passes overlap; each cycle of the step is counted once, in the row of the "
         "pass then on the first busy unit of array, quantizer, BN, optimizer, DRAM)");
  int64_t stall = 0, contention = 0;
  for (const PassRecord& r : report.records) stall += r.stall_cycles, contention += r.contention_cycles;
  if (contention > 0)
    line(fmt::format("stalls: {} unit cycles waiting for DRAM or buffer space, {} of them lost to other units' "
                     "bursts on the shared DRAM channel", stall, contention));
  line(fmt::format("energy: integer {:.3f} µJ, FP32 baseline {:.3f} µJ, integer/FP32 = {}", uj(total), uj(fp32),
                   fp32 > 0 ? fmt::format("{:.3f} (FP32 costs {:.2f}x)", total / fp32, total > 0 ? fp32 / total : 0.0)
                            : std::string("-")));
  const CompulsoryTraffic& m = report.compulsory;
  if (m.known) {
    const auto ratio = [](int64_t actual, int64_t minimum) {
      return minimum > 0 ? fmt::format("{:.2f}x", static_cast<double>(actual) / static_cast<double>(minimum)) : std::string("-");
    };
    line(fmt::format("DRAM: integer {} B = {} the compulsory minimum {} B (parameters {}, batch {}, saved for backward {})",
                     report.total_dram_bytes(), ratio(report.total_dram_bytes(), m.total()), m.total(), m.params,
                     m.batch, m.saved));
    line(fmt::format("      FP32 baseline {} B = {} its compulsory minimum {} B (parameters {}, batch {}, saved for backward {})",
                     report.total_fp32_dram_bytes(), ratio(report.total_fp32_dram_bytes(), m.fp32_total()),
                     m.fp32_total(), m.fp32_params, m.fp32_batch, m.fp32_saved));
  }
  if (report.functional)
    line(report.functional_mismatch.empty()
             ? fmt::format("functional: end-of-step weights, momenta and BN statistics bit-identical to the golden "
                           "model (state digest {:016x})",
                           report.state_digest)
             : fmt::format("functional: MISMATCH with the golden model: {}", report.functional_mismatch));
  return out;
}

nlohmann::json report_json(const StepReport& report) {
  nlohmann::json records = nlohmann::json::array();
  std::array<double, kNumUnits> unit_total{}, unit_fp32{};
  for (const PassRecord& r : report.records) {
    nlohmann::json actions = nlohmann::json::object();
    for (int a = 0; a < kNumActions; ++a) actions[action_name(static_cast<Action>(a))] = r.actions[static_cast<Action>(a)];
    records.push_back({{"layer", r.layer},
                       {"kind", r.kind},
                       {"pass", pass_name(r.pass)},
                       {"macs", r.macs},
                       {"cycles", r.cycles},
                       {"array_cycles", r.array_cycles},
                       {"stall_cycles", r.stall_cycles},
                       {"contention_cycles", r.contention_cycles},
                       {"ideal_cycles", r.ideal_cycles},
                       {"utilisation", r.utilisation},
                       {"sram_read_bytes", r.sram_read_bytes},
                       {"sram_write_bytes", r.sram_write_bytes},
                       {"dram_read_bytes", r.dram_read_bytes},
                       {"dram_write_bytes", r.dram_write_bytes},
                       {"fp32_dram_read_bytes", r.fp32_dram_read_bytes},
                       {"fp32_dram_write_bytes", r.fp32_dram_write_bytes},
                       {"energy_pj", by_unit(r.energy_pj)},
                       {"fp32_energy_pj", by_unit(r.fp32_energy_pj)},
                       {"energy_total_pj", r.energy_total()},
                       {"fp32_energy_total_pj", r.fp32_energy_total()},
                       {"actions", actions}});
    for (size_t u = 0; u < unit_total.size(); ++u) unit_total[u] += r.energy_pj[u], unit_fp32[u] += r.fp32_energy_pj[u];
  }
  nlohmann::json passes = nlohmann::json::array();
  int64_t ideal = 0;
  for (const PassSummary& p : summarise_passes(report)) {
    passes.push_back({{"pass", pass_name(p.pass)},
                      {"cycles", p.cycles},
                      {"macs", p.macs},
                      {"ideal_cycles", p.ideal_cycles},
                      {"utilisation", p.utilisation},
                      {"energy_pj", p.energy_pj},
                      {"fp32_energy_pj", p.fp32_energy_pj}});
    ideal += p.ideal_cycles;
  }
  const double e = report.total_energy_pj(), f = report.total_fp32_energy_pj();
  nlohmann::json totals = {{"cycles", report.total_cycles()},
                           {"macs", report.total_macs()},
                           {"ideal_cycles", ideal},
                           {"utilisation", utilisation(report.total_macs(), report.total_cycles(), report.config)},
                           {"energy_pj", e},
                           {"fp32_energy_pj", f},
                           {"energy_pj_by_unit", by_unit(unit_total)},
                           {"fp32_energy_pj_by_unit", by_unit(unit_fp32)},
                           {"energy_ratio_int_over_fp32", f > 0 ? nlohmann::json(e / f) : nlohmann::json(nullptr)},
                           {"dram_bytes", report.total_dram_bytes()},
                           {"fp32_dram_bytes", report.total_fp32_dram_bytes()},
                           {"passes", passes}};
  const CompulsoryTraffic& m = report.compulsory;
  const auto over = [](int64_t actual, int64_t minimum) {
    return minimum > 0 ? nlohmann::json(static_cast<double>(actual) / static_cast<double>(minimum)) : nlohmann::json(nullptr);
  };
  nlohmann::json compulsory =
      m.known ? nlohmann::json{{"integer", {{"params", m.params}, {"batch", m.batch}, {"saved", m.saved}, {"total", m.total()}}},
                               {"fp32",
                                {{"params", m.fp32_params},
                                 {"batch", m.fp32_batch},
                                 {"saved", m.fp32_saved},
                                 {"total", m.fp32_total()}}},
                               {"dram_bytes_over_compulsory", over(report.total_dram_bytes(), m.total())},
                               {"fp32_dram_bytes_over_compulsory", over(report.total_fp32_dram_bytes(), m.fp32_total())}}
              : nlohmann::json(nullptr);
  nlohmann::json cosim_units = nlohmann::json::array();
  for (const StepReport::CosimUnit& u : report.cosim_units)
    cosim_units.push_back({{"unit", u.unit},
                           {"configuration", u.configuration},
                           {"jobs", u.jobs},
                           {"values_compared", u.values},
                           {"rtl_cycles", u.rtl_cycles},
                           {"seconds", u.seconds},
                           {"cycles_per_second", u.seconds > 0 ? nlohmann::json(static_cast<double>(u.rtl_cycles) / u.seconds)
                                                               : nlohmann::json(nullptr)}});
  return {{"format", "octet-sim-report"},
          {"version", kReportFormatVersion},
          {"workload", report.workload},
          {"workload_origin", report.workload_origin},
          {"batch", report.batch},
          {"schedule", report.schedule},
          {"weight_decay_log2", report.weight_decay_log2 < 0 ? nlohmann::json(nullptr) : nlohmann::json(report.weight_decay_log2)},
          {"functional", report.functional},
          {"functional_check",
           report.functional
               ? nlohmann::json{{"bit_identical", report.functional_mismatch.empty()},
                                {"state_digest", fmt::format("{:016x}", report.state_digest)},
                                {"golden_state_digest", fmt::format("{:016x}", report.golden_state_digest)},
                                {"first_difference", report.functional_mismatch}}
               : nlohmann::json(nullptr)},
          {"cosim", report.cosim},
          {"cycle_checks",
           {{"operations", report.cycle_checks},
            {"mismatches", report.cycle_mismatches},
            {"differences", report.cycle_differences}}},
          {"cosim_units", cosim_units},
          {"wall_seconds", report.wall_seconds},
          {"config", config_json(report.config)},
          {"energy_origin", report.energy_origin},
          {"records", records},
          {"totals", totals},
          {"compulsory_dram_bytes", compulsory}};
}

std::string report_csv_text(const StepReport& report) {
  std::string out =
      "layer,kind,pass,macs,cycles,array_cycles,stall_cycles,ideal_cycles,utilisation,sram_read_bytes,"
      "sram_write_bytes,dram_read_bytes,dram_write_bytes";
  for (int u = 0; u < kNumUnits; ++u) out += fmt::format(",energy_{}_pj", unit_name(static_cast<Unit>(u)));
  out += ",energy_total_pj";
  for (int u = 0; u < kNumUnits; ++u) out += fmt::format(",fp32_energy_{}_pj", unit_name(static_cast<Unit>(u)));
  out += ",fp32_energy_total_pj\n";
  for (const PassRecord& r : report.records) {
    out += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{}", csv_cell(r.layer), csv_cell(r.kind), pass_name(r.pass),
                       r.macs, r.cycles, r.array_cycles, r.stall_cycles, r.ideal_cycles, r.utilisation,
                       r.sram_read_bytes, r.sram_write_bytes, r.dram_read_bytes, r.dram_write_bytes);
    for (double v : r.energy_pj) out += fmt::format(",{}", v);
    out += fmt::format(",{}", r.energy_total());
    for (double v : r.fp32_energy_pj) out += fmt::format(",{}", v);
    out += fmt::format(",{}\n", r.fp32_energy_total());
  }
  return out;
}

void write_report_json(const StepReport& report, const std::string& path) {
  // Names are checked at parse time, but a path (the workload's origin) may hold any bytes: a
  // byte that is not UTF-8 is written as U+FFFD instead of failing the report after the run.
  octet::write_atomically(path, report_json(report).dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n",
                          "the JSON report");
}

void write_report_csv(const StepReport& report, const std::string& path) {
  octet::write_atomically(path, report_csv_text(report), "the CSV report");
}

}  // namespace octet::model
