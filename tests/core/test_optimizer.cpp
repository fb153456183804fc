#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "mgap/error.hpp"
#include "mgap/optimizer.hpp"
#include "test_support.hpp"

using namespace mgap;

namespace {

// SLSQP stops at ftol_rel 1e-12, but flat directions of the objective leave the objective itself
// accurate only to ~1e-9 relative; 1e-7 is the agreement asked of two different solvers.
constexpr double kSolverAgreement = 1e-7;
// The worst case counts as attained at a target within this relative distance of it.
constexpr double kEqualizerRelative = 1e-6;

double worst_coverage(const BoundProblem& problem, const Eigen::VectorXd& masses) {
  return problem.coverage(masses).minCoeff();
}

// Objective of DU, which has atoms and so is evaluated exactly rather than on the bins.
double du_objective(const BoundProblem& problem, const TransferModel& model, const ObjectiveSpec& spec) {
  const SamplingDensity du = make_discrete_uniform(problem.domain(), problem.coordinate());
  const BoundCurve curve = evaluate_bound(du, model, problem.parameters(), problem.targets().mpps);
  return objective_value(spec, curve, problem.targets().weights,
                         problem.domain().length(problem.coordinate()), false, 0.0);
}

}  // namespace

TEST_CASE("optimum beats DU, CU and random draws") {
  const TransferModel model = test::discrepancy_model(0.5);
  const BoundProblem problem = test::make_problem(model, BoundParameters{}, Coordinate::kLog2Mpp, 48, 32);
  for (const Objective objective : {Objective::kMaxAvg, Objective::kMinMax}) {
    CAPTURE(to_string(objective));
    const OptimizerOptions options = test::optimizer_options(Criterion::kBound, objective, 4);
    const OptimizationResult result = optimize(problem, options);
    CHECK(result.max_violation <= 1e-8);
    CHECK(result.objective <= du_objective(problem, model, options.objective));
    const Eigen::VectorXd cu = problem.bin_widths() / problem.bin_widths().sum();
    CHECK(result.objective <= objective_value(options.objective, problem, cu));

    RandomEngine engine(2024);
    for (int draw = 0; draw < 1000; ++draw) {
      Eigen::VectorXd masses(problem.num_bins());
      // Dirichlet(0.3) draws are spiky, so they probe corners of the simplex as well.
      for (Eigen::Index k = 0; k < masses.size(); ++k) {
        masses[k] = gamma_draw(engine, 0.3) + 1e-300;
      }
      masses /= masses.sum();
      REQUIRE(result.objective <= objective_value(options.objective, problem, masses));
    }
  }
}

TEST_CASE("coverage optimum beats random draws") {
  const BoundProblem problem =
      test::make_problem(test::ratio_model(2.0), BoundParameters{}, Coordinate::kMpp, 64, 32);
  const OptimizationResult minmax =
      optimize(problem, test::optimizer_options(Criterion::kCoverage, Objective::kMinMax, 1));
  const OptimizationResult maxavg =
      optimize(problem, test::optimizer_options(Criterion::kCoverage, Objective::kMaxAvg, 1));
  const ObjectiveSpec maxavg_spec{Criterion::kCoverage, Objective::kMaxAvg, 1.0};
  RandomEngine engine(99);
  for (int draw = 0; draw < 1000; ++draw) {
    Eigen::VectorXd masses(problem.num_bins());
    for (Eigen::Index k = 0; k < masses.size(); ++k) {
      masses[k] = gamma_draw(engine, 1.0);
    }
    masses /= masses.sum();
    REQUIRE(minmax.objective >= worst_coverage(problem, masses));
    REQUIRE(maxavg.objective >= objective_value(maxavg_spec, problem, masses));
  }
}

TEST_CASE("minmax optimum is an equalizer") {
  const TransferModel model = test::discrepancy_model(0.5);
  const BoundProblem problem = test::make_problem(model, BoundParameters{}, Coordinate::kLog2Mpp, 64, 64);
  const OptimizationResult result =
      optimize(problem, test::optimizer_options(Criterion::kBound, Objective::kMinMax, 2));
  const Eigen::VectorXd bound = problem.bound(result.masses);
  const double worst = bound.maxCoeff();
  std::vector<double> attained;
  for (int t = 0; t < problem.num_targets(); ++t) {
    if (bound[t] >= worst * (1.0 - kEqualizerRelative)) {
      attained.push_back(problem.targets().mpps[t]);
    }
  }
  CHECK(attained.size() >= 3);
  // Spread over the domain: the worst case is attained in the outer eighth (in log2 mpp) at each end.
  const double eighth = problem.domain().length(Coordinate::kLog2Mpp) / 8.0;
  CHECK(std::log2(attained.front()) <= std::log2(0.25) + eighth);
  CHECK(std::log2(attained.back()) >= std::log2(2.0) - eighth);

  // It moves mass toward the ends compared with CU, which under-serves them.
  const int outer_bins = problem.num_bins() / 8;
  CHECK(result.masses.head(outer_bins).sum() > 1.0 / 8.0);
  CHECK(result.masses.tail(outer_bins).sum() > 1.0 / 8.0);
}

TEST_CASE("symmetric problem gives mirrored optimum") {
  // In log2 mpp the kernel depends on |u - v| only, so reflecting the domain maps the problem to itself.
  const TransferModel model = test::discrepancy_model(0.5);
  const BoundProblem problem = test::make_problem(model, BoundParameters{}, Coordinate::kLog2Mpp, 32, 33);
  for (const auto& [criterion, objective] :
       {std::pair{Criterion::kBound, Objective::kMinMax}, std::pair{Criterion::kCoverage, Objective::kMaxAvg},
        std::pair{Criterion::kBound, Objective::kMaxAvg}}) {
    CAPTURE(to_string(criterion));
    CAPTURE(to_string(objective));
    OptimizerOptions options = test::optimizer_options(criterion, objective, 3);
    // A minmax optimum need not be unique; a tiny smoothness penalty selects the smoothest one,
    // which is unique and therefore symmetric.
    if (objective == Objective::kMinMax) {
      options.smoothness = 1e-6;
    }
    const OptimizationResult result = optimize(problem, options);
    const Eigen::VectorXd mirrored = result.masses.reverse();
    // Mirror symmetry within 1e-4 per bin mass: a flat optimum lets SLSQP stop slightly off symmetric.
    CHECK((result.masses - mirrored).cwiseAbs().maxCoeff() < 1e-4);
    CHECK(objective_value(options.objective, problem, mirrored) ==
          doctest::Approx(objective_value(options.objective, problem, result.masses)).epsilon(kSolverAgreement));
  }
}

TEST_CASE("grid refinement barely changes optimum") {
  const TransferModel model = test::discrepancy_model(0.5);
  const OptimizerOptions options = test::optimizer_options(Criterion::kBound, Objective::kMinMax, 1);
  const double coarse =
      optimize(test::make_problem(model, BoundParameters{}, Coordinate::kLog2Mpp, 64, 64), options).objective;
  const double fine =
      optimize(test::make_problem(model, BoundParameters{}, Coordinate::kLog2Mpp, 256, 64), options).objective;
  CHECK(std::abs(fine - coarse) / std::abs(fine) < 1e-3);
}

TEST_CASE("bound minmax without discrepancy equals coverage LP") {
  // With gamma = 0, B = A n^-beta is decreasing in n, so minmax B maximizes the minimum coverage:
  // the same worst coverage as the LP, for any A and beta.
  const TransferModel model = test::ratio_model(2.0);
  for (const auto& [amplitude, exponent] : {std::pair{0.1, 0.5}, std::pair{0.4, 1.5}}) {
    BoundParameters parameters;
    parameters.amplitude = amplitude;
    parameters.exponent = exponent;
    parameters.discrepancy_weight = 0.0;
    const BoundProblem problem = test::make_problem(model, parameters, Coordinate::kMpp, 48, 24);
    const OptimizationResult bound =
        optimize(problem, test::optimizer_options(Criterion::kBound, Objective::kMinMax, 2));
    const OptimizationResult lp =
        optimize(problem, test::optimizer_options(Criterion::kCoverage, Objective::kMinMax, 1));
    CHECK(worst_coverage(problem, bound.masses) == doctest::Approx(lp.objective).epsilon(kSolverAgreement));
    CHECK(bound.objective == doctest::Approx(amplitude * std::pow(lp.objective, -exponent)).epsilon(kSolverAgreement));
  }
}

TEST_CASE("exact coverage solvers agree with SLSQP") {
  const BoundProblem problem =
      test::make_problem(test::ratio_model(2.0), BoundParameters{}, Coordinate::kLog2Mpp, 40, 20);
  for (const Objective objective : {Objective::kMaxAvg, Objective::kMinMax}) {
    CAPTURE(to_string(objective));
    OptimizerOptions options = test::optimizer_options(Criterion::kCoverage, objective, 2);
    const OptimizationResult exact = optimize(problem, options);
    options.solver = SolverChoice::kSlsqp;
    const OptimizationResult slsqp = optimize(problem, options);
    CHECK(slsqp.objective == doctest::Approx(exact.objective).epsilon(kSolverAgreement));
    CHECK(exact.objective >= slsqp.objective - 1e-12);
  }
}

TEST_CASE("preserve keeps standard mpps no worse") {
  const TransferModel model = test::discrepancy_model(0.5);
  const BoundParameters parameters;
  // Bins cannot match the atoms of DU exactly (a bin's average kernel is below 1), so an exact
  // preserve is infeasible on coarse bins; 64 bins with a 0.01 slack is feasible and still active.
  const BoundProblem problem = test::make_problem(model, parameters, Coordinate::kLog2Mpp, 64, 32);
  TargetSet standard{standard_mpps(), std::vector<double>(4, 0.25), "standard"};
  const BoundCurve du = evaluate_bound(make_discrete_uniform(test::kDefaultDomain, Coordinate::kLog2Mpp),
                                       model, parameters, standard.mpps);
  OptimizerOptions options = test::optimizer_options(Criterion::kBound, Objective::kMaxAvg, 3);
  const double tolerance = 0.01;
  options.preserve = PreserveConstraint{
      BoundProblem(model, parameters, Coordinate::kLog2Mpp, test::kDefaultDomain, 64, standard), du.bound,
      tolerance, "du"};
  const OptimizationResult result = optimize(problem, options);
  const Eigen::VectorXd at_standard = options.preserve->problem.bound(result.masses);
  for (int s = 0; s < 4; ++s) {
    CHECK(at_standard[s] <= du.bound[s] + tolerance + 1e-8);
  }
  // The unconstrained optimum violates it, so the constraint was active.
  options.preserve.reset();
  const OptimizationResult free = optimize(problem, options);
  const Eigen::VectorXd free_at_standard =
      BoundProblem(model, parameters, Coordinate::kLog2Mpp, test::kDefaultDomain, 64, standard)
          .bound(free.masses);
  CHECK((free_at_standard - Eigen::Map<const Eigen::VectorXd>(du.bound.data(), 4)).maxCoeff() > tolerance);
  CHECK(result.objective >= free.objective);
}

TEST_CASE("smoothness and floor shape the optimum") {
  const TransferModel model = test::discrepancy_model(0.5);
  const BoundProblem problem = test::make_problem(model, BoundParameters{}, Coordinate::kLog2Mpp, 32, 32);
  OptimizerOptions options = test::optimizer_options(Criterion::kBound, Objective::kMaxAvg, 2);
  const OptimizationResult plain = optimize(problem, options);
  options.density_floor = 0.1;
  const OptimizationResult floored = optimize(problem, options);
  CHECK(floored.masses.minCoeff() >= 0.1 * problem.bin_widths()[0] - 1e-10);
  options.density_floor = 0.0;
  options.smoothness = 1.0;
  const OptimizationResult smooth = optimize(problem, options);
  auto roughness = [](const Eigen::VectorXd& masses) {
    return (masses.tail(masses.size() - 1) - masses.head(masses.size() - 1)).squaredNorm();
  };
  CHECK(roughness(smooth.masses) < roughness(plain.masses));
}

TEST_CASE("optimizer results are reproducible") {
  const TransferModel model = test::discrepancy_model(0.5);
  const BoundProblem problem = test::make_problem(model, BoundParameters{}, Coordinate::kLog2Mpp, 24, 16);
  OptimizerOptions options = test::optimizer_options(Criterion::kBound, Objective::kMinMax, 4);
  options.num_threads = 1;
  const OptimizationResult single = optimize(problem, options);
  options.num_threads = 3;
  const OptimizationResult threaded = optimize(problem, options);
  CHECK(single.masses == threaded.masses);
  CHECK(single.selected_start == threaded.selected_start);
}

TEST_CASE("optimizer rejects invalid options") {
  const BoundProblem problem =
      test::make_problem(test::ratio_model(2.0), BoundParameters{}, Coordinate::kLog2Mpp, 8, 4);
  OptimizerOptions options = test::optimizer_options(Criterion::kCoverage, Objective::kMaxAvg, 1);
  options.objective.entropy_weight = 0.0;
  CHECK_THROWS_AS(optimize(problem, options), InputError);
  options = test::optimizer_options(Criterion::kCoverage, Objective::kMinMax, 1);
  options.smoothness = 1.0;
  CHECK_THROWS_AS(optimize(problem, options), InputError);
  options = test::optimizer_options(Criterion::kBound, Objective::kMinMax, 0);
  CHECK_THROWS_AS(optimize(problem, options), InputError);
  options = test::optimizer_options(Criterion::kBound, Objective::kMinMax, 1);
  options.density_floor = 1.0;
  CHECK_THROWS_AS(optimize(problem, options), InputError);
}
