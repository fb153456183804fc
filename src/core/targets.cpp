#include "mgap/targets.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <numeric>

#include "mgap/density.hpp"
#include "mgap/error.hpp"
#include "mgap/parse.hpp"

namespace mgap {

namespace {
constexpr int kDefaultGridTargets = 64;
}

void TargetSet::validate(const MppDomain& domain) const {
  if (mpps.empty()) {
    throw InputError("no target mpps; give --targets grid:64, test or a list of mpps");
  }
  if (weights.size() != mpps.size()) {
    throw InputError(fmt::format("{} target weights for {} target mpps; give one weight per target",
                                 weights.size(), mpps.size()));
  }
  double total = 0.0;
  for (std::size_t i = 0; i < mpps.size(); ++i) {
    if (!std::isfinite(mpps[i]) || !domain.contains(mpps[i])) {
      throw InputError(fmt::format("target {} mpp lies outside the domain [{}, {}] mpp", mpps[i],
                                   domain.lo_mpp, domain.hi_mpp));
    }
    if (!std::isfinite(weights[i]) || weights[i] < 0.0) {
      throw InputError(fmt::format("invalid target weight {}; weights must be >= 0", weights[i]));
    }
    total += weights[i];
  }
  if (std::abs(total - 1.0) > kMassSumTolerance) {
    throw InputError(fmt::format("target weights sum to {:.12g}, not 1", total));
  }
}

TargetSet make_grid_targets(const MppDomain& domain, Coordinate coordinate, int count) {
  domain.validate();
  if (count < 2) {
    throw InputError(fmt::format("a target grid needs at least 2 points, got {}", count));
  }
  TargetSet targets;
  const double lo = mpp_to_coordinate(domain.lo_mpp, coordinate);
  const double hi = mpp_to_coordinate(domain.hi_mpp, coordinate);
  for (int i = 0; i < count; ++i) {
    targets.mpps.push_back(coordinate_to_mpp(lo + (hi - lo) * i / (count - 1), coordinate));
  }
  targets.mpps.front() = domain.lo_mpp;
  targets.mpps.back() = domain.hi_mpp;
  targets.weights.assign(count, 1.0 / count);
  targets.specification = fmt::format("grid:{}", count);
  return targets;
}

TargetSet parse_targets(const std::string& specification, const std::string& weights_text,
                        const MppDomain& domain, Coordinate coordinate) {
  TargetSet targets;
  if (specification == "grid" || specification.rfind("grid:", 0) == 0) {
    int count = kDefaultGridTargets;
    if (specification != "grid") {
      const std::string value = specification.substr(5);
      std::size_t consumed = 0;
      try {
        count = std::stoi(value, &consumed);
      } catch (const std::exception&) {
        consumed = 0;
      }
      if (consumed == 0 || consumed != value.size()) {
        throw InputError("invalid --targets '" + specification + "'; write grid:N, e.g. grid:64");
      }
    }
    targets = make_grid_targets(domain, coordinate, count);
  } else if (specification == "test") {
    for (const double mpp : test_mpps()) {
      if (domain.contains(mpp)) {
        targets.mpps.push_back(mpp);
      }
    }
    targets.specification = "test";
  } else {
    targets.mpps = parse_double_list(specification, "--targets");
    targets.specification = specification;
  }

  if (weights_text.empty()) {
    targets.weights.assign(targets.mpps.size(), 1.0 / static_cast<double>(targets.mpps.size()));
  } else {
    targets.weights = parse_double_list(weights_text, "--target-weights");
    if (targets.weights.size() != targets.mpps.size()) {
      throw InputError(fmt::format(
          "--target-weights has {} values but there are {} targets; give one weight per target",
          targets.weights.size(), targets.mpps.size()));
    }
    const double total = std::accumulate(targets.weights.begin(), targets.weights.end(), 0.0);
    if (!(total > 0.0)) {
      throw InputError("--target-weights '" + weights_text + "' must have a positive sum");
    }
    spdlog::info("target weights divided by their sum {}", total);
    for (double& weight : targets.weights) {
      weight /= total;
    }
  }
  targets.validate(domain);
  return targets;
}

}  // namespace mgap
