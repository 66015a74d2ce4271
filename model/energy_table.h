// Per-action energy (docs/energy-model.md): a data file of picojoules per action with its
// sources, overridable by the user. Energy of a run = sum over actions of count x pJ.
#pragma once

#include "golden/input_error.h"
#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace octet::model {

// Every action the model counts. Names (action_name) are the keys of the data file.
enum class Action : int {
  kMacInt8,        // 9b x 9b multiply + 48-bit accumulate in a PE ("mac_int8")
  kMacFp32,        // FP32 multiply + add (baseline) ("mac_fp32")
  kAddInt32,       // 32-bit integer add ("add_int32")
  kAddInt64,       // wide (48..64-bit) integer add: BN sums, accumulator merges ("add_int64")
  kMulInt32,       // 32-bit integer multiply: BN normalise / backward, optimizer ("mul_int32")
  kAddFp32,        // FP32 add (baseline) ("add_fp32")
  kMulFp32,        // FP32 multiply (baseline) ("mul_fp32")
  kShift,          // barrel shift of one value ("shift")
  kCompare,        // compare / max of one value ("compare")
  kRng,            // one counter-based random draw (SplitMix64 finaliser) ("rng")
  kRfAccess,       // register-file access, per byte ("rf_byte")
  kSramSmallByte,  // SRAM access <= 64 KiB per bank, per byte ("sram_small_byte")
  kSramLargeByte,  // SRAM access > 64 KiB per bank, per byte ("sram_large_byte")
  kDramByte,       // DRAM access, per byte ("dram_byte")
  kCount
};
inline constexpr int kNumActions = static_cast<int>(Action::kCount);

const char* action_name(Action a);

class EnergyError : public InputError {
 public:
  using InputError::InputError;
};

struct EnergyTable {
  std::string origin;                       // file it came from, or "embedded"
  std::array<double, kNumActions> pj{};     // picojoules per action
  double operator[](Action a) const { return pj[static_cast<size_t>(a)]; }
};

// The embedded default (model/energy/horowitz45.json compiled in).
EnergyTable default_energy_table();
// Loads a JSON table; keys it lacks keep the values of `base`; an unknown key or a
// negative / non-numeric value is EnergyError("<file>: field '<key>': ...").
EnergyTable load_energy_table(const std::string& path, EnergyTable base = default_energy_table());
// The same from the file's text; `origin` names it in messages (the fuzz harness calls this).
EnergyTable load_energy_table_text(const std::string& text, const std::string& origin,
                                   EnergyTable base = default_energy_table());

// Counters of actions, one per unit or layer.
struct ActionCounts {
  std::array<int64_t, kNumActions> n{};
  int64_t& operator[](Action a) { return n[static_cast<size_t>(a)]; }
  int64_t operator[](Action a) const { return n[static_cast<size_t>(a)]; }
  ActionCounts& operator+=(const ActionCounts& o) {
    for (size_t i = 0; i < n.size(); ++i) n[i] += o.n[i];
    return *this;
  }
};
double energy_pj(const ActionCounts& counts, const EnergyTable& table);

}  // namespace octet::model
