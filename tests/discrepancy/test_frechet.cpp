#include <doctest/doctest.h>

#include <Eigen/Dense>
#include <cmath>
#include <unsupported/Eigen/MatrixFunctions>

#include "mgap/discrepancy.hpp"
#include "mgap/random.hpp"

namespace {

// Agreement of two exact routes to the same number, limited by eigensolver rounding.
constexpr double kExactTolerance = 1e-9;

Eigen::MatrixXd standard_normal_matrix(Eigen::Index rows, Eigen::Index cols, std::uint64_t seed) {
  mgap::RandomEngine engine(seed);
  Eigen::MatrixXd matrix(rows, cols);
  for (Eigen::Index i = 0; i < rows; ++i) {
    for (Eigen::Index j = 0; j < cols; ++j) {
      matrix(i, j) = mgap::standard_normal(engine);
    }
  }
  return matrix;
}

// A Gaussian fit with the given mean and covariance, its square root from Eigen's own solver.
mgap::GaussianFit make_fit(const Eigen::VectorXd& mean, const Eigen::MatrixXd& covariance) {
  mgap::GaussianFit fit;
  fit.mean = mean;
  fit.covariance = covariance;
  fit.covariance_sqrt = Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(covariance).operatorSqrt();
  fit.covariance_trace = covariance.trace();
  return fit;
}

Eigen::MatrixXd random_covariance(Eigen::Index dim, std::uint64_t seed) {
  const Eigen::MatrixXd factor = standard_normal_matrix(dim, dim, seed);
  return factor * factor.transpose() / static_cast<double>(dim) +
         0.1 * Eigen::MatrixXd::Identity(dim, dim);
}

}  // namespace

TEST_CASE("frechet diagonal closed form") {
  // Commuting covariances: W2^2 = |mu_x - mu_y|^2 + sum_k (sqrt(a_k) - sqrt(b_k))^2.
  const Eigen::VectorXd variances_x = (Eigen::VectorXd(3) << 1.0, 4.0, 0.25).finished();
  const Eigen::VectorXd variances_y = (Eigen::VectorXd(3) << 9.0, 1.0, 0.25).finished();
  const Eigen::VectorXd mean_x = (Eigen::VectorXd(3) << 0.0, 1.0, 2.0).finished();
  const Eigen::VectorXd mean_y = (Eigen::VectorXd(3) << 1.0, 1.0, 0.0).finished();
  const auto report = mgap::frechet_distance(make_fit(mean_x, variances_x.asDiagonal().toDenseMatrix()),
                                             make_fit(mean_y, variances_y.asDiagonal().toDenseMatrix()));
  // |dmu|^2 = 1 + 0 + 4; (1 - 3)^2 + (2 - 1)^2 + 0 = 5.
  CHECK(report.distance == doctest::Approx(std::sqrt(10.0)).epsilon(kExactTolerance));
}

TEST_CASE("frechet general covariances") {
  // Independent route: tr((Sigma_x Sigma_y)^{1/2}) by Eigen's general matrix square root.
  const Eigen::Index dim = 6;
  const Eigen::MatrixXd cov_x = random_covariance(dim, 1);
  const Eigen::MatrixXd cov_y = random_covariance(dim, 2);
  const Eigen::VectorXd mean_x = standard_normal_matrix(dim, 1, 3);
  const Eigen::VectorXd mean_y = standard_normal_matrix(dim, 1, 4);
  const Eigen::MatrixXd product = cov_x * cov_y;
  const double trace_sqrt = product.sqrt().trace();
  const double expected = std::sqrt((mean_x - mean_y).squaredNorm() + cov_x.trace() +
                                    cov_y.trace() - 2.0 * trace_sqrt);
  const auto report = mgap::frechet_distance(make_fit(mean_x, cov_x), make_fit(mean_y, cov_y));
  CHECK(report.distance == doctest::Approx(expected).epsilon(kExactTolerance));
  CHECK(report.num_clamped == 0);
  const auto swapped = mgap::frechet_distance(make_fit(mean_y, cov_y), make_fit(mean_x, cov_x));
  CHECK(swapped.distance == doctest::Approx(expected).epsilon(kExactTolerance));
}

TEST_CASE("frechet samples approach closed form") {
  // N(0, I) against N(mu, 4 I) in 3 dimensions: W2^2 = |mu|^2 + 3 (2 - 1)^2 = 1 + 3 = 4.
  const Eigen::MatrixXd x = standard_normal_matrix(20000, 3, 5);
  Eigen::MatrixXd y = 2.0 * standard_normal_matrix(20000, 3, 6);
  y.col(0).array() += 1.0;
  // Sampling error of the mean and covariance at n = 20000 moves the distance by about 1%.
  constexpr double kSamplingTolerance = 0.03;
  CHECK(mgap::frechet_distance(x, y).distance == doctest::Approx(2.0).epsilon(kSamplingTolerance));
}

TEST_CASE("frechet identical sets exactly zero") {
  for (const Eigen::Index rows : {50, 5}) {  // the second has more dimensions (12) than rows
    CAPTURE(rows);
    const Eigen::MatrixXd x = standard_normal_matrix(rows, 12, 7);
    const mgap::FrechetReport report = mgap::frechet_distance(x, x);
    CHECK(report.distance == 0.0);
  }
}

TEST_CASE("frechet rank deficient stays finite") {
  // 5 rows in 12 dimensions: covariances of rank 4, many zero eigenvalues that rounding makes
  // slightly negative. Reversing the rows gives the same distribution, so the distance is 0 up to
  // rounding, and must not be NaN.
  const Eigen::MatrixXd x = standard_normal_matrix(5, 12, 8);
  const Eigen::MatrixXd reversed = x.colwise().reverse();
  const mgap::FrechetReport report = mgap::frechet_distance(x, reversed);
  CHECK(std::isfinite(report.distance));
  // Relative to the spread sqrt(tr Sigma) ~ sqrt(12), the rounding residue is tiny.
  CHECK(report.distance < 1e-5);

  const mgap::GaussianFit fit = mgap::fit_gaussian(x);
  CHECK(fit.covariance_sqrt.allFinite());
  CHECK(fit.num_clamped >= 0);
  const Eigen::MatrixXd y = standard_normal_matrix(5, 12, 9);
  const mgap::FrechetReport other = mgap::frechet_distance(x, y);
  CHECK(std::isfinite(other.distance));
  CHECK(other.distance > 0.0);
}

TEST_CASE("weighted gaussian fit duplicates rows") {
  const Eigen::MatrixXd x = standard_normal_matrix(6, 3, 10);
  Eigen::VectorXd weights = Eigen::VectorXd::Ones(6);
  weights(2) = 3.0;
  weights(4) = 0.0;
  Eigen::MatrixXd expanded(7, 3);
  expanded << x.row(0), x.row(1), x.row(2), x.row(2), x.row(2), x.row(3), x.row(5);
  const mgap::GaussianFit weighted = mgap::fit_gaussian(x, weights);
  const mgap::GaussianFit explicit_rows = mgap::fit_gaussian(expanded);
  CHECK((weighted.mean - explicit_rows.mean).norm() < 1e-12);
  CHECK((weighted.covariance - explicit_rows.covariance).norm() < 1e-12);
}

TEST_CASE("mean distance and paired cosine") {
  Eigen::MatrixXd x(2, 2);
  x << 1.0, 0.0, 0.0, 2.0;
  Eigen::MatrixXd y(3, 2);
  y << 0.0, 1.0, 1.0, 1.0, 0.0, 0.0;
  // Means (0.5, 1) and (1/3, 2/3).
  CHECK(mgap::mean_distance(x, y) ==
        doctest::Approx(std::sqrt(1.0 / 36.0 + 1.0 / 9.0)).epsilon(1e-12));
  // Pairs: (x0, y0) orthogonal -> 1; (x1, y1) cos = 2 / (2 sqrt 2) -> 1 - 1/sqrt 2;
  // (x0, y2) zero row -> 1.
  const std::vector<std::pair<Eigen::Index, Eigen::Index>> pairs = {{0, 0}, {1, 1}, {0, 2}};
  CHECK(mgap::paired_cosine_distance(x, y, pairs) ==
        doctest::Approx((2.0 + 1.0 - 1.0 / std::sqrt(2.0)) / 3.0).epsilon(1e-12));
  const Eigen::VectorXd weights = (Eigen::VectorXd(3) << 0.0, 2.0, 0.0).finished();
  CHECK(mgap::paired_cosine_distance(x, y, pairs, weights) ==
        doctest::Approx(1.0 - 1.0 / std::sqrt(2.0)).epsilon(1e-12));
}
