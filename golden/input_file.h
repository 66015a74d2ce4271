// Reads a whole input file (a network description, topology, .cfg, energy table, payloads) as
// bytes, refusing what is not a readable regular file with a one-line error of type E naming
// it: a directory would otherwise read as an empty file ("no layer rows", an empty config),
// and an endless device (/dev/zero) or a huge file would be read until memory runs out.
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>

#include "golden/input_error.h"

namespace octet {

// Larger than any real description, topology or table; far below any memory limit.
inline constexpr std::uintmax_t kMaxInputFileBytes = std::uintmax_t{256} << 20;

// `where` starts every error message: "path:0: field 'file'" as the caller's format has it.
template <typename E>
std::string read_input_file(const std::string& path, const std::string& where) {
  const auto fail = [&](const std::string& msg) { throw E(where + ": " + msg); };
  if (path.empty()) fail("empty path");
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec) fail("cannot open: " + ec.message());
  if (std::filesystem::is_directory(status)) fail("is a directory, not a file");
  if (std::filesystem::is_regular_file(status) && std::filesystem::file_size(path, ec) > kMaxInputFileBytes && !ec)
    fail("larger than " + std::to_string(kMaxInputFileBytes >> 20) + " MiB");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(std::string("cannot open: ") + std::strerror(errno));
  // Bounded read: a character device or FIFO has no size to check beforehand.
  std::string text;
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxInputFileBytes) fail("larger than " + std::to_string(kMaxInputFileBytes >> 20) + " MiB");
  }
  if (in.bad()) fail("read error");
  return text;
}

}  // namespace octet
