#include "mgap/optimizer.hpp"

#include <fmt/format.h>
#include <glpk.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <nlopt.hpp>
#include <thread>

#include "mgap/error.hpp"
#include "optimizer_starts.hpp"

namespace mgap {

namespace {

using Clock = std::chrono::steady_clock;

// Tolerance handed to NLopt for each constraint; the result is still checked against
// feasibility_tolerance afterwards.
constexpr double kNloptConstraintTolerance = 1e-10;
// Lower bound on masses in the SLSQP cross-check of coverage maxavg, whose entropy gradient
// log(pi_k) is infinite at 0.
constexpr double kEntropyMassLowerBound = 1e-14;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Everything the NLopt callbacks need, for one start.
struct SlsqpContext {
  const BoundProblem* problem = nullptr;
  const OptimizerOptions* options = nullptr;
  bool epigraph = false;  // minmax: x = (pi, z)
  int num_bins = 0;
  int evaluations = 0;
};

Eigen::Map<const Eigen::VectorXd> masses_of(const SlsqpContext& context, const double* x) {
  return Eigen::Map<const Eigen::VectorXd>(x, context.num_bins);
}

// rho sum_k (pi_{k+1} - pi_k)^2 / Delta_k, and its gradient added into `gradient`.
double smoothness_penalty(const BoundProblem& problem, double rho, const Eigen::VectorXd& masses,
                          double* gradient) {
  if (rho == 0.0) {
    return 0.0;
  }
  double penalty = 0.0;
  for (Eigen::Index k = 0; k + 1 < masses.size(); ++k) {
    const double difference = masses[k + 1] - masses[k];
    const double width = problem.bin_widths()[k];
    penalty += rho * difference * difference / width;
    if (gradient != nullptr) {
      gradient[k] -= 2.0 * rho * difference / width;
      gradient[k + 1] += 2.0 * rho * difference / width;
    }
  }
  return penalty;
}

double entropy_of(const BoundProblem& problem, const Eigen::VectorXd& masses) {
  double entropy = 0.0;
  for (Eigen::Index k = 0; k < masses.size(); ++k) {
    if (masses[k] > 0.0) {
      entropy -= masses[k] * std::log(masses[k] / problem.bin_widths()[k]);
    }
  }
  return entropy;
}

// Objective in minimization form. For the epigraph (minmax) it is z plus the penalty.
double slsqp_objective(unsigned n, const double* x, double* gradient, void* data) {
  auto& context = *static_cast<SlsqpContext*>(data);
  ++context.evaluations;
  const BoundProblem& problem = *context.problem;
  const ObjectiveSpec& spec = context.options->objective;
  const Eigen::VectorXd masses = masses_of(context, x);
  if (gradient != nullptr) {
    std::fill(gradient, gradient + n, 0.0);
  }

  double value = 0.0;
  if (context.epigraph) {
    value = spec.criterion == Criterion::kCoverage ? -x[context.num_bins] : x[context.num_bins];
    if (gradient != nullptr) {
      gradient[context.num_bins] = spec.criterion == Criterion::kCoverage ? -1.0 : 1.0;
    }
  } else if (spec.criterion == Criterion::kBound) {
    const Eigen::Map<const Eigen::VectorXd> weights(problem.targets().weights.data(),
                                                    problem.num_targets());
    Eigen::MatrixXd jacobian;
    const Eigen::VectorXd bound = problem.bound(masses, gradient != nullptr ? &jacobian : nullptr);
    value = weights.dot(bound);
    if (gradient != nullptr) {
      Eigen::Map<Eigen::VectorXd>(gradient, context.num_bins) = jacobian.transpose() * weights;
    }
  } else {
    // Coverage maxavg, negated: -(L w.K pi + tau H(pi)).
    const Eigen::Map<const Eigen::VectorXd> weights(problem.targets().weights.data(),
                                                    problem.num_targets());
    const double length = problem.domain().length(problem.coordinate());
    const Eigen::VectorXd kernel_average = length * problem.kernel_matrix().transpose() * weights;
    value = -(kernel_average.dot(masses) + spec.entropy_weight * entropy_of(problem, masses));
    if (gradient != nullptr) {
      for (int k = 0; k < context.num_bins; ++k) {
        const double log_density = std::log(masses[k] / problem.bin_widths()[k]);
        gradient[k] = -(kernel_average[k] - spec.entropy_weight * (log_density + 1.0));
      }
    }
  }
  if (spec.criterion == Criterion::kBound) {
    value += smoothness_penalty(problem, context.options->smoothness, masses, gradient);
  }
  return value;
}

// sum pi - 1 = 0.
double slsqp_simplex(unsigned n, const double* x, double* gradient, void* data) {
  const auto& context = *static_cast<SlsqpContext*>(data);
  if (gradient != nullptr) {
    std::fill(gradient, gradient + n, 0.0);
    std::fill(gradient, gradient + context.num_bins, 1.0);
  }
  return masses_of(context, x).sum() - 1.0;
}

// Epigraph rows: B_t(pi) - z <= 0 (bound) or z - n_t(pi) <= 0 (coverage).
void slsqp_epigraph(unsigned m, double* result, unsigned n, const double* x, double* gradient,
                    void* data) {
  const auto& context = *static_cast<SlsqpContext*>(data);
  const BoundProblem& problem = *context.problem;
  const Eigen::VectorXd masses = masses_of(context, x);
  const double z = x[context.num_bins];
  const bool coverage = context.options->objective.criterion == Criterion::kCoverage;
  Eigen::MatrixXd jacobian;
  Eigen::VectorXd values;
  if (coverage) {
    values = problem.coverage(masses);
    jacobian = problem.kernel_matrix();
  } else {
    values = problem.bound(masses, gradient != nullptr ? &jacobian : nullptr);
  }
  for (unsigned t = 0; t < m; ++t) {
    result[t] = coverage ? z - values[t] : values[t] - z;
    if (gradient != nullptr) {
      double* row = gradient + static_cast<std::size_t>(t) * n;
      for (int k = 0; k < context.num_bins; ++k) {
        row[k] = coverage ? -jacobian(t, k) : jacobian(t, k);
      }
      row[context.num_bins] = coverage ? 1.0 : -1.0;
    }
  }
}

// Preserve rows: B_s(pi) - (reference_s + tolerance) <= 0.
void slsqp_preserve(unsigned m, double* result, unsigned n, const double* x, double* gradient,
                    void* data) {
  const auto& context = *static_cast<SlsqpContext*>(data);
  const PreserveConstraint& preserve = *context.options->preserve;
  Eigen::MatrixXd jacobian;
  const Eigen::VectorXd values =
      preserve.problem.bound(masses_of(context, x), gradient != nullptr ? &jacobian : nullptr);
  for (unsigned s = 0; s < m; ++s) {
    result[s] = values[s] - (preserve.reference_bound[s] + preserve.tolerance);
    if (gradient != nullptr) {
      double* row = gradient + static_cast<std::size_t>(s) * n;
      std::fill(row, row + n, 0.0);
      for (int k = 0; k < context.num_bins; ++k) {
        row[k] = jacobian(s, k);
      }
    }
  }
}

Eigen::VectorXd lower_bounds_for(const BoundProblem& problem, const OptimizerOptions& options) {
  Eigen::VectorXd lower = options.density_floor * problem.bin_widths();
  if (options.objective.criterion == Criterion::kCoverage &&
      options.objective.objective == Objective::kMaxAvg) {
    lower = lower.cwiseMax(kEntropyMassLowerBound);
  }
  return lower;
}

// Largest violation of: sum = 1, bounds, preserve. The epigraph is not a constraint of the
// original problem (the objective is recomputed from pi), so it is not counted.
double max_violation(const BoundProblem& problem, const OptimizerOptions& options,
                     const Eigen::VectorXd& masses) {
  double violation = std::abs(masses.sum() - 1.0);
  const Eigen::VectorXd lower = options.density_floor * problem.bin_widths();
  violation = std::max(violation, (lower - masses).maxCoeff());
  if (options.preserve) {
    const Eigen::VectorXd values = options.preserve->problem.bound(masses);
    for (Eigen::Index s = 0; s < values.size(); ++s) {
      violation = std::max(violation, values[s] - options.preserve->reference_bound[s] -
                                          options.preserve->tolerance);
    }
  }
  return std::max(violation, 0.0);
}

SolveStatus status_from_nlopt(nlopt::result result) {
  switch (result) {
    case nlopt::SUCCESS:
    case nlopt::STOPVAL_REACHED:
    case nlopt::FTOL_REACHED:
    case nlopt::XTOL_REACHED:
      return SolveStatus::kConverged;
    case nlopt::MAXEVAL_REACHED:
    case nlopt::MAXTIME_REACHED:
      return SolveStatus::kMaxEvaluations;
    default:
      return SolveStatus::kFailed;
  }
}

std::string nlopt_result_name(nlopt::result result) {
  switch (result) {
    case nlopt::SUCCESS: return "success";
    case nlopt::STOPVAL_REACHED: return "stopval reached";
    case nlopt::FTOL_REACHED: return "ftol reached";
    case nlopt::XTOL_REACHED: return "xtol reached";
    case nlopt::MAXEVAL_REACHED: return "maxeval reached";
    case nlopt::MAXTIME_REACHED: return "maxtime reached";
    case nlopt::FAILURE: return "generic failure";
    case nlopt::INVALID_ARGS: return "invalid arguments";
    case nlopt::OUT_OF_MEMORY: return "out of memory";
    case nlopt::ROUNDOFF_LIMITED: return "roundoff limited";
    case nlopt::FORCED_STOP: return "forced stop";
    default: return fmt::format("code {}", static_cast<int>(result));
  }
}

struct StartOutcome {
  StartReport report;
  Eigen::VectorXd masses;
};

StartOutcome run_slsqp_start(const BoundProblem& problem, const OptimizerOptions& options,
                             const detail::StartingPoint& start, const Eigen::VectorXd& lower) {
  const auto began = Clock::now();
  const bool epigraph = options.objective.objective == Objective::kMinMax;
  const int num_bins = problem.num_bins();
  const unsigned dimension = static_cast<unsigned>(num_bins + (epigraph ? 1 : 0));

  SlsqpContext context{&problem, &options, epigraph, num_bins, 0};
  nlopt::opt solver(nlopt::LD_SLSQP, dimension);
  std::vector<double> lower_bounds(lower.data(), lower.data() + num_bins);
  std::vector<double> upper_bounds(num_bins, 1.0);
  if (epigraph) {
    lower_bounds.push_back(-HUGE_VAL);
    upper_bounds.push_back(HUGE_VAL);
  }
  solver.set_lower_bounds(lower_bounds);
  solver.set_upper_bounds(upper_bounds);
  solver.set_min_objective(slsqp_objective, &context);
  solver.add_equality_constraint(slsqp_simplex, &context, kNloptConstraintTolerance);
  if (epigraph) {
    solver.add_inequality_mconstraint(
        slsqp_epigraph, &context,
        std::vector<double>(problem.num_targets(), kNloptConstraintTolerance));
  }
  if (options.preserve) {
    solver.add_inequality_mconstraint(
        slsqp_preserve, &context,
        std::vector<double>(options.preserve->problem.num_targets(), kNloptConstraintTolerance));
  }
  solver.set_ftol_rel(options.relative_tolerance);
  solver.set_xtol_rel(options.relative_tolerance);
  solver.set_maxeval(options.max_evaluations);

  std::vector<double> x(start.masses.data(), start.masses.data() + num_bins);
  if (epigraph) {
    const bool coverage = options.objective.criterion == Criterion::kCoverage;
    x.push_back(coverage ? problem.coverage(start.masses).minCoeff()
                         : problem.bound(start.masses).maxCoeff());
  }

  StartOutcome outcome;
  outcome.report.start = start.name;
  outcome.report.method = "nlopt:LD_SLSQP";
  double final_value = 0.0;
  nlopt::result result = nlopt::FAILURE;
  try {
    result = solver.optimize(x, final_value);
  } catch (const nlopt::roundoff_limited&) {
    result = nlopt::ROUNDOFF_LIMITED;
  } catch (const nlopt::forced_stop&) {
    result = nlopt::FORCED_STOP;
  } catch (const std::invalid_argument&) {
    result = nlopt::INVALID_ARGS;
  } catch (const std::bad_alloc&) {
    result = nlopt::OUT_OF_MEMORY;
  } catch (const std::runtime_error&) {
    result = nlopt::FAILURE;
  }

  outcome.masses = Eigen::Map<const Eigen::VectorXd>(x.data(), num_bins);
  outcome.report.status = status_from_nlopt(result);
  outcome.report.solver_message = nlopt_result_name(result);
  outcome.report.evaluations = context.evaluations;
  outcome.report.objective = objective_value(options.objective, problem, outcome.masses);
  outcome.report.max_violation = max_violation(problem, options, outcome.masses);
  outcome.report.wall_seconds = seconds_since(began);
  return outcome;
}

StartOutcome solve_coverage_maxavg_closed_form(const BoundProblem& problem,
                                               const OptimizerOptions& options) {
  const auto began = Clock::now();
  const Eigen::Map<const Eigen::VectorXd> weights(problem.targets().weights.data(),
                                                  problem.num_targets());
  const double length = problem.domain().length(problem.coordinate());
  const Eigen::VectorXd kernel_average = length * problem.kernel_matrix().transpose() * weights;
  // pi_k = Delta_k exp(kbar_k / tau) / sum_j Delta_j exp(kbar_j / tau), with the maximum
  // exponent subtracted so the exponentials cannot overflow for small tau.
  const Eigen::VectorXd exponent = kernel_average / options.objective.entropy_weight;
  const double shift = exponent.maxCoeff();
  Eigen::VectorXd masses(problem.num_bins());
  for (int k = 0; k < problem.num_bins(); ++k) {
    masses[k] = problem.bin_widths()[k] * std::exp(exponent[k] - shift);
  }
  masses /= masses.sum();

  StartOutcome outcome;
  outcome.masses = masses;
  outcome.report.start = "closed-form";
  outcome.report.method = "closed-form";
  outcome.report.status = SolveStatus::kConverged;
  outcome.report.solver_message = "exact";
  outcome.report.objective = objective_value(options.objective, problem, masses);
  outcome.report.max_violation = max_violation(problem, options, masses);
  outcome.report.wall_seconds = seconds_since(began);
  return outcome;
}

StartOutcome solve_coverage_minmax_lp(const BoundProblem& problem, const OptimizerOptions& options) {
  const auto began = Clock::now();
  const int num_bins = problem.num_bins();
  const int num_targets = problem.num_targets();
  const Eigen::VectorXd lower = options.density_floor * problem.bin_widths();

  // Columns 1..K are the masses, column K+1 is z. Rows 1..T: K_t pi - z >= 0. Row T+1: sum pi = 1.
  glp_prob* lp = glp_create_prob();
  glp_set_obj_dir(lp, GLP_MAX);
  glp_add_cols(lp, num_bins + 1);
  for (int k = 1; k <= num_bins; ++k) {
    glp_set_col_bnds(lp, k, GLP_LO, lower[k - 1], 0.0);
    glp_set_obj_coef(lp, k, 0.0);
  }
  glp_set_col_bnds(lp, num_bins + 1, GLP_FR, 0.0, 0.0);
  glp_set_obj_coef(lp, num_bins + 1, 1.0);
  glp_add_rows(lp, num_targets + 1);
  for (int t = 1; t <= num_targets; ++t) {
    glp_set_row_bnds(lp, t, GLP_LO, 0.0, 0.0);
  }
  glp_set_row_bnds(lp, num_targets + 1, GLP_FX, 1.0, 1.0);

  // GLPK arrays are 1-based; element 0 is unused.
  std::vector<int> rows(1, 0);
  std::vector<int> columns(1, 0);
  std::vector<double> values(1, 0.0);
  for (int t = 1; t <= num_targets; ++t) {
    for (int k = 1; k <= num_bins; ++k) {
      rows.push_back(t);
      columns.push_back(k);
      values.push_back(problem.kernel_matrix()(t - 1, k - 1));
    }
    rows.push_back(t);
    columns.push_back(num_bins + 1);
    values.push_back(-1.0);
  }
  for (int k = 1; k <= num_bins; ++k) {
    rows.push_back(num_targets + 1);
    columns.push_back(k);
    values.push_back(1.0);
  }
  glp_load_matrix(lp, static_cast<int>(values.size()) - 1, rows.data(), columns.data(),
                  values.data());

  glp_smcp parameters;
  glp_init_smcp(&parameters);
  parameters.msg_lev = GLP_MSG_OFF;
  parameters.presolve = GLP_OFF;
  const int code = glp_simplex(lp, &parameters);
  const int status = glp_get_status(lp);

  StartOutcome outcome;
  outcome.report.start = "simplex";
  outcome.report.method = "glpk:simplex";
  outcome.report.evaluations = glp_get_it_cnt(lp);
  outcome.masses.resize(num_bins);
  for (int k = 1; k <= num_bins; ++k) {
    outcome.masses[k - 1] = glp_get_col_prim(lp, k);
  }
  glp_delete_prob(lp);

  if (code == 0 && status == GLP_OPT) {
    outcome.report.status = SolveStatus::kConverged;
    outcome.report.solver_message = "optimal";
  } else {
    outcome.report.status = SolveStatus::kFailed;
    outcome.report.solver_message = fmt::format("glp_simplex code {}, status {}", code, status);
  }
  outcome.report.objective = objective_value(options.objective, problem, outcome.masses);
  outcome.report.max_violation = max_violation(problem, options, outcome.masses);
  outcome.report.wall_seconds = seconds_since(began);
  return outcome;
}

std::vector<StartOutcome> run_slsqp_starts(const BoundProblem& problem,
                                           const OptimizerOptions& options) {
  const Eigen::VectorXd lower = lower_bounds_for(problem, options);
  const std::vector<detail::StartingPoint> starts =
      detail::make_starting_points(problem, options.num_starts, options.seed, lower);
  std::vector<StartOutcome> outcomes(starts.size());

  const unsigned hardware = std::max(1u, std::thread::hardware_concurrency());
  const unsigned num_threads = std::min<unsigned>(
      options.num_threads > 0 ? static_cast<unsigned>(options.num_threads) : hardware,
      static_cast<unsigned>(starts.size()));
  if (num_threads == 1) {
    for (std::size_t i = 0; i < starts.size(); ++i) {
      outcomes[i] = run_slsqp_start(problem, options, starts[i], lower);
    }
    return outcomes;
  }
  // Starts are independent, so each thread takes every num_threads-th start; results are stored
  // by start index and do not depend on the thread count.
  std::vector<std::exception_ptr> errors(num_threads);
  std::vector<std::thread> workers;
  for (unsigned worker = 0; worker < num_threads; ++worker) {
    workers.emplace_back([&, worker]() {
      try {
        for (std::size_t i = worker; i < starts.size(); i += num_threads) {
          outcomes[i] = run_slsqp_start(problem, options, starts[i], lower);
        }
      } catch (...) {
        errors[worker] = std::current_exception();
      }
    });
  }
  for (std::thread& thread : workers) {
    thread.join();
  }
  for (const std::exception_ptr& error : errors) {
    if (error) {
      std::rethrow_exception(error);
    }
  }
  return outcomes;
}

}  // namespace

std::string to_string(SolveStatus status) {
  switch (status) {
    case SolveStatus::kConverged: return "converged";
    case SolveStatus::kMaxEvaluations: return "max_evaluations";
    case SolveStatus::kFailed: return "failed";
    case SolveStatus::kInfeasible: return "infeasible";
  }
  return "unknown";
}

void OptimizerOptions::validate(const BoundProblem& problem) const {
  objective.validate();
  if (num_starts < 1) {
    throw InputError(fmt::format("invalid number of starts {}; use 1 or more", num_starts));
  }
  if (!std::isfinite(smoothness) || smoothness < 0.0) {
    throw InputError(fmt::format("invalid smoothness rho = {}; it must be >= 0", smoothness));
  }
  if (!std::isfinite(density_floor) || density_floor < 0.0 ||
      density_floor * problem.bin_widths().sum() >= 1.0) {
    throw InputError(fmt::format(
        "invalid density floor {}; it must be >= 0 and below 1 / L = {} so that mass remains "
        "to optimize",
        density_floor, 1.0 / problem.bin_widths().sum()));
  }
  if (objective.criterion == Criterion::kCoverage && (preserve || smoothness > 0.0)) {
    throw InputError(
        "--preserve and --smoothness apply to the bound criterion only; use --criterion bound");
  }
  if (preserve && preserve->reference_bound.size() !=
                      static_cast<std::size_t>(preserve->problem.num_targets())) {
    throw InputError("the preserve constraint needs one reference bound per standard mpp");
  }
  if (!std::isfinite(feasibility_tolerance) || feasibility_tolerance <= 0.0) {
    throw InputError("the feasibility tolerance must be > 0");
  }
  if (max_evaluations < 1) {
    throw InputError(fmt::format(
        "invalid --max-evaluations {}; use 1 or more evaluations per SLSQP start", max_evaluations));
  }
  if (num_threads < 0) {
    throw InputError(fmt::format(
        "invalid --threads {}; use 0 for one thread per core, or a positive count", num_threads));
  }
  if (!std::isfinite(relative_tolerance) || relative_tolerance <= 0.0) {
    throw InputError(fmt::format("invalid relative tolerance {}; it must be > 0",
                                 relative_tolerance));
  }
}

OptimizationResult optimize(const BoundProblem& problem, const OptimizerOptions& options) {
  options.validate(problem);
  const ObjectiveSpec& spec = options.objective;

  std::vector<StartOutcome> outcomes;
  const bool exact_available = options.solver == SolverChoice::kAutomatic &&
                               spec.criterion == Criterion::kCoverage;
  if (exact_available && spec.objective == Objective::kMinMax) {
    outcomes.push_back(solve_coverage_minmax_lp(problem, options));
  } else if (exact_available && options.density_floor == 0.0) {
    outcomes.push_back(solve_coverage_maxavg_closed_form(problem, options));
  } else {
    outcomes = run_slsqp_starts(problem, options);
  }

  OptimizationResult result;
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    StartReport& report = outcomes[i].report;
    const bool usable = report.status == SolveStatus::kConverged ||
                        report.status == SolveStatus::kMaxEvaluations;
    if (usable && report.max_violation > options.feasibility_tolerance) {
      report.status = SolveStatus::kInfeasible;
    }
    const bool feasible = report.status == SolveStatus::kConverged ||
                          report.status == SolveStatus::kMaxEvaluations;
    spdlog::debug("start {} ({}): {} after {} evaluations, objective {:.10g}, violation {:.2e}",
                  report.start, report.method, report.solver_message, report.evaluations,
                  report.objective, report.max_violation);
    if (feasible && (result.selected_start < 0 ||
                     is_better(spec.criterion, report.objective, result.objective))) {
      result.selected_start = static_cast<int>(i);
      result.objective = report.objective;
    }
  }
  for (const StartOutcome& outcome : outcomes) {
    result.starts.push_back(outcome.report);
  }
  if (result.selected_start < 0) {
    throw OptimizationFailed(
        fmt::format("no start of the {} {} optimization converged to a feasible point; see the "
                    "solver report, or relax --preserve-tolerance (bins cannot match the atoms "
                    "of DU exactly) or lower --density-floor",
                    to_string(spec.criterion), to_string(spec.objective)),
        result.starts);
  }
  result.starts[result.selected_start].selected = true;
  // Masses at the floor may sit a rounding error below it; the density constructor accepts any
  // mass >= 0, so only negative zeros from the solver are cleaned.
  result.masses = outcomes[result.selected_start].masses.cwiseMax(0.0);
  result.max_violation = max_violation(problem, options, result.masses);
  return result;
}

}  // namespace mgap
