#include <doctest/doctest.h>

#include <Eigen/Core>
#include <Eigen/QR>

#include <cmath>

#include "mgap/error.hpp"
#include "mgap/random.hpp"
#include "mgap/rankme.hpp"

namespace {

// Eigenvalues from a symmetric eigensolver are accurate to a few ulps of the largest one.
constexpr double kRankMeTolerance = 1e-9;

Eigen::MatrixXd random_matrix(Eigen::Index rows, Eigen::Index cols, std::uint64_t seed) {
  mgap::RandomEngine engine(seed);
  Eigen::MatrixXd matrix(rows, cols);
  for (Eigen::Index j = 0; j < cols; ++j) {
    for (Eigen::Index i = 0; i < rows; ++i) {
      matrix(i, j) = mgap::standard_normal(engine);
    }
  }
  return matrix;
}

// Rows whose sample covariance is exactly the identity (up to rounding): centred orthonormal
// columns scaled by sqrt(n - 1).
Eigen::MatrixXd whitened(Eigen::Index rows, Eigen::Index cols, std::uint64_t seed) {
  Eigen::MatrixXd matrix = random_matrix(rows, cols, seed);
  matrix.rowwise() -= matrix.colwise().mean();
  const Eigen::HouseholderQR<Eigen::MatrixXd> qr(matrix);
  const Eigen::MatrixXd q = qr.householderQ() * Eigen::MatrixXd::Identity(rows, cols);
  return std::sqrt(static_cast<double>(rows - 1)) * q;
}

}  // namespace

TEST_CASE("RankMe of identity covariance") {
  for (const Eigen::Index dim : {1, 7, 32}) {
    CAPTURE(dim);
    CHECK(mgap::rankme(whitened(200, dim, 3)) ==
          doctest::Approx(static_cast<double>(dim)).epsilon(kRankMeTolerance));
  }
}

TEST_CASE("RankMe of two equal directions") {
  Eigen::MatrixXd embeddings = Eigen::MatrixXd::Zero(100, 10);
  embeddings.leftCols(2) = whitened(100, 2, 4);
  // The eight zero eigenvalues are clamped at 1e-12, which moves the result by ~1e-10.
  CHECK(mgap::rankme(embeddings) == doctest::Approx(2.0).epsilon(1e-8));
}

TEST_CASE("RankMe of rank-one data") {
  const Eigen::MatrixXd scores = random_matrix(150, 1, 5);
  const Eigen::MatrixXd direction = random_matrix(1, 16, 6);
  const Eigen::MatrixXd embeddings = scores * direction + Eigen::MatrixXd::Constant(150, 16, 0.3);
  const double rank = mgap::rankme(embeddings);
  CHECK(rank >= 1.0);
  // Rounding leaves eigenvalues of order 1e-15 |lambda_1| besides the one direction.
  CHECK(rank == doctest::Approx(1.0).epsilon(1e-6));
}

TEST_CASE("RankMe rejects degenerate input") {
  CHECK_THROWS_AS(mgap::rankme(Eigen::MatrixXd::Zero(50, 8)), mgap::InputError);
  CHECK_THROWS_AS(mgap::rankme(Eigen::MatrixXd::Constant(50, 8, 2.5)), mgap::InputError);
  CHECK_THROWS_AS(mgap::rankme(Eigen::MatrixXd::Ones(1, 8)), mgap::InputError);
  Eigen::MatrixXd with_nan = random_matrix(20, 3, 7);
  with_nan(4, 1) = std::nan("");
  CHECK_THROWS_AS(mgap::rankme(with_nan), mgap::InputError);
}
