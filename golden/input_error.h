// The one base class of every "bad input" error (a malformed file, an impossible shape, an
// out-of-range option). Programs print what() as one line and exit with status 2; any other
// exception is an internal error (exit status 1). what() names the file (or option), the line
// when there is one, and the field: "path:line: field 'f': message".
#pragma once

#include <stdexcept>

namespace octet {

class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace octet
