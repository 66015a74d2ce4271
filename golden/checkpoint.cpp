#include "golden/checkpoint.h"

#include <cstring>
#include <stdexcept>
#include <istream>
#include <iterator>

namespace octet::golden {

namespace {

constexpr uint64_t kMaxConfigFields = 256;
constexpr uint64_t kMaxNameBytes = 4096;

std::string hex64(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// Little-endian writer: every integer byte by byte, whatever the host's byte order.
class Writer {
 public:
  void bytes(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }
  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) out_ += static_cast<char>(v >> (8 * i) & 0xFF);
  }
  void u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) out_ += static_cast<char>(v >> (8 * i) & 0xFF);
  }
  void str(const std::string& s) {
    u32(static_cast<uint32_t>(s.size()));
    out_ += s;
  }
  template <typename T>
  void array(const std::vector<T>& v) {
    u64(v.size());
    for (T x : v) sizeof(T) == 4 ? u32(static_cast<uint32_t>(x)) : u64(static_cast<uint64_t>(x));
  }
  std::string& out() { return out_; }

 private:
  std::string out_;
};

// Little-endian reader over the file's bytes; every length is checked against what remains
// before anything is allocated.
class Reader {
 public:
  Reader(std::string_view bytes, const std::string& origin) : in_(bytes), origin_(origin) {}

  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    throw CheckpointError(origin_ + ": field '" + field + "': " + what);
  }
  void need(uint64_t n, const std::string& field) const {
    if (n > in_.size() - pos_)
      fail(field, "truncated: needs " + std::to_string(n) + " bytes at offset " + std::to_string(pos_) + ", " +
                      std::to_string(in_.size() - pos_) + " remain");
  }
  uint32_t u32(const std::string& field) {
    need(4, field);
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= uint32_t{static_cast<unsigned char>(in_[pos_ + i])} << (8 * i);
    pos_ += 4;
    return v;
  }
  uint64_t u64(const std::string& field) {
    need(8, field);
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t{static_cast<unsigned char>(in_[pos_ + i])} << (8 * i);
    pos_ += 8;
    return v;
  }
  std::string str(const std::string& field, uint64_t max_bytes) {
    const uint32_t n = u32(field);
    if (n > max_bytes) fail(field, "length " + std::to_string(n) + " exceeds " + std::to_string(max_bytes));
    need(n, field);
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  template <typename T>
  std::vector<T> array(const std::string& field) {
    const uint64_t n = u64(field);
    if (n > (in_.size() - pos_) / sizeof(T))
      fail(field, "truncated: " + std::to_string(n) + " elements announced, " + std::to_string(in_.size() - pos_) +
                      " bytes remain");
    std::vector<T> v(static_cast<size_t>(n));
    for (T& x : v) x = static_cast<T>(sizeof(T) == 4 ? u32(field) : u64(field));
    return v;
  }
  // A count of items that each take at least `min_item_bytes`: bounded by what remains.
  uint64_t count(const std::string& field, uint64_t min_item_bytes, uint64_t max) {
    const uint32_t n = u32(field);
    if (n > max || n > (in_.size() - pos_) / min_item_bytes)
      fail(field, "count " + std::to_string(n) + " is impossible here (" + std::to_string(in_.size() - pos_) +
                      " bytes remain)");
    return n;
  }
  size_t pos() const { return pos_; }
  size_t size() const { return in_.size(); }

 private:
  std::string_view in_;
  size_t pos_ = 0;
  const std::string& origin_;
};

}  // namespace

uint64_t fnv1a64(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (char c : bytes) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
  return h;
}

std::string encode_checkpoint(const CheckpointContents& c) {
  Writer w;
  w.bytes(kCheckpointMagic, sizeof kCheckpointMagic);
  w.u32(kCheckpointVersion);
  w.u32(kCheckpointByteOrderMark);
  w.u32(static_cast<uint32_t>(c.config.size()));
  for (const auto& [name, value] : c.config) {
    w.str(name);
    w.str(value);
  }
  w.str(c.network_name);
  w.u64(c.network_digest);
  w.u64(c.seed);
  w.u64(c.step);
  w.u32(static_cast<uint32_t>(c.masters.size()));
  for (size_t p = 0; p < c.masters.size(); ++p) {
    w.array(c.masters[p]);
    w.array(c.momenta[p]);
  }
  w.u32(static_cast<uint32_t>(c.running_mean.size()));
  for (size_t i = 0; i < c.running_mean.size(); ++i) {
    w.array(c.running_mean[i]);
    w.array(c.running_sigma[i]);
  }
  w.u64(c.state_digest);
  w.u64(fnv1a64(w.out()));
  return std::move(w.out());
}

CheckpointContents decode_checkpoint(std::string_view bytes, const std::string& origin) {
  Reader in(bytes, origin);
  if (bytes.size() < sizeof kCheckpointMagic || std::memcmp(bytes.data(), kCheckpointMagic, sizeof kCheckpointMagic) != 0) {
    if (bytes.substr(0, 8) == std::string_view("OCTCKPT1", 8))
      in.fail("magic", "format version 1 (raw native-endian, no options or digest) is no longer read; retrain");
    in.fail("magic", "not an Octet checkpoint");
  }
  in.u64("magic");
  const uint32_t version = in.u32("version");
  if (version != kCheckpointVersion)
    in.fail("version", "format version " + std::to_string(version) + ", this program reads version " +
                           std::to_string(kCheckpointVersion));
  const uint32_t bom = in.u32("byte_order");
  if (bom != kCheckpointByteOrderMark)
    in.fail("byte_order", "mark 0x" + hex64(bom).substr(8) + " is not 0x01020304 stored little-endian");
  // The checksum first covers everything else, so that any later message is about a file that
  // is intact; the structure is still parsed with bounds (the checksum is no defence against a
  // crafted file).
  in.need(16, "checksum");
  const std::string_view covered = bytes.substr(0, bytes.size() - 8);
  uint64_t stored = 0;
  for (int i = 0; i < 8; ++i) stored |= uint64_t{static_cast<unsigned char>(bytes[covered.size() + i])} << (8 * i);
  const uint64_t computed = fnv1a64(covered);
  if (stored != computed)
    in.fail("checksum", "stored " + hex64(stored) + ", the file's bytes give " + hex64(computed) +
                            " (corrupt, truncated or extended)");

  CheckpointContents c;
  const uint64_t fields = in.count("config", 8, kMaxConfigFields);
  for (uint64_t i = 0; i < fields; ++i) {
    std::string name = in.str("config", 256);
    std::string value = in.str("config." + printable(name), kMaxNameBytes);
    c.config.emplace_back(std::move(name), std::move(value));
  }
  c.network_name = in.str("network", kMaxNameBytes);
  c.network_digest = in.u64("network_digest");
  c.seed = in.u64("seed");
  c.step = in.u64("step");
  const uint64_t params = in.count("parameters", 16, UINT32_MAX);
  for (uint64_t p = 0; p < params; ++p) {
    const std::string field = "parameters[" + std::to_string(p) + "]";
    c.masters.push_back(in.array<int32_t>(field + ".master"));
    c.momenta.push_back(in.array<int32_t>(field + ".momentum"));
    if (c.momenta.back().size() != c.masters.back().size())
      in.fail(field + ".momentum", std::to_string(c.momenta.back().size()) + " elements, master has " +
                                        std::to_string(c.masters.back().size()));
  }
  const uint64_t nodes = in.count("running", 16, UINT32_MAX);
  for (uint64_t i = 0; i < nodes; ++i) {
    const std::string field = "running[" + std::to_string(i) + "]";
    c.running_mean.push_back(in.array<int64_t>(field + ".mean"));
    c.running_sigma.push_back(in.array<int64_t>(field + ".sigma"));
    if (c.running_sigma.back().size() != c.running_mean.back().size())
      in.fail(field + ".sigma", std::to_string(c.running_sigma.back().size()) + " elements, mean has " +
                                     std::to_string(c.running_mean.back().size()));
  }
  c.state_digest = in.u64("state_digest");
  in.u64("checksum");
  if (in.pos() != in.size())
    in.fail("checksum", std::to_string(in.size() - in.pos()) + " bytes after the checksum");
  return c;
}

CheckpointContents read_checkpoint(std::istream& in, const std::string& origin) {
  const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) throw CheckpointError(origin + ": field 'file': read error");
  return decode_checkpoint(bytes, origin);
}

uint64_t network_digest(const NetworkDesc& desc) {
  Writer w;
  w.str(desc.name);
  w.u64(static_cast<uint64_t>(desc.output));
  for (const NodeDesc& n : desc.nodes) {
    w.u32(static_cast<uint32_t>(n.kind));
    w.str(n.name);
    w.u32(static_cast<uint32_t>(n.inputs.size()));
    for (int i : n.inputs) w.u32(static_cast<uint32_t>(i));
    for (int v : {n.out_channels, n.kernel, n.stride, n.pad, static_cast<int>(n.global), static_cast<int>(n.value_kind)})
      w.u32(static_cast<uint32_t>(v));
    w.u32(static_cast<uint32_t>(n.out_shape.size()));
    for (int64_t d : n.out_shape) w.u64(static_cast<uint64_t>(d));
  }
  return fnv1a64(w.out());
}

void check_run_config(const RunConfig& saved, const RunConfig& expected, const std::string& origin, bool complete) {
  const auto find = [](const RunConfig& c, const std::string& name) -> const std::string* {
    for (const auto& [n, v] : c)
      if (n == name) return &v;
    return nullptr;
  };
  for (const auto& [name, value] : expected) {
    const std::string* s = find(saved, name);
    if (s == nullptr)
      throw CheckpointError(origin + ": field '" + name + "': missing in the checkpoint, command line has " +
                            printable(value, 120));
    if (*s != value)
      throw CheckpointError(origin + ": field '" + name + "': checkpoint has " + printable(*s, 120) +
                            ", command line has " + printable(value, 120));
  }
  if (complete)
    for (const auto& [name, value] : saved)
      if (find(expected, name) == nullptr)
        throw CheckpointError(origin + ": field '" + printable(name) + "': unknown to this program (checkpoint has " +
                              printable(value, 120) + ")");
}

int resume_epoch(uint64_t step, int64_t steps_per_epoch, int max_epochs, const std::string& origin) {
  if (steps_per_epoch < 1 || max_epochs < 0) throw std::invalid_argument("resume_epoch: no steps per epoch");
  const auto spe = static_cast<uint64_t>(steps_per_epoch);
  if (step % spe != 0)
    throw CheckpointError(origin + ": field 'step': " + std::to_string(step) + " is not at an epoch boundary (" +
                          std::to_string(spe) + " steps per epoch)");
  if (step / spe > static_cast<uint64_t>(max_epochs))
    throw CheckpointError(origin + ": field 'step': " + std::to_string(step) + " is the end of epoch " +
                          std::to_string(step / spe) + ", beyond --epochs " + std::to_string(max_epochs));
  return static_cast<int>(step / spe);
}

}  // namespace octet::golden
