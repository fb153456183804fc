#include "mgap/power_law_fit.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlopt.hpp>

#include "mgap/error.hpp"

namespace mgap {

namespace {

// Smallest amplitude the solver may use, relative to the largest value (a > 0 strictly).
constexpr double kMinAmplitudeFraction = 1e-12;
constexpr double kSolverRelativeTolerance = 1e-14;
constexpr int kMaxEvaluations = 20000;

struct FitData {
  std::vector<double> separations;
  std::vector<double> values;  // divided by their maximum, for conditioning
  std::vector<double> weights;  // divided by their sum
};

double objective(const std::vector<double>& parameters, std::vector<double>& gradient,
                 void* context) {
  const auto& data = *static_cast<const FitData*>(context);
  const double a = parameters[0];
  const double b = parameters[1];
  double sum = 0.0;
  double grad_a = 0.0;
  double grad_b = 0.0;
  for (std::size_t p = 0; p < data.values.size(); ++p) {
    const double power = std::pow(data.separations[p], b);
    const double residual = data.values[p] - a * power;
    sum += data.weights[p] * residual * residual;
    grad_a += -2.0 * data.weights[p] * residual * power;
    grad_b += -2.0 * data.weights[p] * residual * a * power * std::log(data.separations[p]);
  }
  if (!gradient.empty()) {
    gradient[0] = grad_a;
    gradient[1] = grad_b;
  }
  return sum;
}

// Log-log regression log d = log a + b log s over points with d > 0, clamped into the bounds.
void initial_guess(const FitData& data, double& a, double& b) {
  double n = 0.0;
  double sum_x = 0.0;
  double sum_y = 0.0;
  double sum_xx = 0.0;
  double sum_xy = 0.0;
  for (std::size_t p = 0; p < data.values.size(); ++p) {
    if (data.values[p] <= 0.0) {
      continue;
    }
    const double x = std::log(data.separations[p]);
    const double y = std::log(data.values[p]);
    n += 1.0;
    sum_x += x;
    sum_y += y;
    sum_xx += x * x;
    sum_xy += x * y;
  }
  const double denominator = n * sum_xx - sum_x * sum_x;
  b = n >= 2.0 && denominator > 0.0 ? (n * sum_xy - sum_x * sum_y) / denominator : 1.0;
  b = std::clamp(b, kPowerLawMinExponent, kPowerLawMaxExponent);
  a = n >= 1.0 ? std::exp((sum_y - b * sum_x) / n) : 1.0;
}

std::string nlopt_result_name(nlopt::result result) {
  switch (result) {
    case nlopt::SUCCESS:
      return "success";
    case nlopt::STOPVAL_REACHED:
      return "stopval_reached";
    case nlopt::FTOL_REACHED:
      return "ftol_reached";
    case nlopt::XTOL_REACHED:
      return "xtol_reached";
    case nlopt::MAXEVAL_REACHED:
      return "maxeval_reached";
    case nlopt::MAXTIME_REACHED:
      return "maxtime_reached";
    default:
      return "failure";
  }
}

}  // namespace

void PowerLawFitOptions::validate() const {
  if (!(weight_floor_fraction > 0.0)) {
    throw InputError(fmt::format("weight floor fraction {} must be positive",
                                 weight_floor_fraction));
  }
  if (!(interval_z > 0.0)) {
    throw InputError(fmt::format("interval quantile {} must be positive", interval_z));
  }
}

std::vector<double> interval_weights(const std::vector<double>& widths, double floor_fraction) {
  std::vector<double> positive;
  for (const double width : widths) {
    if (width > 0.0) {
      positive.push_back(width);
    }
  }
  if (positive.empty()) {
    return std::vector<double>(widths.size(), 1.0);
  }
  std::nth_element(positive.begin(), positive.begin() + static_cast<std::ptrdiff_t>(positive.size() / 2),
                   positive.end());
  const double floor = floor_fraction * positive[positive.size() / 2];
  std::vector<double> weights;
  for (const double width : widths) {
    const double used = std::max(width, floor);
    weights.push_back(1.0 / (used * used));
  }
  return weights;
}

PowerLawFit fit_power_law(const std::vector<double>& separations, const std::vector<double>& values,
                          const std::vector<double>& weights, const PowerLawFitOptions& options) {
  options.validate();
  const std::size_t m = values.size();
  if (separations.size() != m || weights.size() != m) {
    throw InputError(fmt::format("power-law fit: {} separations, {} values and {} weights differ",
                                 separations.size(), m, weights.size()));
  }
  if (m < 2) {
    throw InputError("a power-law fit needs at least 2 pairs of mpps (3 mpps)");
  }
  FitData data;
  double max_value = 0.0;
  double weight_sum = 0.0;
  for (std::size_t p = 0; p < m; ++p) {
    if (!(separations[p] > 0.0) || !std::isfinite(values[p]) || values[p] < 0.0 ||
        !(weights[p] > 0.0)) {
      throw InputError(fmt::format("power-law fit: pair {} has separation {}, value {}, weight {}; "
                                   "separations and weights must be positive, values >= 0",
                                   p, separations[p], values[p], weights[p]));
    }
    max_value = std::max(max_value, values[p]);
    weight_sum += weights[p];
  }
  if (!(max_value > 0.0)) {
    throw InputError("power-law fit: every discrepancy is 0, so there is no scale to fit; the "
                     "embeddings do not differ between mpps");
  }
  for (std::size_t p = 0; p < m; ++p) {
    data.separations.push_back(separations[p]);
    data.values.push_back(values[p] / max_value);
    data.weights.push_back(weights[p] / weight_sum);
  }

  PowerLawFit fit;
  double a = 0.0;
  double b = 0.0;
  initial_guess(data, a, b);
  fit.initial_a = a * max_value;
  fit.initial_b = b;

  nlopt::opt solver(nlopt::LD_LBFGS, 2);
  solver.set_lower_bounds({kMinAmplitudeFraction, kPowerLawMinExponent});
  solver.set_upper_bounds({HUGE_VAL, kPowerLawMaxExponent});
  solver.set_min_objective(objective, &data);
  solver.set_xtol_rel(kSolverRelativeTolerance);
  solver.set_ftol_rel(kSolverRelativeTolerance);
  solver.set_maxeval(kMaxEvaluations);
  std::vector<double> parameters = {std::max(a, kMinAmplitudeFraction), b};
  double minimum = 0.0;
  try {
    const nlopt::result result = solver.optimize(parameters, minimum);
    fit.solver_status = nlopt_result_name(result);
    fit.converged = result > 0 && result != nlopt::MAXEVAL_REACHED;
  } catch (const nlopt::roundoff_limited&) {
    // The objective cannot decrease further in floating point: at the optimum for exact data.
    fit.solver_status = "roundoff_limited";
    fit.converged = true;
  } catch (const std::exception& error) {
    fit.solver_status = std::string("failure: ") + error.what();
    fit.converged = false;
  }
  fit.num_evaluations = solver.get_numevals();
  fit.a = parameters[0] * max_value;
  fit.b = parameters[1];
  fit.b_at_bound = fit.b <= kPowerLawMinExponent || fit.b >= kPowerLawMaxExponent;

  // Fit quality and residuals in the original units.
  double weighted_mean = 0.0;
  for (std::size_t p = 0; p < m; ++p) {
    weighted_mean += data.weights[p] * values[p];
  }
  double residual_sum = 0.0;
  double total_sum = 0.0;
  double jtj_aa = 0.0;
  double jtj_ab = 0.0;
  double jtj_bb = 0.0;
  for (std::size_t p = 0; p < m; ++p) {
    const double power = std::pow(separations[p], fit.b);
    const double fitted = fit.a * power;
    const double residual = values[p] - fitted;
    residual_sum += weights[p] * residual * residual;
    total_sum += weights[p] * (values[p] - weighted_mean) * (values[p] - weighted_mean);
    const double d_a = power;
    const double d_b = fitted * std::log(separations[p]);
    jtj_aa += weights[p] * d_a * d_a;
    jtj_ab += weights[p] * d_a * d_b;
    jtj_bb += weights[p] * d_b * d_b;
    fit.residuals.push_back({0.0, 0.0, separations[p], values[p], fitted, weights[p]});
  }
  fit.r_squared = total_sum > 0.0 ? 1.0 - residual_sum / total_sum : 1.0;
  const double determinant = jtj_aa * jtj_bb - jtj_ab * jtj_ab;
  if (m > 2 && determinant > 0.0) {
    const double residual_variance = residual_sum / static_cast<double>(m - 2);
    fit.a_std_error = std::sqrt(residual_variance * jtj_bb / determinant);
    fit.b_std_error = std::sqrt(residual_variance * jtj_aa / determinant);
  }
  fit.a_ci_low = fit.a - options.interval_z * fit.a_std_error;
  fit.a_ci_high = fit.a + options.interval_z * fit.a_std_error;
  fit.b_ci_low = fit.b - options.interval_z * fit.b_std_error;
  fit.b_ci_high = fit.b + options.interval_z * fit.b_std_error;
  return fit;
}

PowerLawFit fit_power_law(const DiscrepancyReport& report, const PowerLawFitOptions& options) {
  std::vector<double> separations;
  std::vector<double> values;
  std::vector<double> widths;
  std::vector<std::pair<double, double>> mpp_pairs;
  const auto size = static_cast<Eigen::Index>(report.mpps.size());
  for (Eigen::Index i = 0; i < size; ++i) {
    for (Eigen::Index j = i + 1; j < size; ++j) {
      const double mpp_a = report.mpps[static_cast<std::size_t>(i)];
      const double mpp_b = report.mpps[static_cast<std::size_t>(j)];
      separations.push_back(std::abs(std::log2(mpp_b) - std::log2(mpp_a)));
      values.push_back(report.matrix(i, j));
      widths.push_back(report.ci_high(i, j) - report.ci_low(i, j));
      mpp_pairs.emplace_back(mpp_a, mpp_b);
    }
  }
  PowerLawFit fit = fit_power_law(separations, values,
                                  interval_weights(widths, options.weight_floor_fraction), options);
  for (std::size_t p = 0; p < fit.residuals.size(); ++p) {
    fit.residuals[p].mpp_a = mpp_pairs[p].first;
    fit.residuals[p].mpp_b = mpp_pairs[p].second;
  }
  return fit;
}

DiscrepancyModel make_discrepancy_model(const DiscrepancyReport& report, const PowerLawFit& fit,
                                        DiscrepancyModelKind kind, double user_scale) {
  DiscrepancyModel model;
  model.kind = kind;
  model.a = fit.a;
  model.b = fit.b;
  model.estimator = to_string(report.estimator);
  if (user_scale > 0.0) {
    model.normalization = NormalizationKind::kUser;
    model.scale = user_scale;
  } else if (is_error_units(report.estimator)) {
    model.normalization = NormalizationKind::kErrorUnits;
    model.scale = 1.0;
  } else {
    model.normalization = NormalizationKind::kOctave;
    model.scale = fit.a;  // a |u - v|^b at |u - v| = 1
  }
  if (kind == DiscrepancyModelKind::kTable) {
    for (const double mpp : report.mpps) {
      model.log2_mpps.push_back(std::log2(mpp));
    }
    const auto size = report.matrix.rows();
    for (Eigen::Index i = 0; i < size; ++i) {
      for (Eigen::Index j = 0; j < size; ++j) {
        model.table.push_back(report.matrix(i, j));
      }
    }
  }
  model.validate();
  return model;
}

}  // namespace mgap
