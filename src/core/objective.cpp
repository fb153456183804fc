#include "mgap/objective.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "mgap/error.hpp"

namespace mgap {

std::string to_string(Criterion criterion) {
  return criterion == Criterion::kBound ? "bound" : "coverage";
}

std::string to_string(Objective objective) {
  return objective == Objective::kMaxAvg ? "maxavg" : "minmax";
}

Criterion criterion_from_string(const std::string& text) {
  if (text == "bound") {
    return Criterion::kBound;
  }
  if (text == "coverage") {
    return Criterion::kCoverage;
  }
  throw InputError("unknown criterion '" + text + "'; use bound or coverage");
}

Objective objective_from_string(const std::string& text) {
  if (text == "maxavg") {
    return Objective::kMaxAvg;
  }
  if (text == "minmax") {
    return Objective::kMinMax;
  }
  throw InputError("unknown objective '" + text + "'; use maxavg or minmax");
}

bool is_maximized(Criterion criterion) { return criterion == Criterion::kCoverage; }

bool is_better(Criterion criterion, double a, double b, double slack) {
  return is_maximized(criterion) ? a > b + slack : a < b - slack;
}

void ObjectiveSpec::validate() const {
  if (criterion == Criterion::kCoverage && objective == Objective::kMaxAvg &&
      (!std::isfinite(entropy_weight) || entropy_weight <= 0.0)) {
    throw InputError(fmt::format(
        "invalid entropy weight tau = {}; coverage maxavg needs tau > 0, since without entropy the "
        "optimum is a single point mass",
        entropy_weight));
  }
}

double objective_value(const ObjectiveSpec& spec, const BoundCurve& curve,
                       const std::vector<double>& target_weights, double domain_length,
                       bool has_entropy, double entropy_nats) {
  const std::vector<double>& values = spec.criterion == Criterion::kCoverage ? curve.coverage : curve.bound;
  if (spec.objective == Objective::kMinMax) {
    return spec.criterion == Criterion::kCoverage ? *std::min_element(values.begin(), values.end())
                                                  : *std::max_element(values.begin(), values.end());
  }
  double average = 0.0;
  for (std::size_t t = 0; t < values.size(); ++t) {
    average += target_weights[t] * values[t];
  }
  if (spec.criterion == Criterion::kBound) {
    return average;
  }
  if (!has_entropy) {
    return -std::numeric_limits<double>::infinity();
  }
  return domain_length * average + spec.entropy_weight * entropy_nats;
}

double objective_value(const ObjectiveSpec& spec, const BoundProblem& problem,
                       const Eigen::VectorXd& masses) {
  const Eigen::VectorXd coverage = problem.coverage(masses);
  const Eigen::Map<const Eigen::VectorXd> weights(problem.targets().weights.data(),
                                                  static_cast<Eigen::Index>(problem.targets().weights.size()));
  if (spec.criterion == Criterion::kCoverage) {
    if (spec.objective == Objective::kMinMax) {
      return coverage.minCoeff();
    }
    double entropy = 0.0;
    for (Eigen::Index k = 0; k < masses.size(); ++k) {
      if (masses[k] > 0.0) {
        entropy -= masses[k] * std::log(masses[k] / problem.bin_widths()[k]);
      }
    }
    const double length = problem.domain().length(problem.coordinate());
    return length * weights.dot(coverage) + spec.entropy_weight * entropy;
  }
  const Eigen::VectorXd bound = problem.bound(masses);
  return spec.objective == Objective::kMinMax ? bound.maxCoeff() : weights.dot(bound);
}

}  // namespace mgap
