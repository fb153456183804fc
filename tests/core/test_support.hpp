#pragma once

// Shared builders for the core tests: the default problem of the bound and its variants.

#include "mgap/bound.hpp"
#include "mgap/optimizer.hpp"

namespace mgap::test {

inline const MppDomain kDefaultDomain{0.25, 2.0};

// Ratio kernel with exponent q.
inline TransferModel ratio_model(double q = 2.0) {
  TransferModelOptions options;
  options.kernel = KernelKind::kRatio;
  options.ratio_exponent = q;
  return TransferModel(options, {});
}

// Discrepancy kernel with the power law a |u - v|^b normalized per octave.
inline TransferModel discrepancy_model(double transfer_length = 0.5, double b = 1.0) {
  TransferModelOptions options;
  options.kernel = KernelKind::kDiscrepancy;
  options.transfer_length = transfer_length;
  return TransferModel(options, NormalizedDiscrepancy::power_law(1.0, b));
}

inline BoundProblem make_problem(const TransferModel& model, const BoundParameters& parameters,
                                 Coordinate coordinate, int num_bins, int num_targets) {
  return BoundProblem(model, parameters, coordinate, kDefaultDomain, num_bins,
                      make_grid_targets(kDefaultDomain, coordinate, num_targets));
}

inline OptimizerOptions optimizer_options(Criterion criterion, Objective objective, int starts) {
  OptimizerOptions options;
  options.objective.criterion = criterion;
  options.objective.objective = objective;
  options.num_starts = starts;
  options.seed = 1;
  return options;
}

}  // namespace mgap::test
