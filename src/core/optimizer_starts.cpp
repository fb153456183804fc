#include "optimizer_starts.hpp"

#include <cmath>

#include "mgap/random.hpp"

namespace mgap::detail {

namespace {

// Width, in octaves, of the Gaussian that smooths the DU atoms into bins: wide enough that every
// bin gets some mass (SLSQP moves poorly from exact zeros), narrow enough to keep four modes.
constexpr double kSmoothedDuWidthOctaves = 0.15;
// Share of mass spread evenly over all bins in the smoothed DU start, for the same reason.
constexpr double kSmoothedDuUniformShare = 0.02;

// Lifts `weights` (nonnegative, any sum) onto {masses >= lower, sum = 1}.
Eigen::VectorXd place_above_floor(const Eigen::VectorXd& weights, const Eigen::VectorXd& lower) {
  const double free_mass = 1.0 - lower.sum();
  return lower + free_mass * weights / weights.sum();
}

}  // namespace

std::vector<StartingPoint> make_starting_points(const BoundProblem& problem, int count,
                                                std::uint64_t seed,
                                                const Eigen::VectorXd& lower_bounds) {
  const int num_bins = problem.num_bins();
  std::vector<StartingPoint> starts;

  starts.push_back({"cu", place_above_floor(problem.bin_widths(), lower_bounds)});

  if (static_cast<int>(starts.size()) < count) {
    Eigen::VectorXd smoothed(num_bins);
    for (int k = 0; k < num_bins; ++k) {
      const double center_log2 =
          0.5 * (std::log2(problem.edges_mpp()[k]) + std::log2(problem.edges_mpp()[k + 1]));
      double weight = 0.0;
      for (const double mpp : standard_mpps()) {
        if (problem.domain().contains(mpp)) {
          const double distance = (center_log2 - std::log2(mpp)) / kSmoothedDuWidthOctaves;
          weight += std::exp(-0.5 * distance * distance);
        }
      }
      smoothed[k] = weight * problem.bin_widths()[k];
    }
    smoothed /= smoothed.sum();
    smoothed = (1.0 - kSmoothedDuUniformShare) * smoothed +
               kSmoothedDuUniformShare * problem.bin_widths() / problem.bin_widths().sum();
    starts.push_back({"smoothed-du", place_above_floor(smoothed, lower_bounds)});
  }

  for (int index = 0; static_cast<int>(starts.size()) < count; ++index) {
    RandomEngine engine(derive_seed(seed, static_cast<std::uint64_t>(index)));
    Eigen::VectorXd draw(num_bins);
    for (int k = 0; k < num_bins; ++k) {
      draw[k] = gamma_draw(engine, 1.0);
    }
    starts.push_back({"dirichlet-" + std::to_string(index), place_above_floor(draw, lower_bounds)});
  }
  return starts;
}

}  // namespace mgap::detail
