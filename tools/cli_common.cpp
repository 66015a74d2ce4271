#include "cli_common.h"

#include <fmt/format.h>

#include <cstdio>
#include <new>

#include <unistd.h>

#include "golden/input_error.h"

namespace octet::tools {

std::string version_line(const std::string& program) { return program + " " + OCTET_VERSION; }

void add_version_flag(CLI::App& app, const std::string& program) {
  app.set_version_flag("--version", version_line(program), "print the program's version and exit");
}

double default_max_memory_gib() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return 4.0;
  return static_cast<double>(pages) * static_cast<double>(page) / 2 / double(1 << 30);
}

std::string one_line(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  std::string out;
  for (char c : text) {
    if (c == '\n' || c == '\r')
      out += "; ";
    else
      out += c;
  }
  return out;
}

std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv, const std::string& program) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "{}: error: {} (see --help)\n", program, printable(one_line(e.what()), 200));
    return 2;
  }
  return std::nullopt;
}

int run_guarded(const std::string& program, const std::function<int()>& body, std::string* message) {
  const auto report = [&](const std::string& line) {
    if (message)
      *message = line;
    else
      fmt::print(stderr, "{}", line);
  };
  try {
    return body();
  } catch (const InputError& e) {
    report(fmt::format("{}: error: {}\n", program, one_line(e.what())));
    return 2;
  } catch (const std::bad_alloc&) {
    report(fmt::format("{}: internal error: out of memory\n", program));
    return 1;
  } catch (const std::exception& e) {
    report(fmt::format("{}: internal error: {}\n", program, one_line(e.what())));
    return 1;
  }
}

}  // namespace octet::tools
