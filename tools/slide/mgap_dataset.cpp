// mgap-dataset: synthetic cohorts, multi-magnification benchmarks, sampled tiles and slide metadata.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <iostream>
#include <optional>

#include "mgap/benchmark_dataset.hpp"
#include "mgap/cli.hpp"
#include "mgap/density_json.hpp"
#include "mgap/error.hpp"
#include "mgap/magnification.hpp"
#include "mgap/slide.hpp"
#include "mgap/synthetic_tissue.hpp"
#include "mgap/tile_sampler.hpp"

namespace {

int run_synth(const mgap::SyntheticCohortOptions& options, const std::string& compression) {
  mgap::SyntheticCohortOptions resolved = options;
  resolved.compression = mgap::tiff_compression_from_string(compression);
  const auto report = mgap::write_synthetic_cohort(resolved);
  spdlog::info("wrote {} slides and {} labelled regions to '{}'", report.slides.size(),
               report.regions.size(), resolved.output_dir.string());
  return 0;
}

int run_build(mgap::BuildBenchmarkOptions options, const std::string& mpps, double input_mpp) {
  options.target_mpps = mgap::cli::parse_double_list(mpps, "--mpps");
  if (input_mpp > 0.0) {
    options.input_mpp = input_mpp;
  }
  const auto report = mgap::build_benchmark(options);
  std::cout << fmt::format("regions {} written {} skipped_too_small {} skipped_too_coarse {} "
                           "slides {}\n",
                           report.num_regions, report.num_written, report.num_skipped_too_small,
                           report.num_skipped_too_coarse, report.num_slides);
  return 0;
}

struct TilesCommand {
  std::string density = "cu";
  std::string slides;
  std::string domain = "0.25,2.0";
  std::string coordinate = "log2_mpp";
  int bins = 64;
  std::string output;
  double slide_mpp = 0.0;
  mgap::TileSamplerOptions sampler;
};

int run_tiles(TilesCommand command, std::uint64_t seed) {
  const std::vector<double> bounds = mgap::cli::parse_double_list(command.domain, "--domain");
  if (bounds.size() != 2) {
    throw mgap::InputError("invalid --domain '" + command.domain + "'; give LO,HI in mpp");
  }
  const mgap::MppDomain domain{bounds[0], bounds[1]};
  domain.validate();
  const mgap::SamplingDensity density = mgap::resolve_density(
      command.density, domain, mgap::coordinate_from_string(command.coordinate), command.bins);
  std::vector<std::filesystem::path> slides;
  for (const auto& path : mgap::cli::split_list(command.slides)) {
    slides.emplace_back(path);
  }
  command.sampler.seed = seed;
  if (command.slide_mpp > 0.0) {
    command.sampler.slide.mpp.override_mpp = command.slide_mpp;
  }
  mgap::write_sampled_tiles(slides, density, command.sampler, command.output);
  spdlog::info("wrote {} tiles to '{}'", command.sampler.num_tiles, command.output);
  return 0;
}

int run_info(const std::string& path, double override_mpp, bool allow_objective_power) {
  mgap::SlideOpenOptions options;
  if (override_mpp > 0.0) {
    options.mpp.override_mpp = override_mpp;
  }
  options.mpp.allow_objective_power = allow_objective_power;
  const mgap::Slide slide(path, options);
  std::cout << fmt::format("file {}\nbackend {}\nmpp_x {}\nmpp_y {}\nmpp_source {}\nmpp_key {}\n",
                           path, mgap::to_string(slide.backend()), slide.mpp().mpp_x,
                           slide.mpp().mpp_y, mgap::to_string(slide.mpp().source),
                           slide.mpp().key);
  for (int level = 0; level < slide.num_levels(); ++level) {
    const auto& info = slide.levels()[level];
    std::cout << fmt::format("level {} {} x {} px downsample {:.4f} x {:.4f}\n", level,
                             info.width, info.height, info.downsample_x, info.downsample_y);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"mgap-dataset: synthetic H&E-like cohorts, multi-magnification benchmarks and "
               "tiles sampled at mpps drawn from a density"};
  app.require_subcommand(1);
  // --seed and --log-level may follow the subcommand.
  app.fallthrough();
  mgap::cli::CommonOptions common;
  mgap::cli::add_common_options(app, common);

  mgap::SyntheticCohortOptions synth;
  std::string compression = "jpeg";
  CLI::App* synth_command = app.add_subcommand(
      "synth", "Write a synthetic cohort: pyramidal TIFF slides and labelled PNG regions");
  synth_command->add_option("--output", synth.output_dir,
                            "Output folder (must not exist or be empty)")
      ->required();
  synth_command->add_option("--slides", synth.num_slides,
                            "Number of slides; slide i has class i mod 4")
      ->capture_default_str();
  synth_command->add_option("--size", synth.slide_size_px, "Slide side in pixels")
      ->capture_default_str();
  synth_command->add_option("--region-size", synth.region_size_px,
                            "Side of the labelled regions in pixels")
      ->capture_default_str();
  synth_command->add_option("--mpp", synth.mpp, "Pixel size of the slides in microns per pixel")
      ->capture_default_str();
  synth_command->add_option("--compression", compression, "TIFF tile compression: jpeg, deflate "
                            "or none")
      ->capture_default_str();
  synth_command->add_option("--jpeg-quality", synth.jpeg_quality, "JPEG quality, 1 to 100")
      ->capture_default_str();

  mgap::BuildBenchmarkOptions build;
  std::string mpps = "0.25,0.375,0.5,0.75,1.0,1.5,2.0";
  double input_mpp = 0.0;
  CLI::App* build_command = app.add_subcommand(
      "build", "Build a TCGA-MS benchmark (mpp_{mpp}/{slide}_{x}_{y}.png and labels.csv) from "
               "class folders of images");
  build_command->add_option("--input", build.input_dir,
                            "Folder of class folders: INPUT/{class}/{image}.png")
      ->required();
  build_command->add_option("--output", build.output_dir,
                            "Output folder (must not exist or be empty)")
      ->required();
  build_command->add_option("--mpps", mpps, "Target pixel sizes in microns per pixel")
      ->capture_default_str();
  build_command->add_option("--tile-size", build.tile_size_px, "Output tile side in pixels")
      ->capture_default_str();
  build_command->add_option("--folds", build.num_folds,
                            "Number of folds (grouped by slide, stratified by label; at least 3)")
      ->capture_default_str();
  build_command->add_option("--input-mpp", input_mpp,
                            "Pixel size of the input images in microns per pixel, used when their "
                            "metadata has none (0: metadata only)")
      ->capture_default_str();

  TilesCommand tiles;
  tiles.sampler.num_tiles = 100;
  CLI::App* tiles_command = app.add_subcommand(
      "tiles", "Sample tiles at mpps drawn from a density, centred in tissue, and write them as "
               "PNG with tiles.csv");
  tiles_command->add_option("--slides", tiles.slides, "Comma-separated slide or image files")
      ->required();
  tiles_command->add_option("--output", tiles.output,
                            "Output folder (must not exist or be empty)")
      ->required();
  tiles_command->add_option("--density", tiles.density,
                            "Density JSON file, or du, cu or point:MPP")
      ->capture_default_str();
  tiles_command->add_option("--domain", tiles.domain, "Domain LO,HI in mpp for du, cu and point")
      ->capture_default_str();
  tiles_command->add_option("--coordinate", tiles.coordinate, "Coordinate of cu: log2_mpp or mpp")
      ->capture_default_str();
  tiles_command->add_option("--bins", tiles.bins, "Bins of cu")->capture_default_str();
  tiles_command->add_option("--count", tiles.sampler.num_tiles, "Number of tiles")
      ->capture_default_str();
  tiles_command->add_option("--tile-size", tiles.sampler.tile_size_px, "Tile side in pixels")
      ->capture_default_str();
  tiles_command->add_option("--threads", tiles.sampler.num_threads, "Worker threads")
      ->capture_default_str();
  tiles_command->add_option("--slide-mpp", tiles.slide_mpp,
                            "Pixel size in microns per pixel for slides whose metadata has none "
                            "(0: metadata only)")
      ->capture_default_str();

  std::string info_path;
  double info_mpp = 0.0;
  bool objective_power = false;
  CLI::App* info_command =
      app.add_subcommand("info", "Print a slide's levels, pixel size and its metadata source");
  info_command->add_option("path", info_path, "Slide or image file")->required();
  info_command->add_option("--mpp", info_mpp,
                           "Pixel size in microns per pixel when the file has none (0: none)")
      ->capture_default_str();
  info_command->add_flag("--allow-objective-power", objective_power,
                         "Approximate mpp as 10 / objective power as a last resort");

  return mgap::cli::run_program(app, argc, argv, common, [&]() {
    if (*synth_command) {
      synth.seed = common.seed;
      return run_synth(synth, compression);
    }
    if (*build_command) {
      build.seed = common.seed;
      return run_build(build, mpps, input_mpp);
    }
    if (*tiles_command) {
      return run_tiles(tiles, common.seed);
    }
    return run_info(info_path, info_mpp, objective_power);
  });
}
