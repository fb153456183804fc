#include <doctest/doctest.h>

#include "mgap/discrepancy_matrix.hpp"
#include "mgap/error.hpp"
#include "synthetic_bundle.hpp"

namespace {

mgap::EmbeddingBundle small_bundle() {
  mgap::testing::SyntheticBundleOptions options;
  options.mpps = {0.25, 0.5, 1.0, 2.0};
  options.num_tiles = 60;
  options.embedding_dim = 6;
  options.seed = 3;
  return mgap::testing::synthetic_bundle(options);
}

const mgap::DiscrepancyEstimator kAllEstimators[] = {
    mgap::DiscrepancyEstimator::kMmd,         mgap::DiscrepancyEstimator::kMeanDistance,
    mgap::DiscrepancyEstimator::kFrechet,     mgap::DiscrepancyEstimator::kProxyA,
    mgap::DiscrepancyEstimator::kPairedCosine, mgap::DiscrepancyEstimator::kTransferGap};

}  // namespace

TEST_CASE("matrix shape and intervals") {
  const mgap::EmbeddingBundle bundle = small_bundle();
  for (const mgap::DiscrepancyEstimator estimator : kAllEstimators) {
    CAPTURE(mgap::to_string(estimator));
    mgap::DiscrepancyOptions options;
    options.estimator = estimator;
    options.num_bootstrap = 30;
    options.seed = 9;
    const mgap::DiscrepancyReport report = mgap::estimate_discrepancy(bundle, options);
    REQUIRE(report.matrix.rows() == 4);
    CHECK(report.matrix.isApprox(report.matrix.transpose()));
    CHECK(report.matrix.diagonal().isZero());
    CHECK((report.matrix.array() >= 0.0).all());
    CHECK((report.ci_low.array() <= report.ci_high.array()).all());
    CHECK(report.sample_counts == std::vector<Eigen::Index>(4, 60));
    CHECK(report.embedding_dim == 6);
    if (mgap::is_error_units(estimator)) {
      CHECK((report.matrix.array() <= 1.0).all());
    }
  }
}

TEST_CASE("bootstrap reproducible from seed") {
  const mgap::EmbeddingBundle bundle = small_bundle();
  for (const auto estimator : {mgap::DiscrepancyEstimator::kMmd, mgap::DiscrepancyEstimator::kFrechet}) {
    CAPTURE(mgap::to_string(estimator));
    mgap::DiscrepancyOptions options;
    options.estimator = estimator;
    options.num_bootstrap = 25;
    options.seed = 4;
    const auto first = mgap::estimate_discrepancy(bundle, options);
    const auto again = mgap::estimate_discrepancy(bundle, options);
    CHECK(first.matrix == again.matrix);
    CHECK(first.ci_low == again.ci_low);
    CHECK(first.ci_high == again.ci_high);
    options.seed = 5;
    const auto other = mgap::estimate_discrepancy(bundle, options);
    CHECK(other.ci_low != first.ci_low);
  }
}

TEST_CASE("no bootstrap gives point intervals") {
  mgap::DiscrepancyOptions options;
  options.estimator = mgap::DiscrepancyEstimator::kMeanDistance;
  options.num_bootstrap = 0;
  const auto report = mgap::estimate_discrepancy(small_bundle(), options);
  CHECK(report.ci_low == report.matrix);
  CHECK(report.ci_high == report.matrix);
}

TEST_CASE("discrepancy grows with octaves") {
  // In the synthetic bundle the mean shift grows with |log2 mpp difference|, so along the first
  // row (0.25 mpp against 0.5, 1 and 2 mpp) every estimator increases.
  mgap::testing::SyntheticBundleOptions synthetic;
  synthetic.mpps = {0.25, 0.5, 1.0, 2.0};
  synthetic.num_tiles = 150;
  synthetic.embedding_dim = 32;
  synthetic.hurst = 0.8;
  synthetic.shift_scale = 0.15;
  const mgap::EmbeddingBundle bundle = mgap::testing::synthetic_bundle(synthetic);
  for (const auto estimator :
       {mgap::DiscrepancyEstimator::kMmd, mgap::DiscrepancyEstimator::kMeanDistance,
        mgap::DiscrepancyEstimator::kFrechet, mgap::DiscrepancyEstimator::kPairedCosine,
        mgap::DiscrepancyEstimator::kProxyA}) {
    CAPTURE(mgap::to_string(estimator));
    mgap::DiscrepancyOptions options;
    options.estimator = estimator;
    options.num_bootstrap = 0;
    const auto report = mgap::estimate_discrepancy(bundle, options);
    CHECK(report.matrix(0, 1) < report.matrix(0, 2));
    CHECK(report.matrix(0, 2) < report.matrix(0, 3));
  }
}

TEST_CASE("estimators need their metadata") {
  mgap::EmbeddingBundle bundle = small_bundle();
  for (mgap::EmbeddingSet& set : bundle.sets) {
    set.tile_ids.clear();
    set.labels.clear();
  }
  mgap::DiscrepancyOptions options;
  options.num_bootstrap = 0;
  options.estimator = mgap::DiscrepancyEstimator::kPairedCosine;
  CHECK_THROWS_WITH_AS(mgap::estimate_discrepancy(bundle, options),
                       doctest::Contains("no tile ids"), mgap::InputError);
  options.estimator = mgap::DiscrepancyEstimator::kTransferGap;
  CHECK_THROWS_WITH_AS(mgap::estimate_discrepancy(bundle, options),
                       doctest::Contains("needs labels"), mgap::InputError);
  bundle.sets.resize(1);
  options.estimator = mgap::DiscrepancyEstimator::kMmd;
  CHECK_THROWS_AS(mgap::estimate_discrepancy(bundle, options), mgap::InputError);
}

TEST_CASE("estimator names round trip") {
  for (const mgap::DiscrepancyEstimator estimator : kAllEstimators) {
    CHECK(mgap::discrepancy_estimator_from_string(mgap::to_string(estimator)) == estimator);
  }
  CHECK_THROWS_AS(mgap::discrepancy_estimator_from_string("kl"), mgap::InputError);
}

TEST_CASE("percentile interpolates like numpy") {
  // numpy.percentile([1, 2, 3, 4], [2.5, 50, 97.5]) = [1.075, 2.5, 3.925]
  CHECK(mgap::percentile({4.0, 1.0, 3.0, 2.0}, 0.025) == doctest::Approx(1.075));
  CHECK(mgap::percentile({4.0, 1.0, 3.0, 2.0}, 0.5) == doctest::Approx(2.5));
  CHECK(mgap::percentile({4.0, 1.0, 3.0, 2.0}, 0.975) == doctest::Approx(3.925));
}
