#include <doctest/doctest.h>

#include <algorithm>

#include <Eigen/Core>

#include <cmath>
#include <string>
#include <vector>

#include "mgap/classification_metrics.hpp"
#include "mgap/embedding_bundle.hpp"
#include "mgap/error.hpp"
#include "mgap/evaluation_input.hpp"
#include "mgap/evaluation_protocol.hpp"
#include "mgap/knn.hpp"
#include "mgap/random.hpp"

namespace {

// Small labelled sets: `num_groups` slides with one class each (group g has class g mod
// num_classes), 4 tiles per slide, class means along separate axes plus noise.
std::vector<mgap::MppEmbeddings> make_sets(const std::vector<double>& mpps, int num_groups,
                                           int num_classes, int dim, std::uint64_t seed) {
  mgap::RandomEngine engine(seed);
  std::vector<mgap::MppEmbeddings> sets;
  for (const double mpp : mpps) {
    mgap::MppEmbeddings set;
    set.mpp = mpp;
    set.embeddings.resize(num_groups * 4, dim);
    for (int g = 0; g < num_groups; ++g) {
      for (int t = 0; t < 4; ++t) {
        const int row = 4 * g + t;
        for (int j = 0; j < dim; ++j) {
          set.embeddings(row, j) =
              (j % num_classes == g % num_classes ? 2.0 : 0.0) + mgap::standard_normal(engine);
        }
        set.labels.push_back(g % num_classes);
        set.groups.push_back("slide" + std::to_string(g));
      }
    }
    sets.push_back(std::move(set));
  }
  return sets;
}

const std::vector<double> kMpps = {0.25, 0.5, 1.0, 2.0, 0.75};

mgap::EvaluationOptions small_options() {
  mgap::EvaluationOptions options;
  options.inverse_regularization_grid = {0.01, 1.0};
  options.num_neighbors_grid = {1, 5};
  return options;
}

}  // namespace

TEST_CASE("protocol runs on separable data") {
  const auto sets = make_sets(kMpps, 20, 3, 6, 1);
  const auto report = mgap::run_evaluation(sets, small_options());
  CHECK(report.num_folds == 5);
  CHECK(report.num_classes == 3);
  CHECK(report.test_mpps == std::vector<double>{0.25, 0.5, 0.75, 1.0, 2.0});
  REQUIRE(report.summaries.size() == 2);
  for (const auto& summary : report.summaries) {
    CHECK(summary.per_mpp.size() == 5);
    CHECK(summary.mean_balanced_accuracy > 0.8);
    CHECK(summary.min_balanced_accuracy <= summary.mean_balanced_accuracy);
    CHECK(summary.has_intermediate_penalty);
  }
  CHECK(report.fold_results.size() == 2 * 5 * 5);
  CHECK(report.rankme.size() == 5);
}

TEST_CASE("protocol is independent of threads") {
  const auto sets = make_sets(kMpps, 15, 3, 5, 2);
  auto options = small_options();
  options.num_threads = 1;
  const auto serial = mgap::run_evaluation(sets, options);
  options.num_threads = 3;
  const auto parallel = mgap::run_evaluation(sets, options);
  REQUIRE(serial.fold_results.size() == parallel.fold_results.size());
  for (std::size_t i = 0; i < serial.fold_results.size(); ++i) {
    CHECK(serial.fold_results[i].predictions == parallel.fold_results[i].predictions);
    CHECK(serial.fold_results[i].hyperparameter == parallel.fold_results[i].hyperparameter);
  }
}

TEST_CASE("kNN vote ties go to smallest class") {
  // Two neighbours at equal distance from the query, one of each class: class 0 wins the tie.
  Eigen::MatrixXd train(2, 2);
  train << 1.0, 0.0, 0.0, 1.0;
  const mgap::CosineNeighbors neighbors(train, {1, 0});
  Eigen::MatrixXd query(1, 2);
  query << 1.0, 1.0;
  CHECK(neighbors.predict(query, 2) == std::vector<int>{0});
  // Equal distances: the lower training row comes first.
  CHECK(neighbors.kneighbors(query, 1)(0, 0) == 0);
  CHECK(neighbors.predict(query, 1) == std::vector<int>{1});
}

TEST_CASE("kNN screening equals exact search") {
  // Rows around one centre at four noise scales: the closest ones lie within the float screening
  // margin of each other, the farthest are well separated. Rows 300 and 301 duplicate rows 0 and
  // 1 for exact ties.
  constexpr int kNumRows = 302;
  constexpr int kDim = 16;
  constexpr int kNumQueries = 40;
  constexpr int kNeighbors = 60;
  const double kNoiseScales[] = {1e-4, 1e-3, 1e-2, 1e-1};
  mgap::RandomEngine engine(21);
  Eigen::MatrixXd train(kNumRows, kDim);
  Eigen::VectorXd centre(kDim);
  for (int d = 0; d < kDim; ++d) {
    centre(d) = mgap::standard_normal(engine);
  }
  std::vector<int> labels;
  for (int i = 0; i < kNumRows; ++i) {
    for (int d = 0; d < kDim; ++d) {
      train(i, d) = centre(d) + kNoiseScales[i % 4] * mgap::standard_normal(engine);
    }
    labels.push_back(i % 3);
  }
  train.row(300) = train.row(0);
  train.row(301) = train.row(1);
  Eigen::MatrixXd queries(kNumQueries, kDim);
  for (int q = 0; q < kNumQueries; ++q) {
    for (int d = 0; d < kDim; ++d) {
      queries(q, d) = centre(d) + (q < 2 ? 0.0 : 1e-2 * mgap::standard_normal(engine));
    }
  }
  queries.row(1) = train.row(0);

  const mgap::CosineNeighbors neighbors(train, labels);
  const Eigen::MatrixXi found = neighbors.kneighbors(queries, kNeighbors);
  // Reference: every distance in double precision, ordered by (distance, row).
  const Eigen::MatrixXd unit_train = mgap::unit_norm_rows(train);
  const Eigen::MatrixXd unit_queries = mgap::unit_norm_rows(queries);
  for (int q = 0; q < kNumQueries; ++q) {
    std::vector<std::pair<double, int>> exact;
    for (int i = 0; i < kNumRows; ++i) {
      const double similarity = unit_train.row(i).dot(unit_queries.row(q));
      exact.emplace_back(std::clamp(1.0 - similarity, 0.0, 2.0), i);
    }
    std::sort(exact.begin(), exact.end());
    CAPTURE(q);
    for (int j = 0; j < kNeighbors; ++j) {
      CAPTURE(j);
      CHECK(found(q, j) == exact[static_cast<std::size_t>(j)].second);
    }
  }
}

TEST_CASE("metrics follow scikit-learn rules") {
  // y_true = [0, 1, 0, 0, 1, 0], y_pred = [0, 1, 0, 0, 0, 1]: scikit-learn's docstring example
  // gives balanced accuracy 0.625.
  const auto metrics = mgap::classification_metrics({0, 1, 0, 0, 1, 0}, {0, 1, 0, 0, 0, 1});
  CHECK(metrics.balanced_accuracy == 0.625);
  CHECK(metrics.accuracy == doctest::Approx(4.0 / 6.0));
  // F1: class 0 has p = 3/4, r = 3/4; class 1 has p = 1/2, r = 1/2.
  CHECK(metrics.f1_macro == doctest::Approx(0.625));
  CHECK(metrics.f1_weighted == doctest::Approx((4 * 0.75 + 2 * 0.5) / 6.0));
  // A predicted class absent from the truth counts in macro F1 (as 0) but not in balanced accuracy.
  const auto extra = mgap::classification_metrics({0, 0, 1, 1}, {0, 2, 1, 1});
  CHECK(extra.balanced_accuracy == doctest::Approx(0.75));
  CHECK(extra.num_classes_in_truth == 2);
  CHECK(extra.f1_macro == doctest::Approx((2.0 / 3.0 + 1.0 + 0.0) / 3.0));
}

TEST_CASE("protocol rejects one class") {
  auto sets = make_sets(kMpps, 10, 3, 4, 3);
  for (auto& set : sets) {
    std::fill(set.labels.begin(), set.labels.end(), 0);
  }
  CHECK_THROWS_AS(mgap::run_evaluation(sets, small_options()), mgap::InputError);
}

TEST_CASE("protocol rejects fewer groups than folds") {
  const auto sets = make_sets(kMpps, 4, 2, 4, 4);
  CHECK_THROWS_AS(mgap::run_evaluation(sets, small_options()), mgap::InputError);
}

TEST_CASE("protocol rejects missing labels") {
  auto sets = make_sets(kMpps, 10, 2, 4, 5);
  sets[2].labels[7] = -1;
  CHECK_THROWS_WITH_AS(mgap::run_evaluation(sets, small_options()),
                       doctest::Contains("have no label"), mgap::InputError);

  // A bundle set without any label column.
  mgap::EmbeddingBundle bundle;
  mgap::EmbeddingSet set;
  set.mpp = 0.5;
  set.embeddings = Eigen::MatrixXd::Ones(3, 2);
  set.groups = {"a", "b", "c"};
  bundle.sets.push_back(set);
  CHECK_THROWS_AS(mgap::evaluation_input_from_bundle(bundle), mgap::InputError);
  // Labels from a slide table fill in, and a slide missing from it is an error.
  const auto input = mgap::evaluation_input_from_bundle(bundle, {{"a", "x"}, {"b", "y"}, {"c", "x"}});
  CHECK(input.sets[0].labels == std::vector<int>{0, 1, 0});
  CHECK_THROWS_AS(mgap::evaluation_input_from_bundle(bundle, {{"a", "x"}}), mgap::InputError);
}

TEST_CASE("protocol rejects mismatched dimensions") {
  auto sets = make_sets(kMpps, 10, 2, 4, 6);
  sets[4].embeddings = Eigen::MatrixXd::Ones(sets[4].embeddings.rows(), 5);
  CHECK_THROWS_WITH_AS(mgap::run_evaluation(sets, small_options()),
                       doctest::Contains("dimension"), mgap::InputError);

  const mgap::CosineNeighbors neighbors(Eigen::MatrixXd::Ones(3, 4), {0, 1, 0});
  CHECK_THROWS_AS(neighbors.predict(Eigen::MatrixXd::Ones(2, 3), 1), mgap::InputError);
}

TEST_CASE("protocol rejects class missing from training") {
  const auto sets = make_sets(kMpps, 10, 2, 4, 7);
  // Fold 0 tests every class-1 slide (odd groups), so its training part lacks class 1.
  std::vector<mgap::FoldPlan> plans(1);
  for (int g = 0; g < 10; ++g) {
    const std::string group = "slide" + std::to_string(g);
    plans[0].role_of_group[group] =
        g % 2 == 1 ? mgap::FoldRole::kTest : (g < 4 ? mgap::FoldRole::kValidation : mgap::FoldRole::kTrain);
  }
  CHECK_THROWS_WITH_AS(mgap::run_evaluation(sets, small_options(), plans),
                       doctest::Contains("fold 0: class 1 has no training tiles"), mgap::InputError);
}

TEST_CASE("protocol warns on class missing from test") {
  const auto sets = make_sets(kMpps, 12, 2, 4, 8);
  std::vector<mgap::FoldPlan> plans(1);
  for (int g = 0; g < 12; ++g) {
    const std::string group = "slide" + std::to_string(g);
    // Test slides 0 and 2 are both class 0.
    plans[0].role_of_group[group] = (g == 0 || g == 2)   ? mgap::FoldRole::kTest
                                    : (g == 1 || g == 4) ? mgap::FoldRole::kValidation
                                                         : mgap::FoldRole::kTrain;
  }
  const auto report = mgap::run_evaluation(sets, small_options(), plans);
  CHECK_FALSE(report.warnings.empty());
  for (const auto& result : report.fold_results) {
    CHECK(result.metrics.num_classes_in_truth == 1);
  }
}

TEST_CASE("protocol rejects unknown mpp") {
  const auto sets = make_sets(kMpps, 10, 2, 4, 9);
  auto options = small_options();
  options.test_mpps = {0.3};
  CHECK_THROWS_WITH_AS(mgap::run_evaluation(sets, options), doctest::Contains("0.3"),
                       mgap::InputError);
}
