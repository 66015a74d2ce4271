// The benchmark programs' command line, as in every Octet program: --help prints the usage and
// exits 0; an unknown or malformed option is one line on stderr and exit status 2.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>

namespace octet::tools {

// Parses argv into app. Returns the exit status when the program must stop (--help: 0, a bad
// option: 2), nothing when it should run.
inline std::optional<int> parse_bench_options(CLI::App& app, int argc, char** argv) {
  app.failure_message([](const CLI::App*, const CLI::Error& e) { return std::string(e.what()) + "\n"; });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  return std::nullopt;
}

}  // namespace octet::tools
