// The per-action energy table: the embedded default (model/energy/horowitz45.json, compiled
// in by octet_embed_text) and user overrides of any subset of its actions.
#include "model/energy_table.h"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "golden/input_file.h"
#include "model/energy_horowitz45_json.h"

namespace octet::model {

namespace {

constexpr std::array<const char*, kNumActions> kActionNames = {
    "mac_int8", "mac_fp32", "add_int32", "add_int64", "mul_int32", "add_fp32", "mul_fp32",
    "shift",    "compare",  "rng",       "rf_byte",   "sram_small_byte", "sram_large_byte", "dram_byte"};

// Top-level members a table file may have besides "actions": documentation only.
constexpr std::array<const char*, 4> kDocMembers = {"table", "unit", "references", "notes"};

// A sane range for picojoules per action (docs/energy-model.md): a DRAM byte is about 100 pJ,
// so 1e6 pJ (a microjoule) per action is far beyond any real action, and the energy of a step
// (counts up to ~1e15 x pJ) stays finite in double; 1e308 used to become inf in the CSV and
// null in the JSON.
constexpr double kMaxPicojoules = 1e6;

[[noreturn]] void fail(const std::string& origin, const std::string& field, const std::string& msg) {
  throw EnergyError(fmt::format("{}: field '{}': {}", origin, field, msg));
}

int action_index(const std::string& key) {
  for (int i = 0; i < kNumActions; ++i)
    if (key == kActionNames[static_cast<size_t>(i)]) return i;
  return -1;
}

// Applies the table text's actions onto `table`; returns which actions it set.
std::array<bool, kNumActions> apply_table_text(const std::string& text, const std::string& origin,
                                               EnergyTable& table) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    fail(origin, "(file)", fmt::format("not valid JSON (byte {})", e.byte));
  } catch (const nlohmann::json::out_of_range&) {  // a number beyond double, e.g. 1e400 (found by fuzzing)
    fail(origin, "(file)", "a number is out of range (larger than a double can hold)");
  } catch (const nlohmann::json::exception& e) {  // any other library error: its message names no file
    fail(origin, "(file)", fmt::format("not a usable JSON document ({})", printable(e.what(), 120)));
  }
  if (!doc.is_object()) fail(origin, "(file)", "expected a JSON object with an 'actions' member");
  for (const auto& [key, value] : doc.items()) {
    if (key == "actions") continue;
    bool doc_member = false;
    for (const char* m : kDocMembers) doc_member |= key == m;
    if (!doc_member) fail(origin, printable(key), "unknown member (expected actions, table, unit, references, notes)");
  }
  std::array<bool, kNumActions> set{};
  if (!doc.contains("actions")) fail(origin, "actions", "missing");
  const nlohmann::json& actions = doc["actions"];
  if (!actions.is_object()) fail(origin, "actions", "expected an object of action: picojoules");
  for (const auto& [key, value] : actions.items()) {
    const int i = action_index(key);
    if (i < 0) fail(origin, printable(key), "unknown action (docs/energy-model.md lists them)");
    const nlohmann::json* pj = &value;
    if (value.is_object()) {
      for (const auto& [member, unused] : value.items())
        if (member != "pj" && member != "source") fail(origin, key, fmt::format("unknown member '{}' (pj, source)", printable(member)));
      if (!value.contains("pj")) fail(origin, key, "missing 'pj'");
      pj = &value["pj"];
    }
    const auto shown = [&] { return printable(pj->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)); };
    if (!pj->is_number()) fail(origin, key, fmt::format("expected a number of picojoules, got {}", shown()));
    const double v = pj->get<double>();
    if (!(v >= 0 && v <= kMaxPicojoules))
      fail(origin, key, fmt::format("must be a number of picojoules in 0..{:g}, got {}", kMaxPicojoules, shown()));
    table.pj[static_cast<size_t>(i)] = v;
    set[static_cast<size_t>(i)] = true;
  }
  return set;
}

}  // namespace

const char* action_name(Action a) {
  const int i = static_cast<int>(a);
  return i >= 0 && i < kNumActions ? kActionNames[static_cast<size_t>(i)] : "?";
}

EnergyTable default_energy_table() {
  EnergyTable table;
  table.origin = "embedded";
  const auto set = apply_table_text(kHorowitz45Json, "model/energy/horowitz45.json", table);
  for (int i = 0; i < kNumActions; ++i)
    if (!set[static_cast<size_t>(i)])
      throw std::logic_error(fmt::format("model/energy/horowitz45.json: field '{}': missing", kActionNames[static_cast<size_t>(i)]));
  return table;
}

EnergyTable load_energy_table(const std::string& path, EnergyTable base) {
  return load_energy_table_text(read_input_file<EnergyError>(path, path + ": field '(file)'"), path, std::move(base));
}

EnergyTable load_energy_table_text(const std::string& text, const std::string& origin, EnergyTable base) {
  EnergyTable table = std::move(base);
  apply_table_text(text, origin, table);
  table.origin = origin;
  return table;
}

double energy_pj(const ActionCounts& counts, const EnergyTable& table) {
  double sum = 0;
  for (int i = 0; i < kNumActions; ++i)
    sum += static_cast<double>(counts.n[static_cast<size_t>(i)]) * table.pj[static_cast<size_t>(i)];
  return sum;
}

}  // namespace octet::model
