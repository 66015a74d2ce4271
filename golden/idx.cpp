#include "golden/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "golden/memory_estimate.h"

namespace octet::golden {
namespace {

// The element types the IDX format defines; we only train on unsigned bytes but
// name the others so that a wrong file gets a useful message.
const char* idx_type_name(uint8_t type) {
  switch (type) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    default: return nullptr;
  }
}

std::string hex2(unsigned v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02X", v & 0xFFu);
  return buf;
}

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw DataError(path + ": " + what);
}

// zlib's last error text without the "<path>: " it prefixes, since our messages
// already start with the path.
std::string gz_message(gzFile f, const std::string& path, int& err) {
  const char* msg = gzerror(f, &err);
  std::string m = msg ? msg : "";
  if (m.rfind(path + ": ", 0) == 0) m.erase(0, path.size() + 2);
  return m;
}

// Reads up to `want` bytes, appending to `out`; returns how many were read. Stops
// early only at end of file. Grows `out` chunk by chunk so that a corrupt header
// announcing a huge array cannot make us allocate it before the data is seen.
uint64_t read_up_to(gzFile f, const std::string& path, uint64_t want, std::vector<uint8_t>& out) {
  constexpr uint64_t kChunk = uint64_t{1} << 22;
  uint64_t got = 0;
  while (got < want) {
    const size_t old = out.size();
    const auto n = static_cast<unsigned>(std::min(want - got, kChunk));
    out.resize(old + n);
    const int r = gzread(f, out.data() + old, n);
    if (r < 0) {
      int err = Z_OK;
      const std::string msg = gz_message(f, path, err);
      if (err == Z_DATA_ERROR) fail(path, "corrupt gzip stream: " + msg);
      fail(path, "read error: " + (err == Z_ERRNO ? std::string(std::strerror(errno)) : msg));
    }
    out.resize(old + static_cast<size_t>(r));
    got += static_cast<uint64_t>(r);
    if (static_cast<unsigned>(r) < n) break;  // end of file
  }
  return got;
}

// " (gzip: unexpected end of file)" if zlib noticed a cut compressed stream.
std::string gzip_note(gzFile f, const std::string& path) {
  int err = Z_OK;
  const std::string msg = gz_message(f, path, err);
  return err == Z_OK || msg.empty() ? "" : " (gzip: " + msg + ")";
}

}  // namespace

std::string format_dims(const std::vector<uint32_t>& dims) {
  std::string s;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) s += "×";
    s += std::to_string(dims[i]);
  }
  return s;
}

namespace {

// Opens `path` and reads its header into out.dims; returns the announced byte count.
uint64_t read_header(GzFile& file, const std::string& path, uint64_t max_bytes, IdxArray& out) {
  errno = 0;
  file.reset(gzopen(path.c_str(), "rb"));
  if (!file) fail(path, std::string("cannot open: ") + (errno ? std::strerror(errno) : "gzopen failed"));
  gzFile f = file.get();

  // Magic: two zero bytes, the element type, the number of dimensions.
  std::vector<uint8_t> header;
  if (read_up_to(f, path, 4, header) < 4)
    fail(path, "truncated: " + std::to_string(header.size()) + " bytes, too short for the 4-byte IDX magic" +
                   gzip_note(f, path));
  if (header[0] != 0 || header[1] != 0) {
    fail(path, "bad magic " + hex2(header[0]) + " " + hex2(header[1]) + " " + hex2(header[2]) + " " +
                   hex2(header[3]) + ": not an IDX file (expected 0x00 0x00 <type> <ndims>)");
  }
  const uint8_t type = header[2];
  const unsigned ndims = header[3];
  if (type != kIdxUnsignedByte) {
    const char* name = idx_type_name(type);
    if (name == nullptr) fail(path, "bad magic: unknown IDX element type " + hex2(type));
    fail(path, "unsupported element type " + hex2(type) + " (" + name + "); only " + hex2(kIdxUnsignedByte) +
                   " (unsigned byte) is supported");
  }
  if (ndims == 0) fail(path, "bad magic: zero dimensions");

  // Dimensions: big-endian uint32 each.
  header.clear();
  if (read_up_to(f, path, 4 * ndims, header) < 4 * ndims)
    fail(path, "truncated: magic announces " + std::to_string(ndims) + " dimensions (" +
                   std::to_string(4 * ndims) + " bytes), file has " + std::to_string(header.size()) +
                   gzip_note(f, path));
  uint64_t count = 1;
  bool overflow = false;
  for (unsigned d = 0; d < ndims; ++d) {
    const uint8_t* b = &header[4 * d];
    const uint32_t dim = uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 | uint32_t{b[2]} << 8 | uint32_t{b[3]};
    out.dims.push_back(dim);
    if (dim != 0 && count > UINT64_MAX / dim) overflow = true;
    count *= dim;
  }
  if (overflow) fail(path, "bad header: dimensions " + format_dims(out.dims) + " overflow 64 bits");
  if (max_bytes == 0) max_bytes = static_cast<uint64_t>(physical_memory_bytes());
  if (max_bytes > 0 && count > max_bytes)
    fail(path, "bad header: dimensions " + format_dims(out.dims) + " = " + std::to_string(count) +
                   " data bytes, more than the limit of " + std::to_string(max_bytes) + " (" +
                   format_bytes(static_cast<int64_t>(std::min<uint64_t>(max_bytes, INT64_MAX))) + ")");
  return count;
}

}  // namespace

IdxArray read_idx_header(const std::string& path, uint64_t max_bytes) {
  GzFile file;
  IdxArray out;
  read_header(file, path, max_bytes, out);
  return out;
}

IdxArray read_idx(const std::string& path, uint64_t max_bytes) {
  GzFile file;
  IdxArray out;
  const uint64_t count = read_header(file, path, max_bytes, out);
  gzFile f = file.get();

  // Data: exactly `count` bytes, then end of file.
  const uint64_t got = read_up_to(f, path, count, out.data);
  if (got < count)
    fail(path, "truncated: header says " + format_dims(out.dims) + " = " + std::to_string(count) +
                   " data bytes, file has " + std::to_string(got) + gzip_note(f, path));
  constexpr uint64_t kProbe = uint64_t{1} << 16;  // enough to report; no need to count it all
  std::vector<uint8_t> extra;
  const uint64_t trailing = read_up_to(f, path, kProbe, extra);
  if (trailing > 0)
    fail(path, "trailing data: " + (trailing == kProbe ? std::string("at least ") : std::string()) +
                   std::to_string(trailing) + " bytes after the " + format_dims(out.dims) + " array");
  return out;
}

}  // namespace octet::golden
