#include <doctest/doctest.h>

#include <cmath>

#include "mgap/bound.hpp"
#include "mgap/error.hpp"
#include "test_support.hpp"

using namespace mgap;
using mgap::test::kDefaultDomain;

namespace {

// Gauss-Legendre with 8 nodes on kink-free pieces of smooth integrands: errors near 1e-13.
constexpr double kQuadratureTolerance = 1e-11;
// Central differences with step 1e-6 on O(1) functions: truncation ~1e-12, rounding ~1e-10.
constexpr double kGradientRelativeTolerance = 1e-6;

// E|u - v| for u uniform on [a, b]: ((v - a)^2 + (b - v)^2) / (2 (b - a)) when a <= v <= b.
double mean_absolute_distance_uniform(double a, double b, double v) {
  return ((v - a) * (v - a) + (b - v) * (b - v)) / (2.0 * (b - a));
}

}  // namespace

TEST_CASE("ratio kernel matches its log2 form") {
  const TransferModel model = test::ratio_model(2.0);
  CHECK(model.kernel(0.5, 0.5) == 1.0);
  CHECK(model.kernel(0.5, 1.0) == doctest::Approx(0.25));
  CHECK(model.kernel(1.0, 0.5) == doctest::Approx(0.25));
  CHECK(model.kernel(0.3, 1.7) == doctest::Approx(std::exp2(-2.0 * std::abs(std::log2(0.3 / 1.7)))));
  CHECK(model.discrepancy(0.25, 2.0) == doctest::Approx(3.0));
}

TEST_CASE("discrepancy kernel equals ratio kernel at matched length") {
  // delta = |u - v| with l = 1 / (q ln 2) gives exp(-|u - v| q ln 2) = 2^(-q |u - v|).
  const double q = 2.0;
  const TransferModel ratio = test::ratio_model(q);
  const TransferModel discrepancy = test::discrepancy_model(1.0 / (q * std::log(2.0)));
  for (const double x : {0.25, 0.4, 1.1, 2.0}) {
    for (const double t : {0.3, 0.5, 1.5}) {
      CHECK(discrepancy.kernel(x, t) == doctest::Approx(ratio.kernel(x, t)).epsilon(1e-14));
    }
  }
}

TEST_CASE("bin averages match closed forms") {
  // Ratio kernel in log2: (1/w) int 2^(-q |u - v|) du, with the target inside the bin.
  const TransferModel model = test::ratio_model(2.0);
  const double rate = 2.0 * std::log(2.0);
  const double u0 = -1.0;
  const double u1 = -0.5;
  const double v = -0.8;
  const double expected =
      ((1.0 - std::exp(-rate * (v - u0))) + (1.0 - std::exp(-rate * (u1 - v)))) / rate / (u1 - u0);
  const BinAverages averages =
      average_over_bin(model, Coordinate::kLog2Mpp, std::exp2(u0), std::exp2(u1), std::exp2(v));
  CHECK(averages.kernel == doctest::Approx(expected).epsilon(kQuadratureTolerance));
}

TEST_CASE("many-target kernel average closed form") {
  // Ratio kernel q = 2 in mpp over [a, b] = [0.25, 2], uniform targets, continuum limit:
  // kbar(x) = L mean_t kappa(x, t) = 4x/3 - a^3 / (3 x^2) - x^2 / b.
  const TransferModel model = test::ratio_model(2.0);
  const double a = 0.25;
  const double b = 2.0;
  const int num_targets = 4001;  // trapezoid-like grid error O(1/num_targets^2) after weighting
  for (const double x : {0.3, 0.6, 1.0, 1.7}) {
    double sum = 0.0;
    for (int i = 0; i < num_targets; ++i) {
      const double t = a + (b - a) * i / (num_targets - 1);
      const double weight = (i == 0 || i == num_targets - 1) ? 0.5 : 1.0;
      sum += weight * model.kernel(x, t);
    }
    const double kbar = (b - a) * sum / (num_targets - 1);
    const double expected = 4.0 * x / 3.0 - a * a * a / (3.0 * x * x) - x * x / b;
    CHECK(kbar == doctest::Approx(expected).epsilon(1e-6));
  }
}

TEST_CASE("infinite transfer length gives mixture bound") {
  // l -> inf: n = 1, alpha = P, B = A + gamma E_P[delta] + lambda.
  BoundParameters parameters;
  parameters.floor = 0.05;
  const TransferModel model = test::discrepancy_model(std::numeric_limits<double>::infinity());
  const std::vector<double> targets = {0.25, 0.375, 0.7, 1.5, 2.0};

  const SamplingDensity uniform = make_continuous_uniform(kDefaultDomain, Coordinate::kLog2Mpp, 24);
  const BoundCurve curve = evaluate_bound(uniform, model, parameters, targets);
  for (std::size_t t = 0; t < targets.size(); ++t) {
    CHECK(curve.coverage[t] == doctest::Approx(1.0).epsilon(1e-14));
    const double expected = parameters.amplitude + parameters.floor +
                            parameters.discrepancy_weight *
                                mean_absolute_distance_uniform(-2.0, 1.0, std::log2(targets[t]));
    CHECK(curve.bound[t] == doctest::Approx(expected).epsilon(kQuadratureTolerance));
  }

  const SamplingDensity du = make_discrete_uniform(kDefaultDomain, Coordinate::kLog2Mpp);
  const BoundCurve du_curve = evaluate_bound(du, model, parameters, targets);
  for (std::size_t t = 0; t < targets.size(); ++t) {
    double mean_distance = 0.0;
    for (const double mpp : standard_mpps()) {
      mean_distance += 0.25 * std::abs(std::log2(mpp) - std::log2(targets[t]));
    }
    CHECK(du_curve.bound[t] == doctest::Approx(parameters.amplitude + parameters.floor +
                                               parameters.discrepancy_weight * mean_distance));
  }
}

TEST_CASE("bound of a point mass") {
  // One atom at s: n = kappa(s, t), E_alpha[delta] = delta(s, t).
  BoundParameters parameters;
  const TransferModel model = test::discrepancy_model(0.5);
  const SamplingDensity point = make_point(kDefaultDomain, Coordinate::kLog2Mpp, 0.5);
  const BoundCurve curve = evaluate_bound(point, model, parameters, {0.5, 1.0, 2.0});
  CHECK(curve.bound[0] == doctest::Approx(0.1));
  const double n = std::exp(-1.0 / 0.5);
  CHECK(curve.coverage[1] == doctest::Approx(n));
  CHECK(curve.bound[1] == doctest::Approx(0.1 / std::sqrt(n) + 0.1 * 1.0));
}

TEST_CASE("default parameters show the DU gap") {
  const BoundParameters parameters;
  const TransferModel model = test::discrepancy_model(0.5);
  const std::vector<double>& mpps = test_mpps();
  const BoundCurve du =
      evaluate_bound(make_discrete_uniform(kDefaultDomain, Coordinate::kLog2Mpp), model, parameters, mpps);
  const BoundCurve cu = evaluate_bound(
      make_continuous_uniform(kDefaultDomain, Coordinate::kLog2Mpp, 128), model, parameters, mpps);
  // Test mpps alternate standard, intermediate, standard, ...
  for (std::size_t i = 1; i + 1 < mpps.size(); i += 2) {
    CAPTURE(mpps[i]);
    CHECK(du.bound[i] > du.bound[i - 1]);
    CHECK(du.bound[i] > du.bound[i + 1]);
    CHECK(cu.bound[i] < du.bound[i]);
    CHECK_FALSE((cu.bound[i] > cu.bound[i - 1] && cu.bound[i] > cu.bound[i + 1]));
  }
}

TEST_CASE("bound Jacobian matches finite differences") {
  BoundParameters parameters;
  parameters.floor = 0.02;
  for (const Coordinate coordinate : {Coordinate::kLog2Mpp, Coordinate::kMpp}) {
    const BoundProblem problem =
        test::make_problem(test::discrepancy_model(0.7, 1.3), parameters, coordinate, 16, 9);
    RandomEngine engine(3);
    Eigen::VectorXd masses(problem.num_bins());
    for (Eigen::Index k = 0; k < masses.size(); ++k) {
      masses[k] = 0.2 + uniform01(engine);
    }
    masses /= masses.sum();

    Eigen::MatrixXd jacobian;
    problem.bound(masses, &jacobian);
    const double step = 1e-6;
    for (int k = 0; k < problem.num_bins(); ++k) {
      Eigen::VectorXd plus = masses;
      Eigen::VectorXd minus = masses;
      plus[k] += step;
      minus[k] -= step;
      const Eigen::VectorXd numeric = (problem.bound(plus) - problem.bound(minus)) / (2.0 * step);
      for (int t = 0; t < problem.num_targets(); ++t) {
        const double scale = std::max(std::abs(numeric[t]), 1e-3);
        CHECK(std::abs(jacobian(t, k) - numeric[t]) / scale < kGradientRelativeTolerance);
      }
    }
  }
}

TEST_CASE("discretized bound agrees with density evaluation") {
  const BoundParameters parameters;
  const TransferModel model = test::discrepancy_model(0.5);
  const BoundProblem problem = test::make_problem(model, parameters, Coordinate::kMpp, 32, 11);
  const SamplingDensity cu = make_continuous_uniform(kDefaultDomain, Coordinate::kMpp, 32);
  const Eigen::VectorXd masses = Eigen::VectorXd::Constant(32, 1.0 / 32.0);
  const Eigen::VectorXd bound = problem.bound(masses);
  const BoundCurve curve = evaluate_bound(cu, model, parameters, problem.targets().mpps);
  for (int t = 0; t < problem.num_targets(); ++t) {
    CHECK(bound[t] == doctest::Approx(curve.bound[t]).epsilon(1e-13));
  }
}

TEST_CASE("bound parameters reject invalid values") {
  BoundParameters parameters;
  parameters.amplitude = -1.0;
  CHECK_THROWS_AS(parameters.validate(), InputError);
  parameters = BoundParameters{};
  parameters.exponent = std::nan("");
  CHECK_THROWS_AS(parameters.validate(), InputError);
  CHECK_THROWS_AS(NormalizedDiscrepancy::power_law(1.0, 5.0), InputError);
  CHECK_THROWS_AS(NormalizedDiscrepancy::power_law(0.0, 1.0), InputError);
  TransferModelOptions options;
  options.transfer_length = 0.0;
  CHECK_THROWS_AS(TransferModel(options, NormalizedDiscrepancy::power_law(1.0, 1.0)), InputError);
}
