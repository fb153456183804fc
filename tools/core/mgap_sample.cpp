// mgap-sample: draws mpps from a sampling density, for pipelines outside mgap.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <iostream>

#include "mgap/atomic_file.hpp"
#include "mgap/cli.hpp"
#include "mgap/density_json.hpp"
#include "mgap/error.hpp"

namespace {

struct ProgramOptions {
  std::string density = "cu";
  std::string domain = "0.25,2.0";
  std::string coordinate = "log2_mpp";
  int bins = 128;
  long long count = 1000;
  std::string output;
};

int run(const ProgramOptions& options, const mgap::cli::CommonOptions& common) {
  const std::vector<double> bounds = mgap::parse_double_list(options.domain, "--domain");
  if (bounds.size() != 2) {
    throw mgap::InputError("invalid --domain '" + options.domain + "'; give LO,HI in mpp");
  }
  if (options.count < 1) {
    throw mgap::InputError(fmt::format("invalid --count {}; draw at least 1 mpp", options.count));
  }
  const mgap::SamplingDensity density =
      mgap::resolve_density(options.density, mgap::MppDomain{bounds[0], bounds[1]},
                            mgap::coordinate_from_string(options.coordinate), options.bins);
  mgap::RandomEngine engine(common.seed);

  std::string text = "index,mpp,log2_mpp\n";
  for (long long i = 0; i < options.count; ++i) {
    const double mpp = density.sample(engine);
    text += fmt::format("{},{:.17g},{:.17g}\n", i, mpp, std::log2(mpp));
  }
  if (options.output.empty()) {
    std::cout << text;
  } else {
    mgap::write_file_atomically(options.output, text);
    spdlog::info("wrote {} mpps to {}", options.count, options.output);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Draw mpps from a sampling density by inverse CDF. Writes CSV index,mpp,log2_mpp; the same "
      "seed gives the same draws."};
  app.name("mgap-sample");
  ProgramOptions options;
  mgap::cli::CommonOptions common;
  app.add_option("--density", options.density,
                 "Density JSON file, or du, cu or point:MPP")
      ->capture_default_str();
  app.add_option("--domain", options.domain, "Domain LO,HI in mpp for du, cu and point")
      ->capture_default_str();
  app.add_option("--coordinate", options.coordinate, "Coordinate of cu: log2_mpp or mpp")
      ->capture_default_str();
  app.add_option("--bins", options.bins, "Bins of cu")->capture_default_str();
  app.add_option("--count", options.count, "Number of mpps to draw")->capture_default_str();
  app.add_option("--output", options.output, "CSV file to write; standard output if not given");
  mgap::cli::add_common_options(app, common);
  return mgap::cli::run_program(app, argc, argv, common, [&]() { return run(options, common); });
}
