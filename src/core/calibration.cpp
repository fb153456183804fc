#include "mgap/calibration.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <nlopt.hpp>
#include <sstream>

#include "mgap/atomic_file.hpp"
#include "mgap/density_json.hpp"
#include "mgap/error.hpp"
#include "mgap/parse.hpp"
#include "mgap/random.hpp"

namespace mgap {

namespace {

constexpr int kNumParameters = 5;  // A, beta, l, gamma, lambda
// BOBYQA stops when a step changes the parameters by less than this, relative.
constexpr double kParameterTolerance = 1e-10;

std::vector<double> to_vector(const CalibratedParameters& parameters) {
  return {parameters.bound.amplitude, parameters.bound.exponent, parameters.transfer_length,
          parameters.bound.discrepancy_weight, parameters.bound.floor};
}

CalibratedParameters from_vector(const std::vector<double>& values) {
  CalibratedParameters parameters;
  parameters.bound.amplitude = values[0];
  parameters.bound.exponent = values[1];
  parameters.transfer_length = values[2];
  parameters.bound.discrepancy_weight = values[3];
  parameters.bound.floor = values[4];
  return parameters;
}

// One run with the parts of the bound that do not depend on the fitted parameters: for each test
// mpp, the (mass weight, delta) pairs of every quadrature node and atom. Each fit evaluation then
// costs one exponential per pair instead of fresh quadrature.
struct PrecomputedRun {
  const CalibrationRun* run = nullptr;
  std::vector<std::vector<std::pair<double, double>>> terms;  // [test mpp][node]
};

PrecomputedRun precompute(const CalibrationRun& run, const TransferModel& model) {
  PrecomputedRun result;
  result.run = &run;
  const SamplingDensity& density = run.density;
  for (const double target : run.test_mpps) {
    std::vector<std::pair<double, double>> terms;
    for (int k = 0; k < density.num_bins(); ++k) {
      const double mass = density.bin_masses()[k];
      if (mass == 0.0) {
        continue;
      }
      for (const QuadratureNode& node : bin_average_nodes(density.coordinate(), density.edges_mpp()[k],
                                                          density.edges_mpp()[k + 1], target)) {
        terms.emplace_back(mass * node.weight, model.discrepancy(node.mpp, target));
      }
    }
    for (const DensityAtom& atom : density.atoms()) {
      terms.emplace_back(atom.mass, model.discrepancy(atom.mpp, target));
    }
    result.terms.push_back(std::move(terms));
  }
  return result;
}

// The kernel is exp(-delta / l_effective): l for the discrepancy kernel, 1 / (q ln 2) for the
// ratio kernel (delta = |log2 x - log2 t|), and 1 everywhere when l is infinite.
double effective_length(const TransferModelOptions& transfer, double transfer_length) {
  return transfer.kernel == KernelKind::kRatio ? 1.0 / (transfer.ratio_exponent * std::log(2.0))
                                               : transfer_length;
}

// The bound without its floor, A n^-beta + gamma m / n, at each test mpp of the run.
std::vector<double> predict_without_floor(const PrecomputedRun& run,
                                          const CalibratedParameters& parameters,
                                          const TransferModelOptions& transfer) {
  const double length = effective_length(transfer, parameters.transfer_length);
  const BoundParameters& bound = parameters.bound;
  std::vector<double> predicted;
  for (const auto& terms : run.terms) {
    double coverage = 0.0;
    double weighted_discrepancy = 0.0;
    for (const auto& [weight, delta] : terms) {
      const double kernel = std::isinf(length) ? 1.0 : std::exp(-delta / length);
      coverage += weight * kernel;
      weighted_discrepancy += weight * delta * kernel;
    }
    predicted.push_back(bound.amplitude * std::pow(coverage, -bound.exponent) +
                        bound.discrepancy_weight * weighted_discrepancy / coverage);
  }
  return predicted;
}

std::vector<double> predict(const PrecomputedRun& run, const CalibratedParameters& parameters,
                            const TransferModelOptions& transfer) {
  std::vector<double> predicted = predict_without_floor(run, parameters, transfer);
  for (std::size_t t = 0; t < predicted.size(); ++t) {
    predicted[t] += parameters.floor_at(run.run->test_mpps[t]);
  }
  return predicted;
}

// Sets the per-mpp floors of `parameters` to the mean residual of the floorless bound at each
// test mpp over `runs`, clamped to [low, high]: the least-squares optimum for fixed other
// parameters.
void profile_floors(const std::vector<const PrecomputedRun*>& runs, CalibratedParameters& parameters,
                    const TransferModelOptions& transfer, double low, double high) {
  std::map<double, std::pair<double, int>> residuals;  // mpp -> (sum, count)
  for (const PrecomputedRun* run : runs) {
    const std::vector<double> predicted = predict_without_floor(*run, parameters, transfer);
    for (std::size_t t = 0; t < predicted.size(); ++t) {
      auto& [sum, count] = residuals[run->run->test_mpps[t]];
      sum += run->run->measured_error[t] - predicted[t];
      ++count;
    }
  }
  parameters.floor_mpps.clear();
  parameters.floors.clear();
  for (const auto& [mpp, entry] : residuals) {
    parameters.floor_mpps.push_back(mpp);
    parameters.floors.push_back(std::clamp(entry.first / entry.second, low, high));
  }
}

struct FitProblem {
  const std::vector<const PrecomputedRun*>* runs = nullptr;
  const TransferModelOptions* transfer = nullptr;
  const CalibrationOptions* options = nullptr;
  int evaluations = 0;
};

// The parameters at the point x, with per-mpp floors profiled out when the options ask for them.
CalibratedParameters parameters_at(const FitProblem& problem, const double* x) {
  CalibratedParameters parameters = from_vector(std::vector<double>(x, x + kNumParameters));
  if (problem.options->floor_per_mpp) {
    profile_floors(*problem.runs, parameters, *problem.transfer,
                   problem.options->lower.bound.floor, problem.options->upper.bound.floor);
  }
  return parameters;
}

double sum_of_squares(unsigned, const double* x, double*, void* data) {
  auto& problem = *static_cast<FitProblem*>(data);
  ++problem.evaluations;
  const CalibratedParameters parameters = parameters_at(problem, x);
  double total = 0.0;
  for (const PrecomputedRun* run : *problem.runs) {
    const std::vector<double> predicted = predict(*run, parameters, *problem.transfer);
    for (std::size_t t = 0; t < predicted.size(); ++t) {
      const double residual = predicted[t] - run->run->measured_error[t];
      total += residual * residual;
    }
  }
  return total;
}

struct FitOutcome {
  CalibratedParameters parameters;
  double sum_of_squares = std::numeric_limits<double>::infinity();
  int evaluations = 0;
  std::string message;
};

FitOutcome fit(const std::vector<const PrecomputedRun*>& runs, const TransferModelOptions& transfer,
               const CalibrationOptions& options) {
  std::vector<double> lower = to_vector(options.lower);
  std::vector<double> upper = to_vector(options.upper);
  std::vector<double> initial = to_vector(options.initial);
  if (!options.fit_transfer_length) {
    lower[2] = upper[2] = initial[2] = transfer.transfer_length;
  }
  if (options.floor_per_mpp) {
    // The shared floor stays 0; the per-mpp floors are profiled out at every evaluation.
    lower[4] = upper[4] = initial[4] = 0.0;
  }

  FitOutcome best;
  RandomEngine engine(options.seed);
  for (int start = 0; start < options.num_starts; ++start) {
    // Start 0 is the given initial point; later starts are uniform draws in the box.
    std::vector<double> x = initial;
    if (start > 0) {
      for (int i = 0; i < kNumParameters; ++i) {
        x[i] = lower[i] + (upper[i] - lower[i]) * uniform01(engine);
      }
    }
    FitProblem problem{&runs, &transfer, &options, 0};
    nlopt::opt solver(nlopt::LN_BOBYQA, kNumParameters);
    solver.set_lower_bounds(lower);
    solver.set_upper_bounds(upper);
    solver.set_min_objective(sum_of_squares, &problem);
    solver.set_xtol_rel(kParameterTolerance);
    solver.set_ftol_abs(1e-16);
    solver.set_maxeval(options.max_evaluations);
    double value = 0.0;
    std::string message = "converged";
    try {
      const nlopt::result result = solver.optimize(x, value);
      if (result == nlopt::MAXEVAL_REACHED) {
        message = "max evaluations reached";
      }
    } catch (const std::exception& error) {
      message = std::string("solver stopped: ") + error.what();
      value = sum_of_squares(kNumParameters, x.data(), nullptr, &problem);
    }
    best.evaluations += problem.evaluations;
    if (value < best.sum_of_squares) {
      best.sum_of_squares = value;
      best.parameters = parameters_at(problem, x.data());
      best.message = message;
    }
  }
  return best;
}

void validate_runs(const std::vector<CalibrationRun>& runs) {
  if (runs.empty()) {
    throw InputError("calibration needs at least one run with measured errors");
  }
  for (const CalibrationRun& run : runs) {
    if (run.test_mpps.empty() || run.test_mpps.size() != run.measured_error.size()) {
      throw InputError(fmt::format("run '{}' has {} test mpps and {} errors; give one error per mpp",
                                   run.name, run.test_mpps.size(), run.measured_error.size()));
    }
    for (const double error : run.measured_error) {
      if (!std::isfinite(error) || error < 0.0 || error > 1.0) {
        throw InputError(fmt::format(
            "run '{}' has balanced error {}; errors must lie in [0, 1] (1 - balanced accuracy)",
            run.name, error));
      }
    }
  }
}

}  // namespace

CalibrationOptions::CalibrationOptions() {
  lower.bound = {0.0, 0.05, 0.0, 0.0};
  lower.transfer_length = 0.05;
  upper.bound = {2.0, 3.0, 2.0, 1.0};
  upper.transfer_length = 10.0;
}

void CalibrationOptions::validate() const {
  const std::vector<double> low = to_vector(lower);
  const std::vector<double> high = to_vector(upper);
  const std::vector<double> start = to_vector(initial);
  const char* names[kNumParameters] = {"amplitude", "exponent", "transfer length",
                                       "discrepancy weight", "floor"};
  for (int i = 0; i < kNumParameters; ++i) {
    if (!(low[i] <= start[i] && start[i] <= high[i]) || !std::isfinite(low[i]) || !std::isfinite(high[i])) {
      throw InputError(fmt::format("calibration bounds for the {} are [{}, {}] but the initial value "
                                   "is {}; it must lie inside finite bounds",
                                   names[i], low[i], high[i], start[i]));
    }
  }
  if (lower.transfer_length <= 0.0) {
    throw InputError("the lower calibration bound of the transfer length must be > 0");
  }
  if (num_starts < 1) {
    throw InputError(fmt::format("invalid number of calibration starts {}", num_starts));
  }
}

CalibrationReport calibrate_bound(const std::vector<CalibrationRun>& runs,
                                  const TransferModelOptions& transfer,
                                  const NormalizedDiscrepancy& discrepancy,
                                  const CalibrationOptions& options) {
  validate_runs(runs);
  options.validate();
  std::size_t num_points = 0;
  for (const CalibrationRun& run : runs) {
    num_points += run.measured_error.size();
  }
  std::size_t num_fitted = options.fit_transfer_length ? 5 : 4;
  if (options.floor_per_mpp) {
    std::set<double> mpps;
    for (const CalibrationRun& run : runs) {
      mpps.insert(run.test_mpps.begin(), run.test_mpps.end());
    }
    num_fitted += mpps.size() - 1;
  }
  if (num_points <= num_fitted) {
    spdlog::warn("calibration fits {} parameters to only {} errors, so R^2 is meaningless; add runs",
                 num_fitted, num_points);
  }
  if (runs.size() < 2) {
    spdlog::warn("calibration has one run, so no leave-one-run-out error can be computed; the fit "
                 "cannot be checked on an unseen density");
  }
  const TransferModel model(transfer, discrepancy);
  std::vector<PrecomputedRun> precomputed;
  for (const CalibrationRun& run : runs) {
    precomputed.push_back(precompute(run, model));
  }
  std::vector<const PrecomputedRun*> all;
  for (const PrecomputedRun& run : precomputed) {
    all.push_back(&run);
  }
  const FitOutcome outcome = fit(all, transfer, options);

  CalibrationReport report;
  report.parameters = outcome.parameters;
  report.evaluations = outcome.evaluations;
  report.solver_message = outcome.message;

  double mean = 0.0;
  std::size_t count = 0;
  for (const CalibrationRun& run : runs) {
    for (const double error : run.measured_error) {
      mean += error;
      ++count;
    }
  }
  mean /= static_cast<double>(count);
  double total_variation = 0.0;
  for (const CalibrationRun& run : runs) {
    for (const double error : run.measured_error) {
      total_variation += (error - mean) * (error - mean);
    }
  }
  report.r_squared = total_variation > 0.0 ? 1.0 - outcome.sum_of_squares / total_variation
                                           : std::nan("");
  report.rms_residual = std::sqrt(outcome.sum_of_squares / static_cast<double>(count));

  double held_out_squares = 0.0;
  for (std::size_t r = 0; r < runs.size(); ++r) {
    RunResidual residual;
    residual.name = runs[r].name;
    const std::vector<double> fitted = predict(precomputed[r], outcome.parameters, transfer);
    double squares = 0.0;
    for (std::size_t t = 0; t < fitted.size(); ++t) {
      squares += std::pow(fitted[t] - runs[r].measured_error[t], 2);
    }
    residual.rms_residual = std::sqrt(squares / static_cast<double>(fitted.size()));
    residual.leave_one_out_rms = std::nan("");
    if (options.leave_one_out && runs.size() >= 2) {
      std::vector<const PrecomputedRun*> others;
      for (std::size_t o = 0; o < runs.size(); ++o) {
        if (o != r) {
          others.push_back(&precomputed[o]);
        }
      }
      const FitOutcome held_out = fit(others, transfer, options);
      const std::vector<double> predicted = predict(precomputed[r], held_out.parameters, transfer);
      double run_squares = 0.0;
      for (std::size_t t = 0; t < predicted.size(); ++t) {
        run_squares += std::pow(predicted[t] - runs[r].measured_error[t], 2);
      }
      held_out_squares += run_squares;
      residual.leave_one_out_rms = std::sqrt(run_squares / static_cast<double>(predicted.size()));
    }
    report.runs.push_back(residual);
  }
  report.leave_one_out_rms = (options.leave_one_out && runs.size() >= 2)
                                 ? std::sqrt(held_out_squares / static_cast<double>(count))
                                 : std::nan("");
  return report;
}

double CalibratedParameters::floor_at(double test_mpp) const {
  if (floor_mpps.empty()) {
    return bound.floor;
  }
  for (std::size_t i = 0; i < floor_mpps.size(); ++i) {
    if (std::abs(floor_mpps[i] - test_mpp) <= 1e-9 * floor_mpps[i]) {
      return floors[i];
    }
  }
  throw InputError(fmt::format("no calibrated floor at test mpp {}; the calibration runs measured "
                               "only {}",
                               test_mpp, fmt::join(floor_mpps, ", ")));
}

nlohmann::json CalibrationReport::to_json() const {
  auto number_or_null = [](double value) {
    return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
  };
  nlohmann::json per_run = nlohmann::json::array();
  for (const RunResidual& run : runs) {
    per_run.push_back({{"run", run.name},
                       {"rms_residual", run.rms_residual},
                       {"leave_one_out_rms", number_or_null(run.leave_one_out_rms)}});
  }
  nlohmann::json floors = nlohmann::json::array();
  for (std::size_t i = 0; i < parameters.floor_mpps.size(); ++i) {
    floors.push_back({{"test_mpp", parameters.floor_mpps[i]}, {"floor", parameters.floors[i]}});
  }
  return {{"parameters", parameters.bound.to_json()},
          {"transfer_length", parameters.transfer_length},
          {"floor_per_mpp", floors},
          {"r_squared", number_or_null(r_squared)},
          {"rms_residual", rms_residual},
          {"leave_one_out_rms", number_or_null(leave_one_out_rms)},
          {"runs", per_run},
          {"evaluations", evaluations},
          {"solver_message", solver_message}};
}

std::vector<CalibrationRun> read_calibration_runs(const std::filesystem::path& path,
                                                  const MppDomain& domain, Coordinate coordinate,
                                                  int num_bins) {
  std::istringstream input(read_text_file(path));
  std::string line;
  std::getline(input, line);
  if (!line.empty() && line.back() == '\r') {
    line.pop_back();
  }
  const std::string expected_header = "run,density,test_mpp,balanced_error";
  if (line != expected_header) {
    throw InputError(fmt::format("{}: header is '{}'; expected '{}'", path.string(), line, expected_header));
  }

  // Rows keep the order of first appearance of each run.
  std::vector<std::string> order;
  std::map<std::string, std::pair<std::string, std::vector<std::pair<double, double>>>> rows;
  int line_number = 1;
  while (std::getline(input, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (line.empty()) {
      continue;
    }
    const std::vector<std::string> fields = split_list(line);
    if (fields.size() != 4) {
      throw InputError(fmt::format("{}:{}: expected 4 fields, found {}", path.string(), line_number, fields.size()));
    }
    double mpp = 0.0;
    double error = 0.0;
    try {
      mpp = std::stod(fields[2]);
      error = std::stod(fields[3]);
    } catch (const std::exception&) {
      throw InputError(fmt::format("{}:{}: test_mpp '{}' or balanced_error '{}' is not a number",
                                   path.string(), line_number, fields[2], fields[3]));
    }
    auto [entry, inserted] = rows.try_emplace(fields[0]);
    if (inserted) {
      order.push_back(fields[0]);
      entry->second.first = fields[1];
    } else if (entry->second.first != fields[1]) {
      throw InputError(fmt::format("{}:{}: run '{}' names two densities, '{}' and '{}'", path.string(),
                                   line_number, fields[0], entry->second.first, fields[1]));
    }
    if (!domain.contains(mpp)) {
      throw InputError(fmt::format("{}:{}: test_mpp {} lies outside the domain [{}, {}] mpp; set "
                                   "--domain to cover every test mpp",
                                   path.string(), line_number, mpp, domain.lo_mpp, domain.hi_mpp));
    }
    for (const auto& [seen_mpp, seen_error] : entry->second.second) {
      if (seen_mpp == mpp) {
        throw InputError(fmt::format("{}:{}: run '{}' lists test_mpp {} twice; keep one row per run "
                                     "and test mpp",
                                     path.string(), line_number, fields[0], mpp));
      }
    }
    entry->second.second.emplace_back(mpp, error);
  }

  std::vector<CalibrationRun> runs;
  for (const std::string& name : order) {
    const auto& [density_name, points] = rows.at(name);
    std::string specification = density_name;
    const std::filesystem::path relative = path.parent_path() / density_name;
    if (std::filesystem::exists(relative)) {
      specification = relative.string();
    }
    std::optional<SamplingDensity> density;
    try {
      density = resolve_density(specification, domain, coordinate, num_bins);
    } catch (const InputError& error) {
      throw InputError(fmt::format("{}: density of run '{}' (also looked for '{}'): {}", path.string(),
                                   name, relative.string(), error.what()));
    }
    CalibrationRun run{name, *density, {}, {}};
    for (const auto& [mpp, error] : points) {
      run.test_mpps.push_back(mpp);
      run.measured_error.push_back(error);
    }
    runs.push_back(std::move(run));
  }
  return runs;
}

}  // namespace mgap
