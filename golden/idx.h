// Reader for IDX files, the container format of MNIST and Fashion-MNIST
// (http://yann.lecun.com/exdb/mnist/): a 4-byte magic 0x00 0x00 <type> <ndims>,
// then ndims big-endian uint32 dimensions, then the elements row-major.
// Plain and gzip-compressed files are read transparently (zlib's gzread passes
// uncompressed files through), so the Debian *.gz files need no unpacking.
#pragma once

#include "golden/input_error.h"
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace octet::golden {

// Anything wrong with a data file on disk. The message is one line that starts
// with the file path, e.g. "/d/x.gz: truncated: header says 2×28×28 = 1568 data
// bytes, file has 1234"; the CLI prints it and exits with status 2.
class DataError : public InputError {
 public:
  using InputError::InputError;
};

// IDX element type codes (the third magic byte).
inline constexpr uint8_t kIdxUnsignedByte = 0x08;

struct IdxArray {
  std::vector<uint32_t> dims;  // outermost first
  std::vector<uint8_t> data;   // product(dims) elements, row-major
};

// Reads a whole IDX file of unsigned bytes. Throws DataError if the file cannot be
// opened, is not IDX, holds another element type, is truncated, has bytes after
// the data, or its gzip stream is corrupt; and, before reading any data, if the header
// announces more than `max_bytes` of data (0: this machine's physical memory), so that a
// forged header or a gzip bomb is an error instead of an allocation failure.
IdxArray read_idx(const std::string& path, uint64_t max_bytes = 0);

// Only the header: the dimensions (data left empty). Same DataErrors for the header, and the
// same bound on the announced size.
IdxArray read_idx_header(const std::string& path, uint64_t max_bytes = 0);

// "60000×28×28", for messages.
std::string format_dims(const std::vector<uint32_t>& dims);

}  // namespace octet::golden
