#pragma once

// Calibration and optimization at the end of a loop round. Private to the loop module.

#include <optional>
#include <vector>

#include "loop_stages.hpp"

namespace mgap::loop {

struct RoundBound {
  LoopRound round;
  std::optional<SamplingDensity> next_density;  // set by calibrate_and_optimize
  std::vector<double> next_forecast;        // [test_mpps], calibrated bound of next_density
  std::vector<std::vector<double>> fitted;  // [runs][test_mpps], calibrated bound of each run
};

// Calibrates the bound to `runs` (trained with `densities`, same order) with the discrepancy
// model, minimizes it, and writes calibration_runs.csv, calibration.json, curves.csv and
// next_density.json into round_R/.
RoundBound calibrate_and_optimize(const LoopOptions& options, int round,
                                  const DiscrepancyModel& discrepancy_model,
                                  const std::vector<LoopRun>& runs,
                                  const std::vector<SamplingDensity>& densities);

}  // namespace mgap::loop
