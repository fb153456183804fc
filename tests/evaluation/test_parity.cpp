#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "mgap/atomic_file.hpp"
#include "mgap/embedding_bundle.hpp"
#include "mgap/evaluation_input.hpp"
#include "mgap/evaluation_protocol.hpp"
#include "mgap/fold_plan.hpp"

// The fixture in tests/evaluation/data/parity and its scikit-learn 1.2 results come from
// bench/evaluation/make_parity_fixture.py (Debian python3-sklearn).
namespace {

// Logistic regression stops at a gradient tolerance on both sides, so a row near the decision
// boundary may flip; 0.005 is about one row in five folds of ~50 test rows.
constexpr double kBalancedAccuracyTolerance = 0.005;
// The grid values 1e-4 .. 1e4 differ in the last bit between numpy.logspace and mgap.
constexpr double kGridRelativeTolerance = 1e-12;
// Sums in a different order (Eigen versus LAPACK) change the eigenvalues in the last bits.
constexpr double kRankMeRelativeTolerance = 1e-9;

const std::filesystem::path kFixture =
    std::filesystem::path(MGAP_SOURCE_DIR) / "tests" / "evaluation" / "data" / "parity";

struct Parity {
  mgap::EvaluationInput input;
  std::vector<mgap::FoldPlan> plans;
  nlohmann::json reference;
  mgap::EvaluationReport report;
};

const Parity& parity() {
  static const Parity result = [] {
    Parity p;
    p.input = mgap::evaluation_input_from_bundle(
        mgap::read_embedding_bundle(kFixture / "manifest.json"));
    p.plans = mgap::read_slide_fold_table(kFixture / "labels.csv").folds;
    p.reference = nlohmann::json::parse(mgap::read_text_file(kFixture / "sklearn_results.json"));
    mgap::EvaluationOptions options;
    options.class_names = p.input.class_names;
    p.report = mgap::run_evaluation(p.input.sets, options, p.plans);
    return p;
  }();
  return result;
}

const mgap::FoldSelection& selection(const mgap::EvaluationReport& report,
                                     mgap::ClassifierKind classifier, int fold) {
  for (const auto& entry : report.selections) {
    if (entry.classifier == classifier && entry.fold == fold) {
      return entry;
    }
  }
  FAIL("no selection for fold " << fold);
  throw std::logic_error("unreachable");
}

const mgap::FoldResult& fold_result(const mgap::EvaluationReport& report,
                                    mgap::ClassifierKind classifier, int fold, double mpp) {
  for (const auto& entry : report.fold_results) {
    if (entry.classifier == classifier && entry.fold == fold && entry.test_mpp == mpp) {
      return entry;
    }
  }
  FAIL("no result for fold " << fold << " at " << mpp);
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("parity fixture folds match") {
  const Parity& p = parity();
  CHECK(p.input.class_names == p.reference["classes"].get<std::vector<std::string>>());
  const auto built = mgap::make_fold_plans(p.input.sets, mgap::FoldPlanOptions{});
  REQUIRE(built.size() == p.plans.size());
  for (std::size_t k = 0; k < built.size(); ++k) {
    CAPTURE(k);
    CHECK(built[k].role_of_group == p.plans[k].role_of_group);
  }
}

TEST_CASE("kNN matches scikit-learn exactly") {
  const Parity& p = parity();
  for (const auto& fold : p.reference["folds"]) {
    const int k = fold["fold"];
    CAPTURE(k);
    const auto& knn = fold["knn"];
    const auto& chosen = selection(p.report, mgap::ClassifierKind::kKnn, k);
    CHECK(chosen.chosen == knn["chosen"].get<double>());
    CHECK(chosen.grid == knn["grid"].get<std::vector<double>>());
    CHECK(chosen.validation_balanced_accuracy ==
          knn["validation_balanced_accuracy"].get<std::vector<double>>());
    for (const auto& test : knn["test"]) {
      const double mpp = test["mpp"];
      CAPTURE(mpp);
      const auto& result = fold_result(p.report, mgap::ClassifierKind::kKnn, k, mpp);
      CHECK(result.predictions == test["predictions"].get<std::vector<int>>());
      CHECK(result.metrics.balanced_accuracy == test["balanced_accuracy"].get<double>());
      CHECK(result.metrics.f1_macro == doctest::Approx(test["f1_macro"].get<double>()).epsilon(1e-12));
      CHECK(result.metrics.f1_weighted ==
            doctest::Approx(test["f1_weighted"].get<double>()).epsilon(1e-12));
    }
  }
}

TEST_CASE("logistic regression matches scikit-learn") {
  const Parity& p = parity();
  for (const auto& fold : p.reference["folds"]) {
    const int k = fold["fold"];
    CAPTURE(k);
    const auto& chosen = selection(p.report, mgap::ClassifierKind::kLogisticRegression, k);
    CHECK(chosen.chosen ==
          doctest::Approx(fold["logreg"]["chosen"].get<double>()).epsilon(kGridRelativeTolerance));
    CHECK(chosen.num_train_rows == fold["num_train_rows"].get<int>());
    CHECK(chosen.num_validation_rows == fold["num_validation_rows"].get<int>());
  }
  const auto& summary = p.report.summaries.front();
  REQUIRE(summary.classifier == mgap::ClassifierKind::kLogisticRegression);
  const auto& rows = p.reference["summary"]["logreg"]["per_mpp"];
  REQUIRE(summary.per_mpp.size() == rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    CAPTURE(summary.per_mpp[i].test_mpp);
    CHECK(summary.per_mpp[i].test_mpp == rows[i]["Test_MPP"].get<double>());
    CHECK(std::abs(summary.per_mpp[i].balanced_accuracy.mean -
                   rows[i]["Avg_balanced_accuracy"].get<double>()) <= kBalancedAccuracyTolerance);
  }
}

TEST_CASE("summaries and RankMe match") {
  const Parity& p = parity();
  const auto& knn = p.report.summaries.back();
  REQUIRE(knn.classifier == mgap::ClassifierKind::kKnn);
  const auto& reference = p.reference["summary"]["knn"];
  const auto& rows = reference["per_mpp"];
  for (std::size_t i = 0; i < rows.size(); ++i) {
    CAPTURE(i);
    CHECK(knn.per_mpp[i].accuracy.mean == doctest::Approx(rows[i]["Avg_accuracy"].get<double>()));
    CHECK(knn.per_mpp[i].balanced_accuracy.std ==
          doctest::Approx(rows[i]["Std_balanced_accuracy"].get<double>()).epsilon(1e-12));
    CHECK(knn.per_mpp[i].f1_macro.std ==
          doctest::Approx(rows[i]["Std_f1_macro"].get<double>()).epsilon(1e-12));
  }
  CHECK(knn.mean_balanced_accuracy ==
        doctest::Approx(reference["mean_balanced_accuracy"].get<double>()).epsilon(1e-12));
  CHECK(knn.min_balanced_accuracy ==
        doctest::Approx(reference["min_balanced_accuracy"].get<double>()).epsilon(1e-12));
  REQUIRE(knn.has_intermediate_penalty);
  CHECK(knn.intermediate_penalty ==
        doctest::Approx(reference["intermediate_penalty"].get<double>()).epsilon(1e-12));

  const auto& ranks = p.reference["rankme"];
  REQUIRE(p.report.rankme.size() == ranks.size());
  for (std::size_t i = 0; i < ranks.size(); ++i) {
    CHECK(p.report.rankme[i].rankme ==
          doctest::Approx(ranks[i]["rankme"].get<double>()).epsilon(kRankMeRelativeTolerance));
  }
}

TEST_CASE("logistic regression predictions agree") {
  const Parity& p = parity();
  int same = 0;
  int total = 0;
  for (const auto& fold : p.reference["folds"]) {
    for (const auto& test : fold["logreg"]["test"]) {
      const auto& result =
          fold_result(p.report, mgap::ClassifierKind::kLogisticRegression, fold["fold"], test["mpp"]);
      const auto expected = test["predictions"].get<std::vector<int>>();
      REQUIRE(result.predictions.size() == expected.size());
      for (std::size_t i = 0; i < expected.size(); ++i) {
        same += result.predictions[i] == expected[i] ? 1 : 0;
        ++total;
      }
    }
  }
  MESSAGE("logreg predictions equal on " << same << " of " << total << " test rows");
  CHECK(same >= total - total / 100);
}
