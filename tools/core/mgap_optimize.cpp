// mgap-optimize: chooses a sampling density over mpp that minimizes the domain-adaptation bound (or
// maximizes coverage), or scores a given density, and writes the density JSON and bound curves.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <filesystem>
#include <iostream>
#include <limits>
#include <optional>

#include "mgap/bound.hpp"
#include "mgap/bound_summary.hpp"
#include "mgap/calibration.hpp"
#include "mgap/hash.hpp"
#include "mgap/atomic_file.hpp"
#include "mgap/cli.hpp"
#include "mgap/density_json.hpp"
#include "mgap/error.hpp"
#include "mgap/optimizer.hpp"
#include "mgap/version.hpp"

#ifdef MGAP_WITH_DISCREPANCY
#include "mgap/discrepancy_matrix.hpp"
#include "mgap/discrepancy_model.hpp"
#include "mgap/embedding_bundle.hpp"
#include "mgap/power_law_fit.hpp"
#endif

namespace {

struct ProgramOptions {
  std::string criterion = "bound";
  std::string objective = "maxavg";
  std::string coordinate = "log2_mpp";
  std::string kernel = "discrepancy";
  double ratio_exponent = 2.0;
  double entropy_weight = 1.0;
  double amplitude = 0.1;
  double exponent = 0.5;
  double transfer_length = 0.5;
  double discrepancy_weight = 0.1;
  double floor = 0.0;
  std::string power_law = "1,1";
  double discrepancy_scale = 0.0;
  std::string domain = "0.25,2.0";
  int bins = 128;
  std::string targets = "grid:64";
  std::string target_weights;
  std::string preserve;
  double preserve_tolerance = 0.0;
  double smoothness = 0.0;
  double density_floor = 0.0;
  int starts = 8;
  int threads = 0;
  int max_evaluations = 5000;
  std::string solver = "auto";
  std::string output = "density.json";
  std::string curves;
  std::string evaluate;
  std::string calibrate;
  std::string discrepancy;
  std::string manifest;
  std::string estimator = "mmd";
  int bootstrap = 200;
  std::string discrepancy_model = "power_law";
};

void add_options(CLI::App& app, ProgramOptions& options) {
  app.add_option("--criterion", options.criterion,
                 "bound: the full bound B_P(t); coverage: the coverage n_P(t) only")
      ->capture_default_str();
  app.add_option("--objective", options.objective,
                 "maxavg: best average over targets; minmax: best worst case over targets")
      ->capture_default_str();
  app.add_option("--coordinate", options.coordinate,
                 "Coordinate of bins, targets and entropy: log2_mpp (one unit per octave) or mpp")
      ->capture_default_str();
  app.add_option("--kernel", options.kernel,
                 "Transfer kernel: discrepancy (exp(-delta/l)) or ratio ((min/max mpp)^q)")
      ->capture_default_str();
  app.add_option("--ratio-exponent", options.ratio_exponent, "Exponent q of the ratio kernel")
      ->capture_default_str();
  app.add_option("--entropy-weight", options.entropy_weight,
                 "Entropy weight tau, in nats^-1 (coverage maxavg only)")
      ->capture_default_str();

  app.add_option("--amplitude", options.amplitude, "Source-error amplitude A of the bound")
      ->capture_default_str();
  app.add_option("--exponent", options.exponent, "Learning-curve exponent beta of the bound")
      ->capture_default_str();
  app.add_option("--transfer-length", options.transfer_length,
                 "Transfer length l of the discrepancy kernel, in units of the normalized "
                 "discrepancy (inf allowed)")
      ->capture_default_str();
  app.add_option("--discrepancy-weight", options.discrepancy_weight,
                 "Weight gamma of the discrepancy term of the bound")
      ->capture_default_str();
  app.add_option("--floor", options.floor, "Joint-optimal error lambda added to the bound")
      ->capture_default_str();
  app.add_option("--power-law", options.power_law,
                 "Discrepancy model d(u, v) = A |u - v|^B in log2 mpp, as A,B")
      ->capture_default_str();
  app.add_option("--discrepancy-scale", options.discrepancy_scale,
                 "Divide the discrepancy by this scale; 0 normalizes by the model's value one "
                 "octave apart")
      ->capture_default_str();

  app.add_option("--domain", options.domain, "Domain LO,HI in mpp")->capture_default_str();
  app.add_option("--bins", options.bins, "Number of bins of equal width in the coordinate")
      ->capture_default_str();
  app.add_option("--targets", options.targets,
                 "Targets: grid:N (equally spaced in the coordinate), test (the seven test mpps) "
                 "or MPP,MPP,...")
      ->capture_default_str();
  app.add_option("--target-weights", options.target_weights,
                 "Relative target weights W,W,... (default equal)");
  app.add_option("--preserve", options.preserve,
                 "Keep the bound at the standard mpps no worse than this reference: du, cu or a "
                 "density JSON (bound criterion)");
  app.add_option("--preserve-tolerance", options.preserve_tolerance,
                 "Slack epsilon of --preserve, in bound units")
      ->capture_default_str();
  app.add_option("--smoothness", options.smoothness,
                 "Smoothness penalty rho on squared differences of neighbouring bin masses")
      ->capture_default_str();
  app.add_option("--density-floor", options.density_floor,
                 "Minimum density per unit of the coordinate in every bin")
      ->capture_default_str();
  app.add_option("--starts", options.starts, "Number of SLSQP starts (CU, smoothed DU, Dirichlet)")
      ->capture_default_str();
  app.add_option("--threads", options.threads, "Threads for SLSQP starts; 0 uses every core")
      ->capture_default_str();
  app.add_option("--max-evaluations", options.max_evaluations,
                 "Maximum objective evaluations per SLSQP start")
      ->capture_default_str();
  app.add_option("--solver", options.solver,
                 "auto: exact methods for the coverage criterion; slsqp: NLopt SLSQP for all")
      ->capture_default_str();

  app.add_option("--output", options.output, "Density JSON to write (mgap.density/v1)")
      ->capture_default_str();
  app.add_option("--curves", options.curves,
                 "CSV of bound, coverage and discrepancy term per target for the result, DU and CU");
  auto* power_law = app.get_option("--power-law");
  app.add_option("--discrepancy", options.discrepancy,
                 "Discrepancy model from a mgap.discrepancy/v1 JSON (mgap-discrepancy) instead of "
                 "--power-law")
      ->excludes(power_law);
  app.add_option("--manifest", options.manifest,
                 "Estimate the discrepancy model from this embeddings manifest first")
      ->excludes(power_law)
      ->excludes("--discrepancy");
  app.add_option("--estimator", options.estimator,
                 "Estimator for --manifest: mmd, mean-distance, frechet, proxy-a, paired-cosine or "
                 "transfer-gap")
      ->capture_default_str();
  app.add_option("--bootstrap", options.bootstrap,
                 "Bootstrap resamples for --manifest intervals (they weight the power-law fit); 0 "
                 "disables")
      ->capture_default_str();
  app.add_option("--discrepancy-model", options.discrepancy_model,
                 "Model of --discrepancy or --manifest: power_law, or table (measured matrix, "
                 "bilinear in log2 mpp, power law outside)")
      ->capture_default_str();
  app.add_option("--calibrate", options.calibrate,
                 "Fit A, beta, l, gamma and lambda to measured errors first: a CSV with header "
                 "run,density,test_mpp,balanced_error");
  app.add_option("--evaluate", options.evaluate,
                 "Score this density (du, cu, point:MPP or a JSON file) instead of optimizing");
}

mgap::MppDomain parse_domain(const std::string& text) {
  const std::vector<double> values = mgap::parse_double_list(text, "--domain");
  if (values.size() != 2) {
    throw mgap::InputError("invalid --domain '" + text + "'; give LO,HI in mpp, e.g. 0.25,2.0");
  }
  mgap::MppDomain domain{values[0], values[1]};
  domain.validate();
  return domain;
}

mgap::NormalizedDiscrepancy parse_power_law(const std::string& text, double scale) {
  const std::vector<double> values = mgap::parse_double_list(text, "--power-law");
  if (values.size() != 2) {
    throw mgap::InputError("invalid --power-law '" + text + "'; give A,B, e.g. 1,1");
  }
  return mgap::NormalizedDiscrepancy::power_law(values[0], values[1], scale);
}

#ifdef MGAP_WITH_DISCREPANCY
// The normalized discrepancy delta of a model read from a file or estimated from embeddings.
mgap::NormalizedDiscrepancy from_model(mgap::DiscrepancyModel model, double user_scale,
                                       const std::string& source) {
  if (user_scale > 0.0) {
    model.normalization = mgap::NormalizationKind::kUser;
    model.scale = user_scale;
  }
  model.validate();
  const mgap::NormalizedDiscrepancy result = mgap::to_normalized_discrepancy(model, source);
  spdlog::info("discrepancy model from {}: {} d = {:.6g} |du|^{:.4f}, normalized by {} = {:.6g}",
               source, mgap::to_string(model.kind), model.a, model.b,
               mgap::to_string(model.normalization), model.scale);
  return result;
}

mgap::DiscrepancyModel estimate_model(const ProgramOptions& options, std::uint64_t seed) {
  mgap::DiscrepancyOptions estimate;
  estimate.estimator = mgap::discrepancy_estimator_from_string(options.estimator);
  estimate.num_bootstrap = options.bootstrap;
  estimate.seed = seed;
  estimate.validate();
  spdlog::info("estimating {} discrepancies from {}", options.estimator, options.manifest);
  const mgap::EmbeddingBundle bundle = mgap::read_embedding_bundle(options.manifest);
  const mgap::DiscrepancyReport report = mgap::estimate_discrepancy(bundle, estimate);
  const mgap::PowerLawFit fit = mgap::fit_power_law(report);
  if (!fit.converged) {
    spdlog::warn("the power-law fit did not converge ({})", fit.solver_status);
  }
  mgap::DiscrepancyModel model = mgap::make_discrepancy_model(
      report, fit, mgap::discrepancy_model_kind_from_string(options.discrepancy_model));
  model.source_hash = report.manifest_hash;
  return model;
}
#endif

// The discrepancy model from --discrepancy, --manifest or --power-law, in that order.
mgap::NormalizedDiscrepancy make_discrepancy(const ProgramOptions& options, std::uint64_t seed) {
  if (options.discrepancy.empty() && options.manifest.empty()) {
    return parse_power_law(options.power_law, options.discrepancy_scale);
  }
#ifdef MGAP_WITH_DISCREPANCY
  if (!options.discrepancy.empty()) {
    mgap::DiscrepancyModel model = mgap::read_discrepancy_json(options.discrepancy);
    if (options.discrepancy_model == "table" && model.kind != mgap::DiscrepancyModelKind::kTable) {
      throw mgap::InputError("--discrepancy-model table needs a discrepancy file with a table model; "
                             "re-run mgap-discrepancy with --model table");
    }
    return from_model(std::move(model), options.discrepancy_scale, options.discrepancy);
  }
  return from_model(estimate_model(options, seed), options.discrepancy_scale, options.manifest);
#else
  (void)seed;
  throw mgap::InputError("this mgap-optimize was built without the discrepancy module; rebuild "
                         "with -DMGAP_MODULES including discrepancy");
#endif
}

nlohmann::json targets_to_json(const mgap::TargetSet& targets) {
  return {{"specification", targets.specification},
          {"mpps", targets.mpps},
          {"weights", targets.weights}};
}

nlohmann::json starts_to_json(const std::vector<mgap::StartReport>& starts) {
  nlohmann::json array = nlohmann::json::array();
  for (const mgap::StartReport& start : starts) {
    array.push_back({{"start", start.start},
                     {"method", start.method},
                     {"status", mgap::to_string(start.status)},
                     {"solver_message", start.solver_message},
                     {"evaluations", start.evaluations},
                     {"objective", start.objective},
                     {"max_violation", start.max_violation},
                     {"wall_seconds", start.wall_seconds},
                     {"selected", start.selected}});
  }
  return array;
}

// Logs every start of a failed optimization, so the user sees why none qualified.
void log_failed_starts(const mgap::OptimizationFailed& failure) {
  for (const mgap::StartReport& start : failure.starts()) {
    spdlog::error("start {}: {} ({}), objective {:.8g}, violation {:.2e}", start.start,
                  mgap::to_string(start.status), start.solver_message, start.objective,
                  start.max_violation);
  }
}

// Fits the bound to measured errors, starting from the command-line parameters, and prints the fit.
mgap::CalibrationReport calibrate(const std::string& runs_path, const mgap::MppDomain& domain,
                                  mgap::Coordinate coordinate, int num_bins,
                                  const mgap::TransferModelOptions& transfer,
                                  const mgap::NormalizedDiscrepancy& discrepancy,
                                  const mgap::BoundParameters& initial, std::uint64_t seed) {
  const std::vector<mgap::CalibrationRun> runs =
      mgap::read_calibration_runs(runs_path, domain, coordinate, num_bins);
  mgap::CalibrationOptions options;
  options.initial.bound = initial;
  options.initial.transfer_length = transfer.transfer_length;
  options.fit_transfer_length = transfer.kernel == mgap::KernelKind::kDiscrepancy;
  options.seed = seed;
  spdlog::info("calibrating the bound to {} runs from {}", runs.size(), runs_path);
  const mgap::CalibrationReport report =
      mgap::calibrate_bound(runs, transfer, discrepancy, options);
  std::cout << fmt::format(
      "calibration: A={:.5g} beta={:.5g} l={:.5g} gamma={:.5g} lambda={:.5g}  R^2={:.4f}  "
      "RMS residual={:.4g}  leave-one-run-out RMS={:.4g}\n",
      report.parameters.bound.amplitude, report.parameters.bound.exponent,
      report.parameters.transfer_length, report.parameters.bound.discrepancy_weight,
      report.parameters.bound.floor, report.r_squared, report.rms_residual,
      report.leave_one_out_rms);
  for (const mgap::RunResidual& run : report.runs) {
    std::cout << fmt::format("  run {}: RMS residual {:.4g}, leave-one-out RMS {:.4g}\n", run.name,
                             run.rms_residual, run.leave_one_out_rms);
  }
  return report;
}

// Rejects an output path whose folder does not exist before any work is done.
void check_output_folder(const std::string& path, const std::string& option) {
  const std::filesystem::path folder = std::filesystem::path(path).parent_path();
  if (!path.empty() && !folder.empty() && !std::filesystem::is_directory(folder)) {
    throw mgap::InputError("the folder '" + folder.string() + "' of " + option + " '" + path +
                           "' does not exist; create it first");
  }
}

int run(const ProgramOptions& options, const mgap::cli::CommonOptions& common) {
  check_output_folder(options.output, "--output");
  check_output_folder(options.curves, "--curves");
  const mgap::MppDomain domain = parse_domain(options.domain);
  const mgap::Coordinate coordinate = mgap::coordinate_from_string(options.coordinate);
  mgap::ObjectiveSpec spec;
  spec.criterion = mgap::criterion_from_string(options.criterion);
  spec.objective = mgap::objective_from_string(options.objective);
  spec.entropy_weight = options.entropy_weight;
  spec.validate();
  if (options.bins < 2) {
    throw mgap::InputError(fmt::format("invalid --bins {}; use 2 or more", options.bins));
  }

  mgap::TransferModelOptions transfer;
  transfer.kernel = mgap::kernel_kind_from_string(options.kernel);
  transfer.ratio_exponent = options.ratio_exponent;
  transfer.transfer_length = options.transfer_length;
  transfer.validate();
  const mgap::NormalizedDiscrepancy discrepancy = make_discrepancy(options, common.seed);
  if (transfer.kernel == mgap::KernelKind::kRatio &&
      (!options.discrepancy.empty() || !options.manifest.empty())) {
    throw mgap::InputError(
        "the ratio kernel uses |log2 mpp difference| as its discrepancy; use --kernel "
        "discrepancy with --discrepancy or --manifest");
  }
  mgap::BoundParameters parameters;
  parameters.amplitude = options.amplitude;
  parameters.exponent = options.exponent;
  parameters.discrepancy_weight = options.discrepancy_weight;
  parameters.floor = options.floor;
  parameters.validate();

  std::optional<mgap::CalibrationReport> calibration;
  if (!options.calibrate.empty()) {
    calibration = calibrate(options.calibrate, domain, coordinate, options.bins, transfer,
                            discrepancy, parameters, common.seed);
    parameters = calibration->parameters.bound;
    transfer.transfer_length = calibration->parameters.transfer_length;
  }
  const mgap::TransferModel model(transfer, discrepancy);

  const mgap::TargetSet targets =
      mgap::parse_targets(options.targets, options.target_weights, domain, coordinate);
  spdlog::info("building the bound on {} bins in {} for {} targets", options.bins,
               mgap::to_string(coordinate), targets.mpps.size());
  const mgap::BoundProblem problem(model, parameters, coordinate, domain, options.bins, targets);

  mgap::OptimizerOptions optimizer;
  optimizer.objective = spec;
  optimizer.num_starts = options.starts;
  optimizer.seed = common.seed;
  optimizer.smoothness = options.smoothness;
  optimizer.density_floor = options.density_floor;
  optimizer.num_threads = options.threads;
  optimizer.max_evaluations = options.max_evaluations;
  if (options.solver == "slsqp") {
    optimizer.solver = mgap::SolverChoice::kSlsqp;
  } else if (options.solver != "auto") {
    throw mgap::InputError("unknown --solver '" + options.solver + "'; use auto or slsqp");
  }
  if (!options.preserve.empty()) {
    mgap::TargetSet standard;
    for (const double mpp : mgap::standard_mpps()) {
      if (domain.contains(mpp)) {
        standard.mpps.push_back(mpp);
      }
    }
    standard.weights.assign(standard.mpps.size(), 1.0 / static_cast<double>(standard.mpps.size()));
    standard.specification = "standard";
    const mgap::SamplingDensity reference =
        mgap::resolve_density(options.preserve, domain, coordinate, options.bins);
    const mgap::BoundCurve reference_curve =
        mgap::evaluate_bound(reference, model, parameters, standard.mpps);
    if (!std::isfinite(options.preserve_tolerance) || options.preserve_tolerance < 0.0) {
      throw mgap::InputError(fmt::format("invalid --preserve-tolerance {}; it must be >= 0",
                                         options.preserve_tolerance));
    }
    optimizer.preserve = mgap::PreserveConstraint{
        mgap::BoundProblem(model, parameters, coordinate, domain, options.bins, standard),
        reference_curve.bound, options.preserve_tolerance, options.preserve};
  }

  nlohmann::json provenance = {
      {"program", "mgap-optimize"},
      {"program_version", mgap::kVersion},
      {"seed", common.seed},
      {"criterion", mgap::to_string(spec.criterion)},
      {"objective", mgap::to_string(spec.objective)},
      {"coordinate", mgap::to_string(coordinate)},
      {"bins", options.bins},
      {"kernel", model.describe()},
      {"bound", parameters.to_json()},
      {"targets", targets_to_json(targets)},
  };
  if (spec.criterion == mgap::Criterion::kCoverage && spec.objective == mgap::Objective::kMaxAvg) {
    provenance["entropy_weight"] = spec.entropy_weight;
  }
  if (calibration) {
    provenance["calibration"] = calibration->to_json();
    provenance["calibration"]["runs_file"] = options.calibrate;
    provenance["calibration"]["runs_file_hash"] =
        mgap::fnv1a_hex(mgap::read_text_file(options.calibrate));
  }

  std::optional<mgap::SamplingDensity> result;
  std::string result_name;
  if (!options.evaluate.empty()) {
    result = mgap::resolve_density(options.evaluate, domain, coordinate, options.bins);
    result_name = options.evaluate == "du" || options.evaluate == "cu" ? options.evaluate : "evaluated";
    provenance["method"] = "evaluate";
    provenance["evaluated"] = options.evaluate;
  } else {
    spdlog::info("optimizing: criterion {}, objective {}", mgap::to_string(spec.criterion),
                 mgap::to_string(spec.objective));
    mgap::OptimizationResult optimum;
    try {
      optimum = mgap::optimize(problem, optimizer);
    } catch (const mgap::OptimizationFailed& failure) {
      log_failed_starts(failure);
      spdlog::error("{}", failure.what());
      return mgap::cli::kExitFailure;
    }
    result = problem.to_density(optimum.masses);
    result_name = "optimized";
    provenance["method"] = "optimize";
    provenance["solver"] = {{"starts", starts_to_json(optimum.starts)},
                            {"max_violation", optimum.max_violation},
                            {"smoothness", options.smoothness},
                            {"density_floor", options.density_floor}};
    if (optimizer.preserve) {
      provenance["preserve"] = {{"reference", options.preserve},
                                {"tolerance", options.preserve_tolerance},
                                {"mpps", optimizer.preserve->problem.targets().mpps},
                                {"reference_bound", optimizer.preserve->reference_bound}};
    }
    spdlog::info("start {} selected, objective {:.10g}",
                 optimum.starts[optimum.selected_start].start, optimum.objective);
  }

  // Curves and the summary table for the result, DU and CU.
  std::vector<double> test_targets;
  for (const double mpp : mgap::test_mpps()) {
    if (domain.contains(mpp)) {
      test_targets.push_back(mpp);
    }
  }
  // The references follow the result; a result that is itself du or cu is not listed twice.
  std::vector<std::pair<std::string, mgap::SamplingDensity>> distributions = {{result_name, *result}};
  if (result_name != "du") {
    distributions.emplace_back("du", mgap::make_discrete_uniform(domain, coordinate));
  }
  if (result_name != "cu") {
    distributions.emplace_back("cu", mgap::make_continuous_uniform(domain, coordinate, options.bins));
  }
  std::vector<std::pair<std::string, mgap::BoundCurve>> curves;
  std::vector<mgap::BoundSummary> summaries;
  for (const auto& [name, density] : distributions) {
    const mgap::BoundCurve curve = mgap::evaluate_bound(density, model, parameters, targets.mpps);
    summaries.push_back(mgap::summarize_bound(
        name, curve, targets.weights, mgap::evaluate_bound(density, model, parameters, test_targets)));
    curves.emplace_back(name, curve);
  }
  const mgap::DensitySummary result_summary = result->summary();
  provenance["objective_value"] =
      mgap::objective_value(spec, curves.front().second, targets.weights,
                            domain.length(coordinate), result_summary.has_entropy,
                            result_summary.entropy_nats);
  provenance["objective_direction"] = mgap::is_maximized(spec.criterion) ? "maximize" : "minimize";

  // The density JSON is written last, so its presence means that the whole run succeeded.
  if (!options.curves.empty()) {
    mgap::write_bound_curves_csv(options.curves, curves);
    spdlog::info("wrote {}", options.curves);
  }
  mgap::write_density_json(options.output, *result, provenance);
  spdlog::info("wrote {}", options.output);
  std::cout << mgap::format_bound_table(summaries);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Optimize a sampling density over magnification (mpp) for pretraining, or score one.\n"
      "Writes a mgap.density/v1 JSON and, with --curves, the bound per target for the result, "
      "discrete uniform (DU) and continuous uniform (CU) sampling."};
  app.name("mgap-optimize");
  ProgramOptions options;
  mgap::cli::CommonOptions common;
  add_options(app, options);
  mgap::cli::add_common_options(app, common);
  return mgap::cli::run_program(app, argc, argv, common, [&]() { return run(options, common); });
}
