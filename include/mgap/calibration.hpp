#pragma once

// Calibration of the bound to measured errors: the step that closes the loop.
//
// Given runs r trained with known distributions P_r and measured balanced error e_{r,t} at test
// mpps t, fit theta = (A, beta, l, gamma, lambda) by bounded least squares
//   min_theta sum_r sum_t (B_{P_r}(t; theta) - e_{r,t})^2
// with NLopt's BOBYQA (derivative-free, box constraints) from several starts. The report gives R^2
// over all points, the RMS residual per run and the leave-one-run-out prediction error. That error
// predicts each run from parameters fitted to the other runs, so it measures how well the bound
// forecasts a distribution it has not seen.

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mgap/bound.hpp"
#include "mgap/density.hpp"
#include "mgap/transfer_model.hpp"

namespace mgap {

struct CalibrationRun {
  std::string name;
  SamplingDensity density;
  std::vector<double> test_mpps;
  std::vector<double> measured_error;  // balanced error = 1 - balanced accuracy, per test mpp
};

// Bound parameters plus the transfer length, the five numbers calibration fits. With a floor per
// test mpp, bound.floor is 0 and `floors` gives lambda_t for each test mpp of the runs.
struct CalibratedParameters {
  BoundParameters bound;
  double transfer_length = 0.5;
  std::vector<double> floor_mpps;  // increasing; empty with one shared floor
  std::vector<double> floors;      // [floor_mpps], lambda_t in error units

  // lambda_t at `test_mpp`: floors[i] where floor_mpps[i] equals it (relative 1e-9), or
  // bound.floor without per-mpp floors. Throws InputError for an mpp without a fitted floor.
  double floor_at(double test_mpp) const;
};

struct CalibrationOptions {
  CalibratedParameters initial;
  CalibratedParameters lower;  // box bounds, inclusive
  CalibratedParameters upper;
  // The ratio kernel fixes the transfer length through its exponent; the discrepancy kernel fits it.
  bool fit_transfer_length = true;
  // Fit one floor lambda_t per test mpp instead of one shared lambda. The joint-optimal error of
  // domain adaptation belongs to each target, and a benchmark whose classes are easier to tell
  // apart at some mpps (whatever the training density) needs this to be fitted at all. Each
  // lambda_t is profiled out: for given (A, beta, l, gamma) it is the mean residual at t over the
  // runs, clamped to [lower.bound.floor, upper.bound.floor].
  bool floor_per_mpp = false;
  int num_starts = 4;
  int max_evaluations = 4000;
  std::uint64_t seed = 0;
  bool leave_one_out = true;

  CalibrationOptions();
  void validate() const;
};

struct RunResidual {
  std::string name;
  double rms_residual = 0.0;          // in-sample, error units
  double leave_one_out_rms = 0.0;     // predicted by the fit without this run (NaN if not computed)
};

struct CalibrationReport {
  CalibratedParameters parameters;
  double r_squared = 0.0;
  double rms_residual = 0.0;
  double leave_one_out_rms = 0.0;  // over all points of all runs; NaN with fewer than 2 runs
  std::vector<RunResidual> runs;
  int evaluations = 0;
  std::string solver_message;

  nlohmann::json to_json() const;
};

// Fits the parameters. `transfer` supplies the kernel kind, the ratio exponent and the discrepancy
// model; its transfer_length is replaced by the fitted one. Throws InputError for empty runs,
// mismatched lengths, errors outside [0, 1] or invalid bounds.
CalibrationReport calibrate_bound(const std::vector<CalibrationRun>& runs,
                                  const TransferModelOptions& transfer,
                                  const NormalizedDiscrepancy& discrepancy,
                                  const CalibrationOptions& options);

// Reads a runs CSV with header `run,density,test_mpp,balanced_error` (one row per run and test
// mpp). `density` is a density JSON path (relative to the CSV's folder) or du, cu, point:MPP,
// resolved with `domain`, `coordinate` and `num_bins`.
std::vector<CalibrationRun> read_calibration_runs(const std::filesystem::path& path,
                                                  const MppDomain& domain, Coordinate coordinate,
                                                  int num_bins);

}  // namespace mgap
