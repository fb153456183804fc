#pragma once

// Target mpps at which the bound is evaluated, with weights that sum to 1.

#include <string>
#include <vector>

#include "mgap/magnification.hpp"

namespace mgap {

struct TargetSet {
  std::vector<double> mpps;
  std::vector<double> weights;  // sum to 1
  std::string specification;    // how it was requested, e.g. "grid:64"

  // Throws InputError unless mpps lie in the domain, weights are >= 0 and sum to 1 (1e-9).
  void validate(const MppDomain& domain) const;
};

// `count` targets equally spaced in the coordinate from lo_mpp to hi_mpp inclusive, equal weights.
TargetSet make_grid_targets(const MppDomain& domain, Coordinate coordinate, int count);

// Parses --targets: "grid" or "grid:N", "test" (the seven test mpps inside the domain), or a list
// "MPP,MPP,...". `weights_text` ("W,W,...", empty for equal weights) must match the count. User
// weights are relative: they are divided by their sum, which is logged.
TargetSet parse_targets(const std::string& specification, const std::string& weights_text,
                        const MppDomain& domain, Coordinate coordinate);

}  // namespace mgap
