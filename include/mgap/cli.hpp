#pragma once

// Shared command-line conventions of the mgap programs: --version, --seed, --log-level, one clear
// error message and a non-zero exit on bad input. Include only from tools/, since it pulls in CLI11.

#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "mgap/parse.hpp"

namespace mgap::cli {

// Exit status for invalid input (options, files, values); 1 is kept for unexpected failures.
inline constexpr int kExitInvalidInput = 2;
inline constexpr int kExitFailure = 1;

struct CommonOptions {
  std::uint64_t seed = 0;
  std::string log_level = "info";
};

// Adds --version, --seed and --log-level to `app`.
void add_common_options(CLI::App& app, CommonOptions& options);

// Sets spdlog's default logger to stderr at `level` (trace, debug, info, warn, error, off).
// Throws InputError for an unknown level.
void configure_logging(const std::string& level);

// Parses the command line and runs `body`. Returns the exit status: 0 after --help or --version,
// kExitInvalidInput with one "PROGRAM: error: ..." line for an invalid command line or
// mgap::InputError, and kExitFailure for any other exception. Logging is configured from `common` before `body` runs.
int run_program(CLI::App& app, int argc, char** argv, const CommonOptions& common,
                const std::function<int()>& body);

// The list parsers of mgap/parse.hpp, under the names the programs use.
using mgap::parse_double_list;
using mgap::split_list;

}  // namespace mgap::cli
