// mgap-discrepancy: estimates the discrepancy between every pair of mpps of an embeddings bundle,
// with bootstrap intervals, fits the power-law model and writes `mgap.discrepancy/v1` JSON and a
// tidy CSV.

#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <filesystem>

#include "mgap/cli.hpp"
#include "mgap/discrepancy_json.hpp"
#include "mgap/embedding_bundle.hpp"
#include "mgap/error.hpp"
#include "mgap/power_law_fit.hpp"

namespace {

struct ProgramOptions {
  std::string manifest;
  std::string estimator = "mmd";
  int bootstrap = 200;
  double confidence = 0.95;
  std::string model = "power-law";
  double scale = 0.0;
  bool drop_nonfinite = false;
  long bandwidth_points = 2000;
  long block_rows = 512;
  int folds = 5;
  double inverse_regularization = 1.0;
  double weight_floor = 0.25;
  std::string output;
  std::string csv;
};

void add_options(CLI::App& app, ProgramOptions& options) {
  app.add_option("--manifest", options.manifest,
                 "Embeddings bundle manifest (mgap.embeddings/v1 JSON)")
      ->required();
  app.add_option("--estimator", options.estimator,
                 "mmd, mean-distance, frechet, proxy-a, paired-cosine or transfer-gap")
      ->capture_default_str();
  app.add_option("--bootstrap", options.bootstrap,
                 "Bootstrap resamples over tiles for the intervals; 0 disables them")
      ->capture_default_str();
  app.add_option("--confidence", options.confidence,
                 "Central probability of the percentile intervals, in (0, 1)")
      ->capture_default_str();
  app.add_option("--model", options.model,
                 "Model recorded for mgap-optimize: power-law (d = a |du|^b, du in octaves) or "
                 "table (measured matrix, bilinear in log2 mpp, power law outside)")
      ->capture_default_str();
  app.add_option("--scale", options.scale,
                 "Normalization scale: delta = d / scale; 0 uses the fitted value one octave "
                 "apart (d_octave), or 1 for the error-unit estimators proxy-a and transfer-gap")
      ->capture_default_str();
  app.add_flag("--drop-nonfinite", options.drop_nonfinite,
               "Drop embedding rows containing NaN or infinity instead of rejecting the bundle");
  app.add_option("--bandwidth-points", options.bandwidth_points,
                 "mmd: rows of the pooled subsample for the median-heuristic bandwidth")
      ->capture_default_str();
  app.add_option("--block-rows", options.block_rows,
                 "mmd: rows per Gram tile (memory per tile is block_rows^2 doubles)")
      ->capture_default_str();
  app.add_option("--folds", options.folds,
                 "proxy-a, transfer-gap: cross-validation folds")
      ->capture_default_str();
  app.add_option("--inverse-regularization", options.inverse_regularization,
                 "proxy-a, transfer-gap: C of the L2 logistic regression (larger is weaker)")
      ->capture_default_str();
  app.add_option("--weight-floor", options.weight_floor,
                 "Power-law fit: floor of the interval width, as a fraction of the median width")
      ->capture_default_str();
  app.add_option("--output", options.output, "Discrepancy JSON to write (mgap.discrepancy/v1)")
      ->required();
  app.add_option("--csv", options.csv,
                 "Tidy CSV to write: mpp_a,mpp_b,estimator,value,ci_low,ci_high");
}

int run(const ProgramOptions& options, const mgap::cli::CommonOptions& common) {
  const auto start = std::chrono::steady_clock::now();
  mgap::DiscrepancyOptions estimate_options;
  estimate_options.estimator = mgap::discrepancy_estimator_from_string(options.estimator);
  estimate_options.num_bootstrap = options.bootstrap;
  estimate_options.confidence_level = options.confidence;
  estimate_options.seed = common.seed;
  estimate_options.bandwidth_max_points = options.bandwidth_points;
  estimate_options.mmd.block_rows = options.block_rows;
  estimate_options.classifier.num_folds = options.folds;
  estimate_options.classifier.inverse_regularization = options.inverse_regularization;
  estimate_options.validate();
  const mgap::DiscrepancyModelKind model_kind =
      mgap::discrepancy_model_kind_from_string(options.model);
  if (options.scale < 0.0 || !std::isfinite(options.scale)) {
    throw mgap::InputError("--scale " + std::to_string(options.scale) +
                           " must be 0 (automatic) or a positive number");
  }
  mgap::PowerLawFitOptions fit_options;
  fit_options.weight_floor_fraction = options.weight_floor;
  fit_options.validate();
  for (const std::string& path : {options.output, options.csv}) {
    const std::filesystem::path folder = std::filesystem::path(path).parent_path();
    if (!path.empty() && !folder.empty() && !std::filesystem::is_directory(folder)) {
      throw mgap::InputError("output folder '" + folder.string() +
                             "' does not exist; create it first");
    }
  }

  spdlog::info("reading {}", options.manifest);
  mgap::BundleReadOptions read_options;
  read_options.drop_nonfinite = options.drop_nonfinite;
  const mgap::EmbeddingBundle bundle = mgap::read_embedding_bundle(options.manifest, read_options);
  mgap::DiscrepancyReport report = mgap::estimate_discrepancy(bundle, estimate_options);
  report.warnings.insert(report.warnings.begin(), bundle.warnings.begin(), bundle.warnings.end());

  const mgap::PowerLawFit fit = mgap::fit_power_law(report, fit_options);
  const mgap::DiscrepancyModel model =
      mgap::make_discrepancy_model(report, fit, model_kind, options.scale);
  spdlog::info("power law d = {:.6g} |du|^{:.4f} (R^2 {:.4f}, solver {}); normalization {} = {:.6g}",
               fit.a, fit.b, fit.r_squared, fit.solver_status, mgap::to_string(model.normalization),
               model.scale);
  if (!fit.converged) {
    spdlog::warn("the power-law fit did not converge ({}); check the residuals in {}",
                 fit.solver_status, options.output);
  }
  if (fit.b_at_bound) {
    spdlog::warn("the fitted exponent b = {} sits at a bound of [0.2, 3]", fit.b);
  }

  const nlohmann::json provenance = {
      {"program", "mgap-discrepancy"},
      {"model", mgap::to_string(model_kind)},
      {"drop_nonfinite", options.drop_nonfinite},
      {"bandwidth_points", options.bandwidth_points},
      {"folds", options.folds},
      {"inverse_regularization", options.inverse_regularization},
      {"weight_floor", options.weight_floor},
      {"requested_scale", options.scale}};
  mgap::write_discrepancy_json(options.output, report, fit, model, provenance);
  if (!options.csv.empty()) {
    mgap::write_discrepancy_csv(options.csv, report);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  spdlog::info("wrote {}{} in {:.1f} s", options.output,
               options.csv.empty() ? "" : " and " + options.csv, seconds);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Estimates the discrepancy between embeddings at every pair of mpps, with bootstrap "
      "intervals and a fitted power law d = a |log2 mpp_a - log2 mpp_b|^b, for mgap-optimize "
      "--discrepancy.",
      "mgap-discrepancy"};
  ProgramOptions options;
  mgap::cli::CommonOptions common;
  add_options(app, options);
  mgap::cli::add_common_options(app, common);
  return mgap::cli::run_program(app, argc, argv, common,
                                [&]() { return run(options, common); });
}
