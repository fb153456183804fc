#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "mgap/discrepancy.hpp"
#include "mgap/error.hpp"
#include "mgap/random.hpp"

namespace {

// Rows drawn from N(mean, std_dev^2 I) with mgap's seeded engine.
Eigen::MatrixXd gaussian_rows(Eigen::Index rows, const Eigen::VectorXd& mean, double std_dev,
                              std::uint64_t seed) {
  mgap::RandomEngine engine(seed);
  Eigen::MatrixXd samples(rows, mean.size());
  for (Eigen::Index i = 0; i < rows; ++i) {
    for (Eigen::Index j = 0; j < mean.size(); ++j) {
      samples(i, j) = mean(j) + std_dev * mgap::standard_normal(engine);
    }
  }
  return samples;
}

// Population MMD^2 between N(0, s^2 I_D) and N(mu, s^2 I_D) under the Gaussian kernel of
// bandwidth sigma: with c = (sigma^2 / (sigma^2 + 2 s^2))^(D/2),
// MMD^2 = 2 c (1 - exp(-|mu|^2 / (2 (sigma^2 + 2 s^2)))).
double closed_form_mmd_squared(double sigma, double s, int dim, double mean_norm) {
  const double spread = sigma * sigma + 2.0 * s * s;
  const double c = std::pow(sigma * sigma / spread, 0.5 * dim);
  return 2.0 * c * (1.0 - std::exp(-mean_norm * mean_norm / (2.0 * spread)));
}

// Standard deviation of the unbiased MMD^2 for these settings (n = 1000 per sample), measured
// over 20 NumPy seeds: 0.0067 for the shifted pair and 0.00043 for one distribution. The
// tolerances are about 4 standard deviations.
constexpr double kShiftedTolerance = 0.025;
constexpr double kSameDistributionTolerance = 0.002;
// Sums in a different order agree to rounding.
constexpr double kRoundingTolerance = 1e-12;

}  // namespace

TEST_CASE("mmd matches gaussian closed form") {
  const int dim = 4;
  const double sigma = 2.0;
  Eigen::VectorXd shift = Eigen::VectorXd::Zero(dim);
  shift(0) = 1.0;
  const Eigen::MatrixXd x = gaussian_rows(1000, Eigen::VectorXd::Zero(dim), 1.0, 11);
  const Eigen::MatrixXd y = gaussian_rows(1000, shift, 1.0, 12);
  const double expected = closed_form_mmd_squared(sigma, 1.0, dim, 1.0);
  CHECK(expected == doctest::Approx(0.0710716).epsilon(1e-5));
  CHECK(std::abs(mgap::mmd_squared(x, y, sigma) - expected) < kShiftedTolerance);
}

TEST_CASE("mmd same distribution near zero") {
  const Eigen::VectorXd origin = Eigen::VectorXd::Zero(4);
  const Eigen::MatrixXd x = gaussian_rows(1000, origin, 1.0, 21);
  const Eigen::MatrixXd y = gaussian_rows(1000, origin, 1.0, 22);
  CHECK(std::abs(mgap::mmd_squared(x, y, 2.0)) < kSameDistributionTolerance);
}

TEST_CASE("mmd invariant to row order") {
  Eigen::VectorXd shift = Eigen::VectorXd::Zero(6);
  shift(2) = 0.7;
  const Eigen::MatrixXd x = gaussian_rows(300, Eigen::VectorXd::Zero(6), 1.0, 31);
  const Eigen::MatrixXd y = gaussian_rows(250, shift, 1.0, 32);
  std::vector<Eigen::Index> order(300);
  std::iota(order.begin(), order.end(), Eigen::Index{0});
  std::reverse(order.begin(), order.end());
  std::rotate(order.begin(), order.begin() + 117, order.end());
  Eigen::MatrixXd permuted(300, 6);
  for (Eigen::Index i = 0; i < 300; ++i) {
    permuted.row(i) = x.row(order[static_cast<std::size_t>(i)]);
  }
  const double reference = mgap::mmd_squared(x, y, 1.5);
  CHECK(mgap::mmd_squared(permuted, y, 1.5) == doctest::Approx(reference).epsilon(kRoundingTolerance));
  CHECK(mgap::mmd_squared(y, x, 1.5) == doctest::Approx(reference).epsilon(kRoundingTolerance));
}

TEST_CASE("mmd independent of tile size") {
  const Eigen::MatrixXd x = gaussian_rows(203, Eigen::VectorXd::Zero(5), 1.0, 41);
  const Eigen::MatrixXd y = gaussian_rows(97, Eigen::VectorXd::Constant(5, 0.3), 1.0, 42);
  const double reference = mgap::mmd_squared(x, y, 1.0);
  for (const Eigen::Index block : {1, 7, 64, 1000}) {
    CAPTURE(block);
    mgap::MmdOptions options;
    options.block_rows = block;
    CHECK(mgap::mmd_squared(x, y, 1.0, options) ==
          doctest::Approx(reference).epsilon(kRoundingTolerance));
  }
}

TEST_CASE("mmd zero weights select rows") {
  const Eigen::MatrixXd x = gaussian_rows(60, Eigen::VectorXd::Zero(3), 1.0, 51);
  const Eigen::MatrixXd y = gaussian_rows(40, Eigen::VectorXd::Constant(3, 0.5), 1.0, 52);
  Eigen::MatrixXd weights_x = Eigen::MatrixXd::Ones(60, 2);
  Eigen::MatrixXd weights_y = Eigen::MatrixXd::Ones(40, 2);
  weights_x.col(1).tail(20).setZero();
  weights_y.col(1).head(15).setZero();
  const Eigen::VectorXd values = mgap::weighted_mmd_squared(x, y, 1.2, weights_x, weights_y);
  CHECK(values(0) == doctest::Approx(mgap::mmd_squared(x, y, 1.2)).epsilon(kRoundingTolerance));
  CHECK(values(1) == doctest::Approx(mgap::mmd_squared(x.topRows(40), y.bottomRows(25), 1.2))
                         .epsilon(kRoundingTolerance));
}

TEST_CASE("pairwise mmd matches single pairs") {
  std::vector<Eigen::MatrixXd> sets;
  std::vector<Eigen::MatrixXd> weights;
  for (int i = 0; i < 3; ++i) {
    sets.push_back(gaussian_rows(50 + 10 * i, Eigen::VectorXd::Constant(4, 0.2 * i), 1.0, 80 + i));
    Eigen::MatrixXd set_weights = Eigen::MatrixXd::Ones(sets.back().rows(), 2);
    set_weights.col(1).head(7).setZero();
    set_weights(10, 1) = 3.0;
    weights.push_back(set_weights);
  }
  Eigen::MatrixXd sigmas(3, 3);
  sigmas << 1.0, 1.5, 0.8, 1.5, 1.0, 2.0, 0.8, 2.0, 1.0;
  mgap::MmdOptions options;
  options.block_rows = 16;
  const std::vector<const Eigen::MatrixXd*> samples = {&sets[0], &sets[1], &sets[2]};
  const Eigen::MatrixXd all = mgap::pairwise_mmd_squared(samples, sigmas, weights, options);
  REQUIRE(all.rows() == 3);
  int pair = 0;
  for (int i = 0; i < 3; ++i) {
    for (int j = i + 1; j < 3; ++j) {
      CAPTURE(pair);
      const Eigen::VectorXd single =
          mgap::weighted_mmd_squared(sets[i], sets[j], sigmas(i, j), weights[i], weights[j]);
      CHECK(all(pair, 0) == doctest::Approx(single(0)).epsilon(kRoundingTolerance));
      CHECK(all(pair, 1) == doctest::Approx(single(1)).epsilon(kRoundingTolerance));
      ++pair;
    }
  }
}

TEST_CASE("median heuristic matches brute force") {
  const Eigen::MatrixXd x = gaussian_rows(30, Eigen::VectorXd::Zero(3), 1.0, 61);
  const Eigen::MatrixXd y = gaussian_rows(20, Eigen::VectorXd::Constant(3, 1.0), 1.0, 62);
  mgap::BandwidthOptions options;
  options.max_points = 1000;  // larger than the pooled sample: every row is used
  const mgap::BandwidthReport report = mgap::median_heuristic_bandwidth(x, y, options);
  CHECK(report.subsample_rows.size() == 50);

  Eigen::MatrixXd pooled(50, 3);
  pooled << x, y;
  std::vector<double> distances;
  for (Eigen::Index i = 0; i < 50; ++i) {
    for (Eigen::Index j = i + 1; j < 50; ++j) {
      distances.push_back((pooled.row(i) - pooled.row(j)).norm());
    }
  }
  std::sort(distances.begin(), distances.end());
  REQUIRE(distances.size() == 1225);  // odd, so the median is the middle value
  const double median = distances[612];
  CHECK(report.sigma == doctest::Approx(median).epsilon(1e-12));
  CHECK_FALSE(report.used_mean_fallback);
}

TEST_CASE("median heuristic subsample is seeded") {
  const Eigen::MatrixXd x = gaussian_rows(100, Eigen::VectorXd::Zero(2), 1.0, 71);
  const Eigen::MatrixXd y = gaussian_rows(100, Eigen::VectorXd::Zero(2), 1.0, 72);
  mgap::BandwidthOptions options;
  options.max_points = 40;
  options.seed = 5;
  const auto first = mgap::median_heuristic_bandwidth(x, y, options);
  const auto again = mgap::median_heuristic_bandwidth(x, y, options);
  options.seed = 6;
  const auto other = mgap::median_heuristic_bandwidth(x, y, options);
  CHECK(first.subsample_rows.size() == 40);
  CHECK(first.subsample_rows == again.subsample_rows);
  CHECK(first.sigma == again.sigma);
  CHECK(first.subsample_rows != other.subsample_rows);
}

TEST_CASE("median heuristic zero median fallback") {
  // 80% of the rows are one point, so more than half the pairwise distances are 0.
  Eigen::MatrixXd x = Eigen::MatrixXd::Zero(40, 3);
  Eigen::MatrixXd y = Eigen::MatrixXd::Zero(10, 3);
  y.col(0).setConstant(2.0);
  const mgap::BandwidthReport report = mgap::median_heuristic_bandwidth(x, y, {});
  CHECK(report.median_distance == 0.0);
  CHECK(report.used_mean_fallback);
  CHECK_FALSE(report.used_unit_fallback);
  // Mean over the 1225 pairs: 400 cross pairs at distance 2.
  CHECK(report.sigma == doctest::Approx(2.0 * 400.0 / 1225.0).epsilon(1e-12));
  CHECK(std::isfinite(mgap::mmd_squared(x, y, report.sigma)));

  const Eigen::MatrixXd same = Eigen::MatrixXd::Ones(10, 3);
  const mgap::BandwidthReport degenerate = mgap::median_heuristic_bandwidth(same, same, {});
  CHECK(degenerate.used_unit_fallback);
  CHECK(degenerate.sigma == 1.0);
}

TEST_CASE("mmd rejects bad input") {
  const Eigen::MatrixXd x = Eigen::MatrixXd::Zero(5, 3);
  const Eigen::MatrixXd y = Eigen::MatrixXd::Zero(5, 4);
  CHECK_THROWS_AS(mgap::mmd_squared(x, y, 1.0), mgap::InputError);
  CHECK_THROWS_AS(mgap::mmd_squared(x, x, 0.0), mgap::InputError);
  CHECK_THROWS_AS(mgap::mmd_squared(x.topRows(1), x, 1.0), mgap::InputError);
}
