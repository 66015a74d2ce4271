// Replay runner for the gcc build: runs a harness's LLVMFuzzerTestOneInput over every file of
// the folders given (its seed corpus and its regressions), so every input that ever crashed a
// parser stays a test. A non-InputError exception fails with the file's name; a crash or a
// sanitizer report fails the process. An empty or missing corpus folder is an error, so the
// test cannot pass by running nothing; a missing regressions folder is fine (no finding yet).
//   replay_<target> <corpus dir> [<regressions dir>]
#include <algorithm>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "testbench/fuzz/fuzz_harness.h"

namespace fs = std::filesystem;

namespace {

std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_regular_file()) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <corpus dir> [<regressions dir>]\n", argv[0]);
    return 2;
  }
  std::vector<fs::path> inputs;
  for (int a = 1; a < argc; ++a) {
    const fs::path dir = argv[a];
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
      if (a == 1) {
        std::fprintf(stderr, "%s: corpus folder missing\n", dir.c_str());
        return 1;
      }
      continue;
    }
    const auto files = files_in(dir);
    if (a == 1 && files.empty()) {
      std::fprintf(stderr, "%s: corpus folder is empty\n", dir.c_str());
      return 1;
    }
    inputs.insert(inputs.end(), files.begin(), files.end());
  }
  for (const fs::path& path : inputs) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "%s: cannot open\n", path.c_str());
      return 1;
    }
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    try {
      LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s: not a clean rejection (an exception other than InputError): %s\n", path.c_str(),
                   e.what());
      return 1;
    } catch (...) {
      std::fprintf(stderr, "%s: not a clean rejection (an exception of unknown type)\n", path.c_str());
      return 1;
    }
  }
  std::printf("%zu inputs replayed cleanly\n", inputs.size());
  return 0;
}
