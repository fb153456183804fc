#pragma once

// Optimization of the bin masses of a sampling distribution on a discretized bound problem.
//
// Solvers:
// - coverage maxavg: closed form pi_k proportional to Delta_k exp(kbar_k / tau), with
//   kbar_k = L sum_t w_t K_tk, exact for the discretized problem (used when there is no floor);
// - coverage minmax: the linear program max z s.t. K pi >= z, sum pi = 1, pi >= floor, solved by
//   GLPK's simplex method;
// - bound maxavg and minmax (epigraph form: min z s.t. B_t(pi) <= z): NLopt LD_SLSQP with analytic
//   gradients from several starts, since the problem is not convex when gamma > 0.
// Every solver can be forced to NLopt SLSQP, which the tests use to cross-check the exact ones.

#include <Eigen/Dense>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mgap/bound.hpp"
#include "mgap/objective.hpp"

namespace mgap {

// Keep B_P(s) <= reference_bound[s] + tolerance at the mpps of `problem`'s targets (the standard
// mpps), so that closing the gaps does not cost performance at the standard scales.
struct PreserveConstraint {
  BoundProblem problem;
  std::vector<double> reference_bound;
  double tolerance = 0.0;
  std::string reference_name;  // "du", "cu" or a file name, for provenance
};

enum class SolverChoice {
  kAutomatic,  // exact methods where they exist, SLSQP otherwise
  kSlsqp,      // NLopt LD_SLSQP for every objective
};

struct OptimizerOptions {
  ObjectiveSpec objective;
  int num_starts = 8;
  std::uint64_t seed = 0;
  double smoothness = 0.0;     // rho in rho sum_k (pi_{k+1} - pi_k)^2 / Delta (bound criterion)
  double density_floor = 0.0;  // minimum density per unit of the coordinate: pi_k >= floor Delta_k
  std::optional<PreserveConstraint> preserve;  // bound criterion only
  SolverChoice solver = SolverChoice::kAutomatic;
  int max_evaluations = 5000;            // per SLSQP start
  double relative_tolerance = 1e-12;     // SLSQP ftol_rel and xtol_rel
  double feasibility_tolerance = 1e-8;   // largest constraint violation accepted in a result
  int num_threads = 0;                   // SLSQP starts in parallel; 0 = hardware concurrency

  // Throws InputError for invalid values or combinations (e.g. preserve with the coverage criterion).
  void validate(const BoundProblem& problem) const;
};

enum class SolveStatus {
  kConverged,         // the solver met its tolerance
  kMaxEvaluations,    // stopped at max_evaluations; still a feasible point
  kFailed,            // the solver reported a failure (e.g. roundoff limited, invalid arguments)
  kInfeasible,        // finished, but a constraint is violated by more than feasibility_tolerance
};
std::string to_string(SolveStatus status);

struct StartReport {
  std::string start;          // "cu", "smoothed-du", "dirichlet-3", "closed-form", "simplex"
  std::string method;         // "nlopt:LD_SLSQP", "glpk:simplex", "closed-form"
  SolveStatus status = SolveStatus::kFailed;
  std::string solver_message;  // NLopt or GLPK result code in words
  int evaluations = 0;         // objective evaluations (SLSQP) or simplex iterations (GLPK)
  double objective = 0.0;      // objective value of the returned point (see objective.hpp)
  double max_violation = 0.0;  // largest violation of any constraint, bounds included
  double wall_seconds = 0.0;
  bool selected = false;
};

struct OptimizationResult {
  Eigen::VectorXd masses;  // [num_bins], the best feasible point
  double objective = 0.0;
  double max_violation = 0.0;
  std::vector<StartReport> starts;
  int selected_start = -1;
};

// Runs the solver(s) and returns the best start whose status is converged or max-evaluations and
// whose violation is within feasibility_tolerance. Throws OptimizationFailed when no start qualifies.
OptimizationResult optimize(const BoundProblem& problem, const OptimizerOptions& options);

class OptimizationFailed : public std::runtime_error {
 public:
  OptimizationFailed(const std::string& message, std::vector<StartReport> starts)
      : std::runtime_error(message), starts_(std::move(starts)) {}
  const std::vector<StartReport>& starts() const { return starts_; }

 private:
  std::vector<StartReport> starts_;
};

}  // namespace mgap
