// What every Octet program does the same way: --version, one-line option errors, and the exit
// status (0 success, 2 bad input: an octet::InputError or an option error, 1 internal error).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <optional>
#include <string>

namespace octet::tools {

// "octet-sim 0.1.0" (the project version from CMake).
std::string version_line(const std::string& program);

// Adds --version to `app`.
void add_version_flag(CLI::App& app, const std::string& program);

// Parses the command line. Returns nothing when the program should go on; otherwise the exit
// status: 0 after --help or --version (printed on stdout), 2 after an option error, printed on
// stderr as one line "program: error: message (see --help)".
std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv, const std::string& program);

// Runs the program's body and maps what escapes it to the exit status: an octet::InputError
// prints "program: error: what" and gives 2; std::bad_alloc and any other exception print
// "program: internal error: what" and give 1. Messages are folded to one line.
// With `message`, the line is stored there instead of printed (data-parallel octet-train
// decides which rank prints it).
int run_guarded(const std::string& program, const std::function<int()>& body, std::string* message = nullptr);

// Half the machine's physical memory, in GiB: the default of the --max-memory options.
double default_max_memory_gib();

// `text` with line breaks replaced by "; " (CLI11 and some library messages span lines).
std::string one_line(std::string text);

}  // namespace octet::tools
