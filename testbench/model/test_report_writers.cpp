// Report writers on a hand-built StepReport (testbench/model/hand_report.h): the JSON
// carries every value back, the CSV has a header and one row per record, the terminal
// table has the totals and per-pass summary, and files are written whole or not at all.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "model/report_writers.h"
#include "testbench/model/hand_report.h"
#include "testbench/model/temp_dir.h"

using namespace octet::model;
using octet::testing::hand_report;
using octet::testing::TempDir;

TEST(StepReport, TotalsAndNames) {
  const StepReport r = hand_report();
  EXPECT_EQ(r.total_cycles(), 770);
  EXPECT_EQ(r.total_macs(), 4960);
  EXPECT_EQ(r.total_energy_pj(), 5e6);
  EXPECT_EQ(r.total_fp32_energy_pj(), 2e7);
  EXPECT_EQ(r.records[0].energy_total(), 2e6);
  EXPECT_STREQ(pass_name(Pass::kBackwardData), "backward");
  EXPECT_STREQ(pass_name(Pass::kWeightGrad), "wgrad");
  EXPECT_STREQ(unit_name(Unit::kShiftQuantizer), "shift_quantizer");
  EXPECT_STREQ(unit_name(Unit::kDram), "dram");
}

// A unit has one name in every folder and in the reports: the report's name of each compute
// unit is its RTL module (rtl/<name>.sv declares `module <name>`) and its co-simulation
// wrapper (sim/rtl_<name>.h).
TEST(StepReport, UnitNamesAreTheRtlModuleNames) {
  const std::filesystem::path src = OCTET_SOURCE_DIR;
  for (Unit u : {Unit::kSystolicArray, Unit::kShiftQuantizer, Unit::kBnUnit, Unit::kOptimizerUnit, Unit::kVectorUnit}) {
    const std::string name = unit_name(u);
    std::ifstream sv(src / "rtl" / (name + ".sv"));
    ASSERT_TRUE(sv) << "rtl/" << name << ".sv";
    const std::string text((std::istreambuf_iterator<char>(sv)), std::istreambuf_iterator<char>());
    EXPECT_NE(text.find("module " + name), std::string::npos) << name;
    EXPECT_TRUE(std::filesystem::exists(src / "sim" / ("rtl_" + name + ".h"))) << name;
  }
}

TEST(ReportWriters, PassSummary) {
  const auto s = summarise_passes(hand_report());
  EXPECT_EQ(s[0].pass, Pass::kForward);
  EXPECT_EQ(s[0].cycles, 220);
  EXPECT_EQ(s[0].macs, 1760);
  EXPECT_EQ(s[0].ideal_cycles, 110);
  EXPECT_DOUBLE_EQ(s[0].utilisation, 0.5);
  EXPECT_DOUBLE_EQ(s[1].utilisation, 0.25);
  EXPECT_DOUBLE_EQ(s[2].utilisation, 1.0);
  EXPECT_EQ(s[3].utilisation, 0.0);
  EXPECT_EQ(s[0].energy_pj, 2.5e6);
  EXPECT_EQ(s[0].fp32_energy_pj, 1e7);
}

TEST(ReportWriters, JsonRoundTripsEveryValue) {
  const StepReport r = hand_report();
  const nlohmann::json j = nlohmann::json::parse(report_json(r).dump());
  EXPECT_EQ(j["format"], "octet-sim-report");
  EXPECT_EQ(j["version"], 2);
  EXPECT_EQ(j["workload"], "hand");
  EXPECT_EQ(j["batch"], 2);
  EXPECT_EQ(j["energy_origin"], "embedded");
  EXPECT_EQ(j["config"]["array_rows"], 4);
  EXPECT_EQ(j["config"]["dataflow"], "os");
  EXPECT_EQ(j["config"]["dram_bytes_per_cycle"], r.config.dram_bytes_per_cycle);
  ASSERT_EQ(j["records"].size(), r.records.size());
  for (size_t i = 0; i < r.records.size(); ++i) {
    const PassRecord& p = r.records[i];
    const nlohmann::json& q = j["records"][i];
    EXPECT_EQ(q["layer"], p.layer);
    EXPECT_EQ(q["kind"], p.kind);
    EXPECT_EQ(q["pass"], pass_name(p.pass));
    EXPECT_EQ(q["macs"], p.macs);
    EXPECT_EQ(q["cycles"], p.cycles);
    EXPECT_EQ(q["array_cycles"], p.array_cycles);
    EXPECT_EQ(q["stall_cycles"], p.stall_cycles);
    EXPECT_EQ(q["ideal_cycles"], p.ideal_cycles);
    EXPECT_EQ(q["utilisation"].get<double>(), p.utilisation);
    EXPECT_EQ(q["sram_read_bytes"], p.sram_read_bytes);
    EXPECT_EQ(q["sram_write_bytes"], p.sram_write_bytes);
    EXPECT_EQ(q["dram_read_bytes"], p.dram_read_bytes);
    EXPECT_EQ(q["dram_write_bytes"], p.dram_write_bytes);
    for (int u = 0; u < kNumUnits; ++u) {
      EXPECT_EQ(q["energy_pj"][unit_name(static_cast<Unit>(u))].get<double>(), p.energy_pj[static_cast<size_t>(u)]);
      EXPECT_EQ(q["fp32_energy_pj"][unit_name(static_cast<Unit>(u))].get<double>(),
                p.fp32_energy_pj[static_cast<size_t>(u)]);
    }
    EXPECT_EQ(q["energy_total_pj"].get<double>(), p.energy_total());
    EXPECT_EQ(q["fp32_energy_total_pj"].get<double>(), p.fp32_energy_total());
    for (int a = 0; a < kNumActions; ++a)
      EXPECT_EQ(q["actions"][action_name(static_cast<Action>(a))], p.actions[static_cast<Action>(a)]);
  }
  const nlohmann::json& t = j["totals"];
  EXPECT_EQ(t["cycles"], 770);
  EXPECT_EQ(t["macs"], 4960);
  EXPECT_EQ(t["ideal_cycles"], 310);
  EXPECT_EQ(t["energy_pj"].get<double>(), 5e6);
  EXPECT_EQ(t["fp32_energy_pj"].get<double>(), 2e7);
  EXPECT_EQ(t["energy_ratio_int_over_fp32"].get<double>(), 0.25);
  EXPECT_EQ(t["energy_pj_by_unit"]["systolic_array"].get<double>(), 2.5e6);
  ASSERT_EQ(t["passes"].size(), 4u);
  EXPECT_EQ(t["passes"][1]["pass"], "backward");
  EXPECT_EQ(t["passes"][1]["utilisation"].get<double>(), 0.25);
}

TEST(ReportWriters, CsvHeaderAndOneRowPerRecord) {
  StepReport r = hand_report();
  r.records[4].layer = "fc \"head\", x";  // needs quoting
  const std::string csv = report_csv_text(r);
  std::istringstream in(csv);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  ASSERT_EQ(lines.size(), r.records.size() + 1);
  EXPECT_EQ(lines[0].substr(0, 48), "layer,kind,pass,macs,cycles,array_cycles,stall_c");
  const auto count_commas = [](const std::string& s) { return std::count(s.begin(), s.end(), ','); };
  const auto header_cols = count_commas(lines[0]);
  EXPECT_EQ(header_cols + 1, 3 + 10 + 2 * (kNumUnits + 1));
  for (size_t i = 1; i < 5; ++i) EXPECT_EQ(count_commas(lines[i]), header_cols) << lines[i];
  // Energy per unit: systolic_array, shift_quantizer, bn_unit, optimizer_unit, vector_unit, sram, dram, total.
  EXPECT_EQ(lines[1], "conv1,conv,forward,1600,200,190,10,100,0.5,1000,500,300,7,1000000,0,0,0,0,500000,500000,2000000,"
                      "4000000,0,0,0,0,2000000,2000000,8000000");
  EXPECT_EQ(lines[5].substr(0, 31), "\"fc \"\"head\"\", x\",linear,forward");
}

TEST(ReportWriters, TableHasEveryRowTotalsAndThePassSummary) {
  const std::string t = report_table_text(hand_report());
  std::istringstream in(t);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  auto find = [&lines](const std::string& prefix) -> std::string {
    for (const auto& l : lines)
      if (l.rfind(prefix, 0) == 0) return l;
    return "(missing " + prefix + ")";
  };
  EXPECT_NE(find("octet-sim: hand (test), batch 2, 4x4 array (os)").find("embedded"), std::string::npos);
  // conv1 forward: 200 cycles, 100 ideal, 50.0%, 1500 SRAM B, 307 DRAM B, 1 µJ array, 2 µJ total, 8 µJ FP32.
  const std::string row = find("conv1 forward");
  for (const char* v : {" 200 ", " 100 ", " 50.0 ", " 1500 ", " 307 ", " 1.000 ", " 2.000 ", " 8.000"})
    EXPECT_NE(row.find(v), std::string::npos) << v << " in " << row;
  const std::string total = find("TOTAL");
  for (const char* v : {" 770 ", " 310 ", " 7500 ", " 1535 ", " 5.000 ", " 20.000"})
    EXPECT_NE(total.find(v), std::string::npos) << v << " in " << total;
  EXPECT_NE(find("forward ").find("50.0%"), std::string::npos);
  EXPECT_NE(find("wgrad ").find("100.0%"), std::string::npos);
  EXPECT_NE(find("backward ").find("0.250"), std::string::npos);  // int/FP32 of the pass
  EXPECT_EQ(find("energy:"), "energy: integer 5.000 µJ, FP32 baseline 20.000 µJ, integer/FP32 = 0.250 (FP32 costs 4.00x)");
  EXPECT_EQ(find("step:"), "step: 770 cycles (0.001 ms at 1000 MHz), 4960 MACs, array utilisation 40.3%");
}

// The compulsory DRAM traffic and the step's bytes against it: hand_report moves 1535 DRAM
// bytes (307 per record); give it FP32 bytes 614 per record (3070) and a minimum of
// 100 + 20 + 30 = 150 B (integer) and 200 + 80 + 60 = 340 B (FP32).
TEST(ReportWriters, CompulsoryTrafficInTableAndJson) {
  StepReport r = hand_report();
  for (PassRecord& p : r.records) p.fp32_dram_read_bytes = 600, p.fp32_dram_write_bytes = 14;
  const std::string before = report_table_text(r);
  EXPECT_EQ(before.find("DRAM:"), std::string::npos);  // not computed: no line
  EXPECT_TRUE(report_json(r)["compulsory_dram_bytes"].is_null());
  r.compulsory = {true, 100, 20, 30, 200, 80, 60};
  const std::string t = report_table_text(r);
  EXPECT_NE(t.find("DRAM: integer 1535 B = 10.23x the compulsory minimum 150 B (parameters 100, batch 20, saved for backward 30)\n"
                   "      FP32 baseline 3070 B = 9.03x its compulsory minimum 340 B (parameters 200, batch 80, saved for backward 60)\n"),
            std::string::npos)
      << t;
  const nlohmann::json j = report_json(r);
  EXPECT_EQ(j["totals"]["dram_bytes"], 1535);
  EXPECT_EQ(j["totals"]["fp32_dram_bytes"], 3070);
  EXPECT_EQ(j["records"][0]["fp32_dram_read_bytes"], 600);
  const nlohmann::json& c = j["compulsory_dram_bytes"];
  EXPECT_EQ(c["integer"]["params"], 100);
  EXPECT_EQ(c["integer"]["batch"], 20);
  EXPECT_EQ(c["integer"]["saved"], 30);
  EXPECT_EQ(c["integer"]["total"], 150);
  EXPECT_EQ(c["fp32"]["total"], 340);
  EXPECT_DOUBLE_EQ(c["dram_bytes_over_compulsory"].get<double>(), 1535.0 / 150);
  EXPECT_DOUBLE_EQ(c["fp32_dram_bytes_over_compulsory"].get<double>(), 3070.0 / 340);
}

// A Latin-1 byte (not UTF-8) in a name or path used to make the JSON report fail after the
// run (exit 1); it is written as U+FFFD.
TEST(ReportWriters, JsonSurvivesBytesThatAreNotUtf8) {
  TempDir dir("writers_latin1");
  StepReport r = hand_report();
  r.workload_origin = "caf\xe9.csv";
  r.records.at(0).layer = "l\xe9";
  write_report_json(r, dir.file("r.json"));
  const nlohmann::json j = nlohmann::json::parse(octet::testing::read_file(dir.file("r.json")));
  EXPECT_EQ(j.dump().find("caf\xef\xbf\xbd.csv") != std::string::npos, true) << j.dump();
  EXPECT_EQ(j["totals"]["cycles"], 770);
}

TEST(ReportWriters, FilesAreWrittenWholeOrNotAtAll) {
  TempDir dir("writers");
  const StepReport r = hand_report();
  write_report_json(r, dir.file("r.json"));
  write_report_csv(r, dir.file("r.csv"));
  EXPECT_EQ(dir.listing().size(), std::string("r.csv r.json ").size());  // no .tmp left
  EXPECT_EQ(nlohmann::json::parse(octet::testing::read_file(dir.file("r.json")))["totals"]["cycles"], 770);
  EXPECT_EQ(octet::testing::read_file(dir.file("r.csv")), report_csv_text(r));
  const std::string bad = dir.file("no_such_dir/r.json");
  try {
    write_report_json(r, bad);
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), bad + ": cannot write the JSON report");
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("no_such_dir")));
}
