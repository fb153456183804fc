#pragma once

// Starting points for the multi-start SLSQP solver (internal to the optimizer).

#include <Eigen/Dense>
#include <string>
#include <vector>

#include "mgap/bound.hpp"

namespace mgap::detail {

struct StartingPoint {
  std::string name;
  Eigen::VectorXd masses;  // [num_bins], on the simplex and above the floor
};

// CU, smoothed DU, then seeded Dirichlet(1) draws, `count` in all; every point satisfies
// masses >= lower_bounds and sums to 1.
std::vector<StartingPoint> make_starting_points(const BoundProblem& problem, int count,
                                                std::uint64_t seed,
                                                const Eigen::VectorXd& lower_bounds);

}  // namespace mgap::detail
