#pragma once

// Criteria and objectives for choosing a sampling distribution.
//
// coverage criterion (coverage n_P(t) only):
//   maxavg: maximize L sum_t w_t n_P(t) + tau H(P), with L the domain length in the coordinate and
//           H the differential entropy in the coordinate (nats). Without entropy the optimum is a
//           point mass; with it, p(c) is proportional to exp(L sum_t w_t kappa(c, t) / tau).
//   minmax: maximize min_t n_P(t), a linear program in the bin masses.
// bound criterion (the full bound B_P(t)):
//   maxavg: minimize sum_t w_t B_P(t);   minmax: minimize max_t B_P(t).
// Coverage objectives are maximized and bound objectives minimized, and `is_better` compares
// values in the right direction.

#include <string>

#include "mgap/bound.hpp"

namespace mgap {

enum class Criterion { kBound, kCoverage };
enum class Objective { kMaxAvg, kMinMax };

std::string to_string(Criterion criterion);
std::string to_string(Objective objective);
// Accept "bound"/"coverage" and "maxavg"/"minmax"; throw InputError naming the value otherwise.
Criterion criterion_from_string(const std::string& text);
Objective objective_from_string(const std::string& text);

// Whether the criterion's objective is maximized (coverage) or minimized (bound).
bool is_maximized(Criterion criterion);
// Whether objective value `a` is better than `b` for the criterion, by more than `slack`.
bool is_better(Criterion criterion, double a, double b, double slack = 0.0);

struct ObjectiveSpec {
  Criterion criterion = Criterion::kBound;
  Objective objective = Objective::kMaxAvg;
  double entropy_weight = 1.0;  // tau, coverage maxavg only

  void validate() const;
};

// Value of the objective for a distribution whose per-target bound curve is `curve`. For coverage
// maxavg the entropy term needs `entropy_nats`; a distribution with atoms has entropy minus infinity,
// so its value is -infinity. `domain_length` is L in the coordinate.
double objective_value(const ObjectiveSpec& spec, const BoundCurve& curve,
                       const std::vector<double>& target_weights, double domain_length,
                       bool has_entropy, double entropy_nats);

// Same value for bin masses on a discretized problem.
double objective_value(const ObjectiveSpec& spec, const BoundProblem& problem,
                       const Eigen::VectorXd& masses);

}  // namespace mgap
