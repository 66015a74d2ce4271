// Checks, before any work, that a program will be able to write an output file: not a
// directory, in an existing directory where a file can be created (by creating and removing a
// temporary there: the only test that also holds for root, read-only mounts and /proc).
#pragma once

#include <string>

namespace octet::tools {

// Throws octet::InputError "path: field 'option': message" when `path` cannot be written.
void check_output_file(const std::string& path, const std::string& option);

}  // namespace octet::tools
