#include "golden/data_path.h"

#include <filesystem>
#include <system_error>

// OCTET_DATA_FROM_BIN (from golden/CMakeLists.txt): the data directory relative to the
// directory of the executables, the same in the build tree and in an installed tree.
#ifndef OCTET_DATA_FROM_BIN
#error "OCTET_DATA_FROM_BIN must be defined by the build"
#endif

namespace octet {

std::string data_dir() {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  // Without /proc (not Linux, or not mounted) the path is relative to the working directory:
  // the error then names "bin/../share/octet/...", which says what is missing.
  const fs::path bin = ec ? fs::path("bin") : exe.parent_path();
  return (bin / OCTET_DATA_FROM_BIN).lexically_normal().string();
}

std::string data_path(std::string_view relative) {
  return (std::filesystem::path(data_dir()) / relative).string();
}

}  // namespace octet
