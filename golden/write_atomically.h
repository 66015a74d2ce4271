// Writes a whole file through a temporary and a rename, so that a report or checkpoint is
// never left half-written; throws std::runtime_error naming the path (and removes the
// temporary) when it cannot.
#pragma once

#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>

namespace octet {

inline void write_atomically(const std::string& path, const std::string& text, const char* what) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) throw std::runtime_error(path + ": cannot write " + what);
    out << text;
    out.close();
    if (!out) {
      std::remove(tmp.c_str());
      throw std::runtime_error(path + ": write failed");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw std::runtime_error(path + ": cannot replace");
  }
}

}  // namespace octet
