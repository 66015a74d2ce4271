#include "output_path.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "golden/input_error.h"

namespace octet::tools {

void check_output_file(const std::string& path, const std::string& option) {
  namespace fs = std::filesystem;
  const auto fail = [&](const std::string& what) {
    throw InputError(printable(path, 200) + ": field '" + option + "': " + what);
  };
  if (path.empty()) fail("empty file name");
  std::error_code ec;
  if (fs::is_directory(path, ec)) fail("is a directory, expected a file name");
  fs::path dir = fs::path(path).parent_path();
  if (dir.empty()) dir = ".";
  if (!fs::is_directory(dir, ec)) fail("directory '" + printable(dir.string(), 200) + "' does not exist");
  std::string probe = (dir / ".octet-write-check-XXXXXX").string();
  const int fd = mkstemp(probe.data());
  if (fd < 0) fail("cannot create files in '" + printable(dir.string(), 200) + "': " + std::strerror(errno));
  close(fd);
  std::remove(probe.c_str());
}

}  // namespace octet::tools
