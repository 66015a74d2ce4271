// Fuzz target: IDX data files, plain or gzip'd (golden/idx.cpp). read_idx reads through zlib's
// gzopen/gzread (which also pass uncompressed files through and stop at trailing garbage after
// a gzip member); rather than a second in-memory reader with its own semantics, the input is
// put in an anonymous memory file (memfd) and read by path, so the fuzzer runs the real code.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "golden/idx.h"
#include "testbench/fuzz/fuzz_harness.h"

namespace {

struct MemFile {
  int fd = -1;
  std::string path;
  MemFile() {
    fd = memfd_create("fuzz_idx", 0);
    if (fd < 0) std::abort();
    path = "/proc/self/fd/" + std::to_string(fd);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const MemFile file;
  if (ftruncate(file.fd, 0) != 0 || pwrite(file.fd, data, size, 0) != static_cast<ssize_t>(size)) std::abort();
  return octet::fuzz::accept_input_errors([&] { octet::golden::read_idx(file.path); });
}
