#include <doctest/doctest.h>

#include <Eigen/Core>

#include <cmath>
#include <vector>

#include "mgap/error.hpp"
#include "mgap/logistic_regression.hpp"
#include "mgap/random.hpp"

namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

// Central differences with step h have truncation error O(h^2 f''') and rounding error
// O(eps |f| / h); with h = 1e-5 and |f| ~ 1e2 both stay well below 1e-5 relative.
constexpr double kFiniteDifferenceStep = 1e-5;
constexpr double kGradientRelativeTolerance = 1e-5;

// Standard normal rows, shifted by `separation` along the features j with j mod K = c for class c.
struct Blobs {
  MatrixXd features;
  std::vector<int> labels;
};

Blobs make_blobs(const std::vector<int>& rows_per_class, int num_features, double separation,
                 std::uint64_t seed) {
  mgap::RandomEngine engine(seed);
  Blobs blobs;
  int total = 0;
  for (const int rows : rows_per_class) {
    total += rows;
  }
  blobs.features.resize(total, num_features);
  int row = 0;
  for (std::size_t c = 0; c < rows_per_class.size(); ++c) {
    for (int i = 0; i < rows_per_class[c]; ++i, ++row) {
      for (int j = 0; j < num_features; ++j) {
        const double centre = (j % static_cast<int>(rows_per_class.size())) == static_cast<int>(c)
                                  ? separation
                                  : 0.0;
        blobs.features(row, j) = centre + mgap::standard_normal(engine);
      }
      blobs.labels.push_back(static_cast<int>(c));
    }
  }
  return blobs;
}

void check_gradient(int num_classes, mgap::ClassWeighting weighting, bool fit_intercept,
                    int base_rows = 8) {
  // Unequal class sizes so that balanced weights differ from uniform ones.
  std::vector<int> rows_per_class;
  for (int c = 0; c < num_classes; ++c) {
    rows_per_class.push_back(base_rows + 5 * c);
  }
  const Blobs blobs = make_blobs(rows_per_class, 4, 1.5, 11);
  mgap::LogisticRegressionOptions options;
  options.num_classes = num_classes;
  options.class_weighting = weighting;
  options.fit_intercept = fit_intercept;
  options.inverse_regularization = 0.7;
  const int outputs = num_classes == 2 ? 1 : num_classes;
  const Eigen::Index num_parameters = 4 * outputs + (fit_intercept ? outputs : 0);
  mgap::RandomEngine engine(5);
  VectorXd parameters(num_parameters);
  for (Eigen::Index j = 0; j < num_parameters; ++j) {
    parameters(j) = 0.5 * mgap::standard_normal(engine);
  }

  VectorXd gradient;
  mgap::logistic_regression_objective(blobs.features, blobs.labels, options, parameters, gradient);
  REQUIRE(gradient.size() == num_parameters);
  for (Eigen::Index j = 0; j < num_parameters; ++j) {
    VectorXd plus = parameters;
    VectorXd minus = parameters;
    plus(j) += kFiniteDifferenceStep;
    minus(j) -= kFiniteDifferenceStep;
    VectorXd unused;
    const double f_plus =
        mgap::logistic_regression_objective(blobs.features, blobs.labels, options, plus, unused);
    const double f_minus =
        mgap::logistic_regression_objective(blobs.features, blobs.labels, options, minus, unused);
    const double numeric = (f_plus - f_minus) / (2.0 * kFiniteDifferenceStep);
    CAPTURE(j);
    CHECK(gradient(j) == doctest::Approx(numeric).epsilon(kGradientRelativeTolerance));
  }
}

double training_accuracy(const mgap::LogisticRegressionModel& model, const Blobs& blobs) {
  const std::vector<int> predicted = model.predict(blobs.features);
  int correct = 0;
  for (std::size_t i = 0; i < predicted.size(); ++i) {
    correct += predicted[i] == blobs.labels[i] ? 1 : 0;
  }
  return static_cast<double>(correct) / static_cast<double>(predicted.size());
}

}  // namespace

TEST_CASE("multinomial gradient matches finite differences") {
  check_gradient(3, mgap::ClassWeighting::kUniform, true);
  check_gradient(4, mgap::ClassWeighting::kBalanced, true);
  check_gradient(3, mgap::ClassWeighting::kBalanced, false);
}

TEST_CASE("binomial gradient matches finite differences") {
  check_gradient(2, mgap::ClassWeighting::kUniform, true);
  check_gradient(2, mgap::ClassWeighting::kBalanced, true);
}

TEST_CASE("gradient across row blocks") {
  // 315 and 205 rows: the objective sums blocks of 128 rows, the last one partial.
  check_gradient(3, mgap::ClassWeighting::kBalanced, true, 100);
  check_gradient(2, mgap::ClassWeighting::kUniform, true, 100);
}

TEST_CASE("separable data fits perfectly") {
  const Blobs three = make_blobs({30, 30, 30}, 3, 12.0, 21);
  mgap::LogisticRegressionOptions options;
  options.inverse_regularization = 100.0;
  const auto model = mgap::fit_logistic_regression(three.features, three.labels, options);
  CHECK(model.num_classes == 3);
  CHECK(model.coefficients.rows() == 3);
  CHECK(training_accuracy(model, three) == 1.0);

  const Blobs two = make_blobs({25, 40}, 2, 12.0, 22);
  const auto binary = mgap::fit_logistic_regression(two.features, two.labels, options);
  CHECK(binary.coefficients.rows() == 1);
  CHECK(training_accuracy(binary, two) == 1.0);
}

TEST_CASE("fit converges to a stationary point") {
  const Blobs blobs = make_blobs({40, 25, 35}, 5, 1.0, 31);
  mgap::LogisticRegressionOptions options;
  options.class_weighting = mgap::ClassWeighting::kBalanced;
  options.inverse_regularization = 0.3;
  const auto model = mgap::fit_logistic_regression(blobs.features, blobs.labels, options);
  CHECK(model.report.converged());
  CHECK(model.report.gradient_max_abs <= 1e-3);

  // The reported objective is the objective at the returned parameters.
  VectorXd parameters(5 * 3 + 3);
  Eigen::Map<MatrixXd>(parameters.data(), 5, 3) = model.coefficients.transpose();
  parameters.tail(3) = model.intercepts;
  VectorXd gradient;
  options.num_classes = 3;
  const double value =
      mgap::logistic_regression_objective(blobs.features, blobs.labels, options, parameters, gradient);
  CHECK(value == doctest::Approx(model.report.objective).epsilon(1e-12));

  // Probabilities are a distribution per row and their argmax is the prediction.
  const MatrixXd probabilities = model.predict_proba(blobs.features);
  const std::vector<int> predicted = model.predict(blobs.features);
  for (Eigen::Index i = 0; i < probabilities.rows(); ++i) {
    CHECK(probabilities.row(i).sum() == doctest::Approx(1.0).epsilon(1e-12));
    Eigen::Index best = 0;
    probabilities.row(i).maxCoeff(&best);
    CHECK(predicted[static_cast<std::size_t>(i)] == best);
  }
}

TEST_CASE("balanced weights favour the minority class") {
  // Overlapping classes, 9 to 1: uniform weights predict the majority almost everywhere, balanced
  // weights move the boundary towards the majority class.
  const Blobs blobs = make_blobs({270, 30}, 2, 1.0, 41);
  mgap::LogisticRegressionOptions options;
  const auto uniform = mgap::fit_logistic_regression(blobs.features, blobs.labels, options);
  options.class_weighting = mgap::ClassWeighting::kBalanced;
  const auto balanced = mgap::fit_logistic_regression(blobs.features, blobs.labels, options);

  auto count_minority = [&blobs](const mgap::LogisticRegressionModel& model) {
    int count = 0;
    for (const int label : model.predict(blobs.features)) {
      count += label;
    }
    return count;
  };
  CHECK(count_minority(balanced) > count_minority(uniform));
  CHECK(balanced.intercepts(0) > uniform.intercepts(0));
}

TEST_CASE("warm start reaches the same model") {
  const Blobs blobs = make_blobs({30, 30, 30}, 4, 1.0, 51);
  mgap::LogisticRegressionOptions options;
  options.inverse_regularization = 0.1;
  const auto first = mgap::fit_logistic_regression(blobs.features, blobs.labels, options);
  options.inverse_regularization = 1.0;
  const auto cold = mgap::fit_logistic_regression(blobs.features, blobs.labels, options);
  const auto warm = mgap::fit_logistic_regression(blobs.features, blobs.labels, options, &first);
  CHECK(warm.report.converged());
  // Both stop at gradient 1e-4 of a strongly convex objective (curvature >= 1/C = 1), so the
  // weights agree to about 1e-4.
  CHECK((warm.coefficients - cold.coefficients).cwiseAbs().maxCoeff() < 1e-3);
}

TEST_CASE("C path equals chained fits") {
  const Blobs blobs = make_blobs({90, 60, 150}, 5, 1.0, 52);
  mgap::LogisticRegressionOptions options;
  options.class_weighting = mgap::ClassWeighting::kBalanced;
  const std::vector<double> grid = {0.01, 0.1, 1.0, 10.0};
  const auto path = mgap::fit_logistic_regression_path(blobs.features, blobs.labels, options, grid);
  REQUIRE(path.size() == grid.size());
  const mgap::LogisticRegressionModel* previous = nullptr;
  for (std::size_t index = 0; index < grid.size(); ++index) {
    CAPTURE(index);
    options.inverse_regularization = grid[index];
    const auto chained =
        mgap::fit_logistic_regression(blobs.features, blobs.labels, options, previous);
    // Same objective, same start, same arithmetic: bit-for-bit equal.
    CHECK(path[index].coefficients == chained.coefficients);
    CHECK(path[index].intercepts == chained.intercepts);
    CHECK(path[index].report.num_evaluations == chained.report.num_evaluations);
    previous = &path[index];
  }
  CHECK_THROWS_AS(mgap::fit_logistic_regression_path(blobs.features, blobs.labels, options, {1.0, 0.0}),
                  mgap::InputError);
}

TEST_CASE("logistic regression rejects bad input") {
  const Blobs blobs = make_blobs({10, 10}, 3, 2.0, 61);
  const std::vector<int> one_class(20, 0);
  CHECK_THROWS_AS(mgap::fit_logistic_regression(blobs.features, one_class), mgap::InputError);

  std::vector<int> short_labels(blobs.labels.begin(), blobs.labels.end() - 1);
  CHECK_THROWS_AS(mgap::fit_logistic_regression(blobs.features, short_labels), mgap::InputError);

  std::vector<int> negative = blobs.labels;
  negative[3] = -1;
  CHECK_THROWS_AS(mgap::fit_logistic_regression(blobs.features, negative), mgap::InputError);

  mgap::LogisticRegressionOptions gap;
  gap.num_classes = 3;  // class 2 has no rows
  CHECK_THROWS_AS(mgap::fit_logistic_regression(blobs.features, blobs.labels, gap),
                  mgap::InputError);

  mgap::LogisticRegressionOptions bad_c;
  bad_c.inverse_regularization = 0.0;
  CHECK_THROWS_AS(mgap::fit_logistic_regression(blobs.features, blobs.labels, bad_c),
                  mgap::InputError);

  MatrixXd with_nan = blobs.features;
  with_nan(2, 1) = std::nan("");
  CHECK_THROWS_AS(mgap::fit_logistic_regression(with_nan, blobs.labels), mgap::InputError);

  const auto model = mgap::fit_logistic_regression(blobs.features, blobs.labels);
  const MatrixXd wrong_width = MatrixXd::Zero(4, 5);
  CHECK_THROWS_AS(model.predict(wrong_width), mgap::InputError);
}
