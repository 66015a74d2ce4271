// The per-action energy table: the embedded default against its data file and its quoted
// sources, partial overrides, every error, and energy_pj on hand-computed counts.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>

#include "model/energy_table.h"
#include "testbench/model/temp_dir.h"

using namespace octet::model;
using octet::testing::TempDir;

namespace {

std::string load_error(const std::string& path) {
  try {
    load_energy_table(path);
  } catch (const EnergyError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(EnergyTable, ActionNamesAreUniqueDataFileKeys) {
  std::set<std::string> names;
  for (int a = 0; a < kNumActions; ++a) names.insert(action_name(static_cast<Action>(a)));
  EXPECT_EQ(names.size(), static_cast<size_t>(kNumActions));
  EXPECT_STREQ(action_name(Action::kMacInt8), "mac_int8");
  EXPECT_STREQ(action_name(Action::kDramByte), "dram_byte");
  EXPECT_STREQ(action_name(Action::kSramSmallByte), "sram_small_byte");
}

TEST(EnergyTable, DefaultIsTheShippedFileWithEveryActionSet) {
  const EnergyTable def = default_energy_table();
  EXPECT_EQ(def.origin, "embedded");
  // Loading the file on disk over an all-zero table gives the same numbers: one source.
  const EnergyTable disk = load_energy_table(OCTET_SOURCE_DIR "/model/energy/horowitz45.json", EnergyTable{});
  for (int a = 0; a < kNumActions; ++a) {
    EXPECT_GT(def.pj[static_cast<size_t>(a)], 0.0) << action_name(static_cast<Action>(a));
    EXPECT_EQ(def.pj[static_cast<size_t>(a)], disk.pj[static_cast<size_t>(a)]) << action_name(static_cast<Action>(a));
  }
}

TEST(EnergyTable, DefaultValuesFollowTheirQuotedSources) {
  const EnergyTable t = default_energy_table();
  // Horowitz ISSCC 2014, 45 nm, quoted directly.
  EXPECT_EQ(t[Action::kAddInt32], 0.1);
  EXPECT_EQ(t[Action::kMulInt32], 3.1);
  EXPECT_EQ(t[Action::kAddFp32], 0.9);
  EXPECT_EQ(t[Action::kMulFp32], 3.7);
  EXPECT_DOUBLE_EQ(t[Action::kSramLargeByte], 100.0 / 8);  // 1 MB, 64-bit read
  EXPECT_DOUBLE_EQ(t[Action::kDramByte], (1300.0 + 2600.0) / 2 / 8);
  // Derived as the file explains.
  EXPECT_DOUBLE_EQ(t[Action::kMacFp32], t[Action::kMulFp32] + t[Action::kAddFp32]);
  EXPECT_NEAR(t[Action::kMacInt8], 0.2 * 81 / 64 + 0.1 * 48 / 32, 5e-4);
  EXPECT_NEAR(t[Action::kAddInt64], 0.1 * 64 / 32, 1e-12);
  EXPECT_NEAR(t[Action::kSramSmallByte], 20.0 * std::pow(2.0, std::log(5.0) / std::log(32.0)) / 8, 5e-3);
  EXPECT_NEAR(t[Action::kRfAccess], 10.0 * std::sqrt(128.0 / 8192.0) / 8, 5e-4);
  EXPECT_NEAR(t[Action::kRng], 2 * 3.1 * 4 + 0.2 + 3 * 0.2, 1e-9);
  // The orderings the model's conclusions rest on.
  EXPECT_LT(t[Action::kMacInt8], t[Action::kMacFp32]);
  EXPECT_LT(t[Action::kRfAccess], t[Action::kSramSmallByte]);
  EXPECT_LT(t[Action::kSramSmallByte], t[Action::kSramLargeByte]);
  EXPECT_LT(t[Action::kSramLargeByte], t[Action::kDramByte]);
}

TEST(EnergyTable, PartialOverrideKeepsTheRest) {
  TempDir dir("energy_override");
  const std::string path = dir.write(
      "mine.json", R"({"table": "mine", "actions": {"dram_byte": 100, "shift": {"pj": 0.5, "source": "measured"}}})");
  const EnergyTable def = default_energy_table();
  const EnergyTable t = load_energy_table(path);
  EXPECT_EQ(t.origin, path);
  EXPECT_EQ(t[Action::kDramByte], 100.0);
  EXPECT_EQ(t[Action::kShift], 0.5);
  for (Action a : {Action::kMacInt8, Action::kMacFp32, Action::kSramSmallByte, Action::kRng})
    EXPECT_EQ(t[a], def[a]) << action_name(a);
  // Over an explicit base.
  EnergyTable base;
  base.pj.fill(7.0);
  const EnergyTable t2 = load_energy_table(path, base);
  EXPECT_EQ(t2[Action::kDramByte], 100.0);
  EXPECT_EQ(t2[Action::kMacInt8], 7.0);
}

TEST(EnergyTableErrors, EachNamesFileAndField) {
  TempDir dir("energy_errors");
  const auto err = [&dir](const std::string& name, const std::string& text) {
    return load_error(dir.write(name, text));
  };
  const std::string d = dir.file("");
  EXPECT_EQ(err("a.json", R"({"actions": {"dram_bytes": 1}})"),
            d + "a.json: field 'dram_bytes': unknown action (docs/energy-model.md lists them)");
  EXPECT_EQ(err("b.json", R"({"actions": {"shift": -1}})"), d + "b.json: field 'shift': must be a number of picojoules in 0..1e+06, got -1");
  EXPECT_EQ(err("c.json", R"({"actions": {"rng": "3"}})"),
            d + "c.json: field 'rng': expected a number of picojoules, got \"3\"");
  EXPECT_EQ(err("d.json", R"({"actions": {"rng": {"source": "x"}}})"), d + "d.json: field 'rng': missing 'pj'");
  EXPECT_EQ(err("e.json", R"({"actions": {"rng": {"pj": 1, "pJ": 2}}})"),
            d + "e.json: field 'rng': unknown member 'pJ' (pj, source)");
  EXPECT_EQ(err("f.json", R"({"actions": {}, "mac_int8": 1})"),
            d + "f.json: field 'mac_int8': unknown member (expected actions, table, unit, references, notes)");
  EXPECT_EQ(err("g.json", R"({"table": "x"})"), d + "g.json: field 'actions': missing");
  EXPECT_EQ(err("h.json", R"({"actions": [1, 2]})"), d + "h.json: field 'actions': expected an object of action: picojoules");
  EXPECT_EQ(err("i.json", R"({"actions": {"rng": 1,}})"), d + "i.json: field '(file)': not valid JSON (byte 23)");
  EXPECT_EQ(err("j.json", "[1]"), d + "j.json: field '(file)': expected a JSON object with an 'actions' member");
  EXPECT_EQ(load_error(d + "missing.json"), d + "missing.json: field '(file)': cannot open: No such file or directory");
}

// 1e400 is beyond double: the JSON library's own message named no file. 1e308 used to pass
// and become inf in the CSV and null in the JSON. Values are bounded to 0..1e6 pJ.
TEST(EnergyTableErrors, ValuesAreFiniteAndBounded) {
  TempDir dir("energy_bounds");
  const auto err = [&dir](const std::string& name, const std::string& text) {
    return load_error(dir.write(name, text));
  };
  const std::string d = dir.file("");
  const std::string huge = err("a.json", R"({"actions": {"dram_byte": 1e400}})");
  EXPECT_EQ(huge, d + "a.json: field '(file)': a number is out of range (larger than a double can hold)");
  EXPECT_EQ(huge.find('\n'), std::string::npos) << huge;
  EXPECT_EQ(err("b.json", R"({"actions": {"dram_byte": 1e308}})"),
            d + "b.json: field 'dram_byte': must be a number of picojoules in 0..1e+06, got 1e+308");
  EXPECT_EQ(err("c.json", R"({"actions": {"dram_byte": 1000001}})"),
            d + "c.json: field 'dram_byte': must be a number of picojoules in 0..1e+06, got 1000001");
  EXPECT_EQ(load_energy_table(dir.write("d.json", R"({"actions": {"dram_byte": 1e6}})"))[Action::kDramByte], 1e6);
  EXPECT_EQ(err("e.json", "{\"actions\": {\"r\\u0001\": 1}}"),
            d + "e.json: field 'r\\x01': unknown action (docs/energy-model.md lists them)");
  EXPECT_EQ(load_error("/tmp"), "/tmp: field '(file)': is a directory, not a file");
}

TEST(EnergyPj, SumsCountsTimesPicojoules) {
  EnergyTable t;  // exact binary fractions: the sum is exact
  t.pj[static_cast<size_t>(Action::kMacInt8)] = 0.5;
  t.pj[static_cast<size_t>(Action::kDramByte)] = 256;
  t.pj[static_cast<size_t>(Action::kSramSmallByte)] = 2.25;
  ActionCounts c;
  c[Action::kMacInt8] = 1000;
  c[Action::kDramByte] = 64;
  c[Action::kSramSmallByte] = 10;
  c[Action::kRng] = 99;  // priced 0 in this table
  EXPECT_EQ(energy_pj(c, t), 1000 * 0.5 + 64 * 256 + 10 * 2.25);
  EXPECT_EQ(energy_pj(ActionCounts{}, default_energy_table()), 0.0);
  // With the default table: 1000 int8 MACs + 64 DRAM bytes.
  ActionCounts d;
  d[Action::kMacInt8] = 1000;
  d[Action::kDramByte] = 64;
  const EnergyTable def = default_energy_table();
  EXPECT_DOUBLE_EQ(energy_pj(d, def), 1000 * 0.403 + 64 * 243.75);
  // Counts add.
  ActionCounts e = c;
  e += d;
  EXPECT_EQ(e[Action::kMacInt8], 2000);
  EXPECT_EQ(e[Action::kRng], 99);
}
