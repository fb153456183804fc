#pragma once

// Fitting the power law d = a |u - v|^b to a discrepancy matrix, and building the model that the
// optimizer reads (discrepancy_model.hpp).
//
// Weighted nonlinear least squares over the pairs i < j:
//     minimize sum_p w_p (d_p - a s_p^b)^2,  s_p = |log2 mpp_i - log2 mpp_j|,
// with a > 0 and b in [0.2, 3], by NLopt's L-BFGS with box bounds (LD_LBFGS) and the analytic
// gradient, started from a log-log linear regression of log d on log s (pairs with d > 0).
// Weights w_p = 1 / max(width_p, floor)^2 from the bootstrap interval widths, with the floor a
// fraction of the median width so that no pair with a tiny interval dominates. Without
// intervals every weight is 1.
// Standard errors: sqrt of the diagonal of s^2 (J^T W J)^{-1} with J the Jacobian of a s^b in
// (a, b) and s^2 = sum w r^2 / (m - 2), the residual-scaled covariance of nonlinear least
// squares (as scipy.optimize.curve_fit with absolute_sigma=False). Cost: O(m) per evaluation.

#include <string>
#include <vector>

#include "mgap/discrepancy_matrix.hpp"
#include "mgap/discrepancy_model.hpp"

namespace mgap {

inline constexpr double kPowerLawMinExponent = 0.2;
inline constexpr double kPowerLawMaxExponent = 3.0;

struct PowerLawFitOptions {
  // Floor of the interval width, as a fraction of the median positive width.
  double weight_floor_fraction = 0.25;
  // Two-sided normal quantile for the parameter intervals (1.96: about 95%).
  double interval_z = 1.959963984540054;

  void validate() const;
};

struct PowerLawResidual {
  double mpp_a = 0.0;
  double mpp_b = 0.0;
  double separation = 0.0;  // |log2 mpp_a - log2 mpp_b|, octaves
  double observed = 0.0;
  double fitted = 0.0;
  double weight = 1.0;
};

struct PowerLawFit {
  double a = 0.0;
  double b = 1.0;
  double initial_a = 0.0;  // from the log-log regression
  double initial_b = 1.0;
  double a_std_error = 0.0;  // 0 when there are fewer than 3 pairs
  double b_std_error = 0.0;
  double a_ci_low = 0.0;  // a -/+ interval_z * standard error
  double a_ci_high = 0.0;
  double b_ci_low = 0.0;
  double b_ci_high = 0.0;
  double r_squared = 0.0;  // weighted: 1 - sum w r^2 / sum w (d - mean_w d)^2
  bool b_at_bound = false;
  bool converged = false;
  std::string solver_status;  // NLopt's result
  int num_evaluations = 0;
  std::vector<PowerLawResidual> residuals;
};

// Fits the power law to points (separation_p > 0, value_p >= 0) with weights w_p > 0.
// Throws InputError for mismatched sizes, fewer than 2 points, a non-positive separation, or all
// values zero.
PowerLawFit fit_power_law(const std::vector<double>& separations, const std::vector<double>& values,
                          const std::vector<double>& weights, const PowerLawFitOptions& options = {});

// Fits the power law to the upper triangle of `report.matrix`, weighting by interval widths.
PowerLawFit fit_power_law(const DiscrepancyReport& report, const PowerLawFitOptions& options = {});

// Weights 1 / max(width, floor)^2 for interval widths [m]; all 1 when every width is 0.
std::vector<double> interval_weights(const std::vector<double>& widths, double floor_fraction);

// The model for the optimizer. `user_scale` > 0 sets the normalization scale explicitly;
// otherwise error-unit estimators get scale 1 and the others d_octave = a.
DiscrepancyModel make_discrepancy_model(const DiscrepancyReport& report, const PowerLawFit& fit,
                                        DiscrepancyModelKind kind, double user_scale = 0.0);

}  // namespace mgap
