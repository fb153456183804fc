#include "mgap/cli.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <exception>
#include <iostream>

#include "mgap/error.hpp"
#include "mgap/version.hpp"

namespace mgap::cli {

void add_common_options(CLI::App& app, CommonOptions& options) {
  app.set_version_flag("--version", std::string("mgap ") + kVersion);
  app.add_option("--seed", options.seed,
                 "Seed for every random draw; the same seed gives the same output bit for bit")
      ->capture_default_str();
  app.add_option("--log-level", options.log_level,
                 "Log detail on stderr: trace, debug, info, warn, error or off")
      ->capture_default_str();
}

void configure_logging(const std::string& level) {
  const spdlog::level::level_enum parsed = spdlog::level::from_str(level);
  // spdlog maps unknown names to "off"; only the literal "off" may mean that.
  if (parsed == spdlog::level::off && level != "off") {
    throw InputError("invalid --log-level '" + level +
                     "'; use trace, debug, info, warn, error or off");
  }
  auto logger = spdlog::stderr_color_mt("mgap");
  logger->set_pattern("[%H:%M:%S.%e] [%^%l%$] %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(parsed);
}

int run_program(CLI::App& app, int argc, char** argv, const CommonOptions& common,
                const std::function<int()>& body) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // --help and --version are "errors" with exit code 0; real parse errors follow the same
    // one-line convention and exit status as any other invalid input.
    if (error.get_exit_code() == 0) {
      return app.exit(error);
    }
    std::cerr << app.get_name() << ": error: " << error.what() << "; see --help\n";
    return kExitInvalidInput;
  }
  try {
    configure_logging(common.log_level);
    return body();
  } catch (const InputError& error) {
    std::cerr << app.get_name() << ": error: " << error.what() << "\n";
    return kExitInvalidInput;
  } catch (const std::exception& error) {
    std::cerr << app.get_name() << ": unexpected failure: " << error.what() << "\n";
    return kExitFailure;
  }
}

}  // namespace mgap::cli
