// The one base class of every "bad input" error (a malformed file, an impossible shape, an
// out-of-range option). Programs print what() as one line and exit with status 2; any other
// exception is an internal error (exit status 1). what() names the file (or option), the line
// when there is one, and the field: "path:line: field 'f': message".
#pragma once

#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>

namespace octet {

class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A token from an input file or option as it may appear in a one-line error message: bytes
// outside printable ASCII (control bytes, NUL, Latin-1, UTF-8) become \xNN, and a token longer
// than max_chars is cut, with its full length noted, so garbage or a 100 kB number cannot flood
// or break the line.
inline std::string printable(std::string_view token, std::size_t max_chars = 48) {
  std::string out;
  for (std::size_t i = 0; i < token.size() && i < max_chars; ++i) {
    const auto c = static_cast<unsigned char>(token[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02X", c);
      out += hex;
    }
  }
  if (token.size() > max_chars) out += "... (" + std::to_string(token.size()) + " bytes)";
  return out;
}

}  // namespace octet
