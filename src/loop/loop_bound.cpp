// The bound side of a loop round: discrepancy of the latest embeddings, calibration of the bound
// to every run so far, and the next density.

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "loop_bound.hpp"
#include "mgap/atomic_file.hpp"
#include "mgap/bound_summary.hpp"
#include "mgap/density_json.hpp"
#include "mgap/discrepancy_json.hpp"
#include "mgap/error.hpp"
#include "mgap/power_law_fit.hpp"
#include "mgap/targets.hpp"
#include "mgap/version.hpp"

namespace mgap::loop {

namespace {

namespace fs = std::filesystem;

// Whether run i repeats the measurements of an earlier run (a density the loop had trained
// already), which must not count twice in the calibration.
bool repeats_earlier_run(const std::vector<LoopRun>& runs, std::size_t i) {
  for (std::size_t j = 0; j < i; ++j) {
    if (runs[j].folder == runs[i].folder) {
      return true;
    }
  }
  return false;
}

std::vector<CalibrationRun> calibration_runs(const std::vector<LoopRun>& runs,
                                             const std::vector<SamplingDensity>& densities) {
  std::vector<CalibrationRun> result;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    if (repeats_earlier_run(runs, i)) {
      continue;
    }
    std::vector<double> measured_error;
    for (const double accuracy : runs[i].balanced_accuracy) {
      measured_error.push_back(1.0 - accuracy);
    }
    result.push_back(CalibrationRun{runs[i].folder.generic_string(), densities[i],
                                    runs[i].test_mpps, std::move(measured_error)});
  }
  return result;
}

// The calibration input in the runs CSV format that mgap-optimize --calibrate reads; density
// files are named relative to the CSV's folder.
std::string calibration_runs_csv(const std::vector<LoopRun>& runs, int round) {
  std::string text = "run,density,test_mpp,balanced_error\n";
  for (std::size_t i = 0; i < runs.size(); ++i) {
    if (repeats_earlier_run(runs, i)) {
      continue;
    }
    const LoopRun& run = runs[i];
    std::string density = run.distribution;
    if (density != "du" && density != "cu") {
      density = fs::path(density).lexically_relative(round_folder(round)).generic_string();
    }
    for (std::size_t t = 0; t < run.test_mpps.size(); ++t) {
      text += fmt::format("{},{},{},{:.17g}\n", run.folder.generic_string(), density,
                          run.test_mpps[t], 1.0 - run.balanced_accuracy[t]);
    }
  }
  return text;
}

void log_calibration(int round, const CalibrationReport& report) {
  const std::string floors =
      report.parameters.floor_mpps.empty()
          ? fmt::format("{:.4g}", report.parameters.bound.floor)
          : fmt::format("{:.3f} per test mpp", fmt::join(report.parameters.floors, "/"));
  spdlog::info(
      "round {}: calibrated A={:.4g} beta={:.4g} l={:.4g} gamma={:.4g} lambda={}, R^2={:.3f}, "
      "RMS residual {:.4f}, leave-one-run-out RMS {:.4f}",
      round, report.parameters.bound.amplitude, report.parameters.bound.exponent,
      report.parameters.transfer_length, report.parameters.bound.discrepancy_weight, floors,
      report.r_squared, report.rms_residual, report.leave_one_out_rms);
}

// The calibrated bound at `test_mpps`, with the floor of each test mpp.
std::vector<double> bound_with_floors(const SamplingDensity& density, const TransferModel& model,
                                      const CalibratedParameters& calibrated,
                                      const std::vector<double>& test_mpps) {
  std::vector<double> bound = evaluate_bound(density, model, calibrated.bound, test_mpps).bound;
  for (std::size_t t = 0; t < bound.size(); ++t) {
    bound[t] += calibrated.floor_at(test_mpps[t]) - calibrated.bound.floor;
  }
  return bound;
}

}  // namespace

fs::path round_folder(int round) { return fs::path(fmt::format("round_{}", round)); }

DiscrepancyModel estimate_round_discrepancy(const LoopOptions& options, int round,
                                            const fs::path& manifest) {
  DiscrepancyOptions estimate = options.discrepancy;
  estimate.seed = options.seed;
  const EmbeddingBundle bundle = read_embedding_bundle(manifest);
  spdlog::info("round {}: estimating {} discrepancies from {}", round,
               to_string(estimate.estimator), manifest.string());
  const DiscrepancyReport report = estimate_discrepancy(bundle, estimate);
  const PowerLawFit fit = fit_power_law(report);
  if (!fit.converged) {
    spdlog::warn("round {}: the power-law fit did not converge ({})", round, fit.solver_status);
  }
  DiscrepancyModel model = make_discrepancy_model(report, fit, DiscrepancyModelKind::kPowerLaw);
  model.source_hash = report.manifest_hash;
  const fs::path folder = options.output_dir / round_folder(round);
  const nlohmann::json provenance = {{"program", "mgap-loop"}, {"round", round}};
  write_discrepancy_csv(folder / "discrepancy.csv", report);
  write_discrepancy_json(folder / "discrepancy.json", report, fit, model, provenance);
  spdlog::info("round {}: discrepancy d = {:.4g} |du|^{:.3f} (R^2 {:.3f})", round, model.a,
               model.b, fit.r_squared);
  return model;
}

RoundBound calibrate_and_optimize(const LoopOptions& options, int round,
                                  const DiscrepancyModel& discrepancy_model,
                                  const std::vector<LoopRun>& runs,
                                  const std::vector<SamplingDensity>& densities) {
  RoundBound result;
  result.round.round = round;
  result.round.discrepancy_a = discrepancy_model.a;
  result.round.discrepancy_b = discrepancy_model.b;
  const fs::path folder = options.output_dir / round_folder(round);
  write_file_atomically(folder / "calibration_runs.csv", calibration_runs_csv(runs, round));

  // 1. Calibration of the bound to every run so far.
  const NormalizedDiscrepancy discrepancy = to_normalized_discrepancy(
      discrepancy_model, (round_folder(round) / "discrepancy.json").generic_string());
  TransferModelOptions transfer;
  transfer.kernel = KernelKind::kDiscrepancy;
  transfer.transfer_length = options.calibration.initial.transfer_length;
  CalibrationOptions calibration = options.calibration;
  calibration.fit_transfer_length = true;
  calibration.seed = options.seed;
  result.round.calibration =
      calibrate_bound(calibration_runs(runs, densities), transfer, discrepancy, calibration);
  log_calibration(round, result.round.calibration);
  const BoundParameters& fitted = result.round.calibration.parameters.bound;
  if (fitted.amplitude == 0.0 && fitted.discrepancy_weight == 0.0) {
    spdlog::warn("round {}: the calibrated bound does not depend on the sampling density (A = 0 "
                 "and gamma = 0): the measured errors do not tell the trained densities apart, so "
                 "every density is optimal and the optimizer keeps its first start",
                 round);
  }
  nlohmann::json calibration_json = result.round.calibration.to_json();
  calibration_json["program"] = "mgap-loop";
  calibration_json["round"] = round;
  calibration_json["discrepancy"] = discrepancy.description;
  write_file_atomically(folder / "calibration.json", calibration_json.dump(2) + "\n");

  // 2. The calibrated bound over the domain, minimized.
  transfer.transfer_length = result.round.calibration.parameters.transfer_length;
  const BoundParameters& parameters = result.round.calibration.parameters.bound;
  const TransferModel model(transfer, discrepancy);
  const TargetSet targets = parse_targets(options.targets, "", options.domain, options.coordinate);
  const BoundProblem problem(model, parameters, options.coordinate, options.domain, options.bins,
                             targets);
  OptimizerOptions optimizer = options.optimizer;
  optimizer.objective = options.objective;
  optimizer.seed = options.seed;
  const OptimizationResult optimum = optimize(problem, optimizer);
  result.next_density.emplace(problem.to_density(optimum.masses));
  result.round.next_objective = optimum.objective;

  // 3. Forecasts at the test mpps: the next density, and every run of this round's fit.
  const CalibratedParameters& calibrated = result.round.calibration.parameters;
  const std::vector<double>& test_mpps = runs.back().test_mpps;
  result.next_forecast = bound_with_floors(*result.next_density, model, calibrated, test_mpps);
  for (const SamplingDensity& density : densities) {
    result.fitted.push_back(bound_with_floors(density, model, calibrated, test_mpps));
  }

  std::vector<std::pair<std::string, BoundCurve>> curves = {
      {"optimized", evaluate_bound(*result.next_density, model, parameters, targets.mpps)},
      {"du", evaluate_bound(make_discrete_uniform(options.domain, options.coordinate), model,
                            parameters, targets.mpps)},
      {"cu", evaluate_bound(make_continuous_uniform(options.domain, options.coordinate,
                                                    options.bins),
                            model, parameters, targets.mpps)}};
  write_bound_curves_csv(folder / "curves.csv", curves);

  nlohmann::json provenance = {{"program", "mgap-loop"},
                               {"program_version", kVersion},
                               {"seed", options.seed},
                               {"method", "optimize"},
                               {"round", round},
                               {"criterion", to_string(options.objective.criterion)},
                               {"objective", to_string(options.objective.objective)},
                               {"coordinate", to_string(options.coordinate)},
                               {"bins", options.bins},
                               {"kernel", model.describe()},
                               {"bound", parameters.to_json()},
                               {"targets", targets.mpps},
                               {"calibration", calibration_json},
                               {"objective_value", optimum.objective}};
  result.round.next_density = round_folder(round) / "next_density.json";
  write_density_json(options.output_dir / result.round.next_density, *result.next_density,
                     provenance);
  spdlog::info("round {}: next density written to {} (calibrated {} bound {:.4f})", round,
               result.round.next_density.string(), to_string(options.objective.objective),
               optimum.objective);
  return result;
}

}  // namespace mgap::loop
