#include <doctest/doctest.h>

#include "mgap/classifier_discrepancy.hpp"
#include "mgap/error.hpp"
#include "mgap/random.hpp"

namespace {

Eigen::MatrixXd gaussian_rows(Eigen::Index rows, Eigen::Index cols, double shift,
                              std::uint64_t seed) {
  mgap::RandomEngine engine(seed);
  Eigen::MatrixXd samples(rows, cols);
  for (Eigen::Index i = 0; i < rows; ++i) {
    for (Eigen::Index j = 0; j < cols; ++j) {
      samples(i, j) = mgap::standard_normal(engine) + (j == 0 ? shift : 0.0);
    }
  }
  return samples;
}

}  // namespace

TEST_CASE("proxy-a near zero for one distribution") {
  const Eigen::MatrixXd x = gaussian_rows(200, 5, 0.0, 1);
  const Eigen::MatrixXd y = gaussian_rows(200, 5, 0.0, 2);
  // A chance-level classifier on 400 rows has an error within about 0.05 of 0.5 (2.5 standard
  // deviations), so 1 - 2 err stays below 0.1 after clamping at 0.
  CHECK(mgap::proxy_a_distance(x, y, {}) < 0.1);
}

TEST_CASE("proxy-a near one for separable sets") {
  const Eigen::MatrixXd x = gaussian_rows(150, 5, 0.0, 3);
  const Eigen::MatrixXd y = gaussian_rows(150, 5, 12.0, 4);
  // 12 standard deviations apart along one axis: no held-out row is misclassified.
  CHECK(mgap::proxy_a_distance(x, y, {}) == 1.0);
}

TEST_CASE("proxy-a grows with separation") {
  const Eigen::MatrixXd x = gaussian_rows(200, 3, 0.0, 5);
  double previous = -1.0;
  for (const double shift : {0.5, 1.5, 3.0}) {
    CAPTURE(shift);
    const double value = mgap::proxy_a_distance(x, gaussian_rows(200, 3, shift, 6), {});
    CHECK(value > previous);
    previous = value;
  }
}

TEST_CASE("balanced error weights classes") {
  // Class 0: 3 rows, 1 wrong; class 1: 1 row, wrong. Balanced error = (1/3 + 1) / 2.
  const std::vector<std::uint8_t> correct = {1, 1, 0, 0};
  const std::vector<int> labels = {0, 0, 0, 1};
  CHECK(mgap::balanced_error(correct, labels, 2) == doctest::Approx(2.0 / 3.0));
  const Eigen::VectorXd weights = (Eigen::VectorXd(4) << 2.0, 0.0, 2.0, 0.0).finished();
  CHECK(mgap::balanced_error(correct, labels, 2, weights) == doctest::Approx(0.5));
}

TEST_CASE("transfer probe detects label flip") {
  // Labels follow the sign of feature 0 at both mpps, but at the second mpp feature 0 is negated:
  // a probe trained at one mpp gets almost every row wrong at the other.
  const Eigen::MatrixXd first = gaussian_rows(120, 3, 0.0, 7);
  Eigen::MatrixXd second = gaussian_rows(120, 3, 0.0, 8);
  std::vector<int> labels_first;
  std::vector<int> labels_second;
  for (Eigen::Index i = 0; i < 120; ++i) {
    labels_first.push_back(first(i, 0) > 0.0 ? 1 : 0);
    labels_second.push_back(second(i, 0) > 0.0 ? 1 : 0);
  }
  second.col(0) *= -1.0;
  const Eigen::MatrixXd third = first;  // identical to the first mpp
  const std::vector<mgap::LabelledSample> samples = {
      {&first, labels_first, {}}, {&second, labels_second, {}}, {&third, labels_first, {}}};
  const mgap::TransferPredictions predictions =
      mgap::transfer_probe_predictions(samples, 2, {});
  const double in_domain = mgap::balanced_error(predictions.in_domain_correct[1], labels_second, 2);
  const double flipped = mgap::balanced_error(predictions.transfer_correct[0][1], labels_second, 2);
  const double same = mgap::balanced_error(predictions.transfer_correct[0][2], labels_first, 2);
  CHECK(in_domain < 0.1);
  CHECK(flipped > 0.9);
  CHECK(same < 0.05);  // the probe was trained on exactly these rows, which are separable
}

TEST_CASE("transfer probe needs rows per fold") {
  const Eigen::MatrixXd features = gaussian_rows(6, 2, 0.0, 9);
  const std::vector<mgap::LabelledSample> samples = {{&features, {0, 0, 0, 0, 0, 1}, {}},
                                                     {&features, {0, 0, 0, 0, 0, 1}, {}}};
  CHECK_THROWS_AS(mgap::transfer_probe_predictions(samples, 2, {}), mgap::InputError);
}
