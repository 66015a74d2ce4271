// Checkpoints of the integer network: a versioned, explicitly little-endian file that holds the
// options that define the run, the network's identity, every bit of training state and two
// digests (docs/checkpoint-format.md). Reading verifies all of it before anything is used.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "golden/input_error.h"
#include "golden/network_desc.h"

namespace octet::golden {

// A malformed, corrupt or mismatched checkpoint: "path: field 'f': message".
class CheckpointError : public InputError {
 public:
  using InputError::InputError;
};

inline constexpr char kCheckpointMagic[8] = {'O', 'C', 'T', 'E', 'T', 'C', 'K', 'P'};
inline constexpr uint32_t kCheckpointVersion = 2;
inline constexpr uint32_t kCheckpointByteOrderMark = 0x01020304;  // stored as 04 03 02 01

// The options that define a run's trajectory, as (name, canonical text) in the writer's order.
// The library stores them; the program decides which fields exist and compares them on resume.
using RunConfig = std::vector<std::pair<std::string, std::string>>;

// Everything a checkpoint holds, as plain arrays (decoding needs no network).
struct CheckpointContents {
  RunConfig config;
  std::string network_name;
  uint64_t network_digest = 0;
  uint64_t seed = 0, step = 0;
  std::vector<std::vector<int32_t>> masters, momenta;          // per parameter
  std::vector<std::vector<int64_t>> running_mean, running_sigma;  // per node (empty unless bnrelu)
  uint64_t state_digest = 0;  // training_state_digest of the state above
};

// The file's bytes (the trailing checksum is computed here).
std::string encode_checkpoint(const CheckpointContents& contents);

// Parses and verifies `bytes`: magic, format version, byte order, every length against the
// bytes that remain, no trailing bytes and the checksum. Throws CheckpointError naming `origin`
// and the field. The fuzzing entry point. (IntNetwork::load then checks the network and the
// state digest recomputed from the restored state.)
CheckpointContents decode_checkpoint(std::string_view bytes, const std::string& origin);

// Reads the whole stream and decodes it.
CheckpointContents read_checkpoint(std::istream& in, const std::string& origin);

// A digest of a description's structure (every node's op, name, inputs, sizes and shapes; not
// its file's comments or layout), so that a checkpoint is only loaded into the same network.
uint64_t network_digest(const NetworkDesc& desc);

// Throws CheckpointError "origin: field 'f': checkpoint has A, command line has B" at the first
// field of `expected` whose value differs from (or is missing in) `saved`. With `complete`,
// a field in `saved` that `expected` does not have is refused too.
void check_run_config(const RunConfig& saved, const RunConfig& expected, const std::string& origin, bool complete);

// The 0-based epoch a run resumes at from a checkpoint taken at `step`: a whole number of epochs
// of `steps_per_epoch` (>= 1) steps, at most `max_epochs`. Throws CheckpointError "origin: field
// 'step': ..." otherwise (a huge step counter must not become a negative or endless epoch).
int resume_epoch(uint64_t step, int64_t steps_per_epoch, int max_epochs, const std::string& origin);

// FNV-1a, 64 bits: the checkpoint's checksum (any change of one byte changes it).
uint64_t fnv1a64(std::string_view bytes);

}  // namespace octet::golden
