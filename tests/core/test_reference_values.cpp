#include <doctest/doctest.h>

#include "mgap/optimizer.hpp"
#include "test_support.hpp"

using namespace mgap;

// Reference values printed by bench/core/reference_values.py (SciPy 1.10 HiGHS LP; bin averages of
// the kernel in closed form) for the ratio kernel q = 2 on [0.25, 2] mpp, 64 targets equally spaced
// in the coordinate, 256 bins. mgap integrates by Gauss-Legendre quadrature and solves the LP by
// GLPK's simplex method, so agreement to 1e-8 checks both the discretization and the solver.

namespace {

struct CoverageReference {
  Coordinate coordinate;
  double minmax_worst_coverage;
  double du_worst_coverage;
  double cu_worst_coverage;
  double maxavg_mean_mpp;
  double maxavg_mass_below_half_mpp;
};

const CoverageReference kReferences[] = {
    {Coordinate::kLog2Mpp, 0.32473837844753417, 0.2865319922795786, 0.23669215514584555,
     0.824309453963949, 0.31044120538958764},
    {Coordinate::kMpp, 0.32471549450803244, 0.2864583333333333, 0.125, 1.1775925517940549,
     0.10091236174164611},
};

// Quadrature against closed-form integrals, and simplex against HiGHS: both ~1e-12; 1e-8 leaves room.
constexpr double kReferenceTolerance = 1e-8;

constexpr int kNumBins = 256;
constexpr int kNumTargets = 64;

}  // namespace

TEST_CASE("coverage reference values") {
  for (const CoverageReference& reference : kReferences) {
    CAPTURE(to_string(reference.coordinate));
    const BoundProblem problem = test::make_problem(test::ratio_model(2.0), BoundParameters{},
                                                    reference.coordinate, kNumBins, kNumTargets);

    const OptimizationResult minmax = optimize(
        problem, test::optimizer_options(Criterion::kCoverage, Objective::kMinMax, 1));
    CHECK(minmax.objective == doctest::Approx(reference.minmax_worst_coverage).epsilon(kReferenceTolerance));

    const BoundCurve du = evaluate_bound(make_discrete_uniform(test::kDefaultDomain, reference.coordinate),
                                         test::ratio_model(2.0), BoundParameters{}, problem.targets().mpps);
    CHECK(*std::min_element(du.coverage.begin(), du.coverage.end()) ==
          doctest::Approx(reference.du_worst_coverage).epsilon(kReferenceTolerance));
    const Eigen::VectorXd cu_masses = Eigen::VectorXd::Constant(kNumBins, 1.0 / kNumBins);
    CHECK(problem.coverage(cu_masses).minCoeff() ==
          doctest::Approx(reference.cu_worst_coverage).epsilon(kReferenceTolerance));

    const OptimizationResult maxavg = optimize(
        problem, test::optimizer_options(Criterion::kCoverage, Objective::kMaxAvg, 1));
    const DensitySummary summary = problem.to_density(maxavg.masses).summary();
    CHECK(summary.mean_mpp == doctest::Approx(reference.maxavg_mean_mpp).epsilon(kReferenceTolerance));
    CHECK(summary.mass_below_half_mpp ==
          doctest::Approx(reference.maxavg_mass_below_half_mpp).epsilon(kReferenceTolerance));
  }
}
