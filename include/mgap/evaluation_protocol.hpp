#pragma once

// The per-magnification evaluation protocol of the TCGA-MS and BRACS-MS benchmarks.
//
// For each outer fold (fold_plan.hpp) and each classifier:
// 1. Training rows: the tiles of the fold's training groups at every training mpp (the union of
//    the training mpps, by default the four standard ones). Validation rows: the tiles of the
//    validation groups at the training mpps. Test rows: the tiles of the test groups at each test
//    mpp, evaluated separately per mpp.
// 2. Every hyperparameter of the grid is fitted on the training rows and scored by balanced
//    accuracy on the validation rows. The best one wins. Among equal scores the smallest wins. The model fitted on the training rows with
//    that value is scored on the test rows; it is not refitted on training plus validation.
//    - Linear probe: multinomial logistic regression (logistic_regression.hpp) with balanced class
//      weights, C in logspace(-4, 4, 9). Features are standardized (per-feature mean and
//      population std of the training rows, a zero std left as 1) before fitting, as a
//      scikit-learn Pipeline(StandardScaler, LogisticRegression) does. The C path is fitted in
//      increasing order, each fit starting from the previous solution.
//    - kNN: cosine distance, uniform votes (knn.hpp) on the raw embeddings (the cosine distance
//      ignores scale, and centring would change it), k in {1, 3, 5, 10, 20, 40, 80}; values of k
//      above the number of training rows are skipped.
// 3. Metrics per fold and test mpp (classification_metrics.hpp), then mean and population
//    standard deviation (numpy.std with ddof = 0, the default of the published scripts) over the
//    folds.
// Summary per classifier, over the test mpps: mean and minimum of the mean balanced accuracy, and
// the intermediate penalty mean(intermediate mpps) - mean(standard mpps) of it (defined when the
// test mpps include at least one of each). RankMe (rankme.hpp) of all tiles at each test mpp.
//
// A class without training rows in a fold is an error naming the fold and class. A class without
// test rows is allowed: it is logged, and balanced accuracy averages the recall of the classes
// present (scikit-learn's rule).
//
// Folds run on worker threads; every fold is computed the same way whatever the thread count, so
// results are bit-for-bit reproducible.

#include <Eigen/Core>

#include <cstdint>
#include <string>
#include <vector>

#include "mgap/classification_metrics.hpp"
#include "mgap/fold_plan.hpp"
#include "mgap/logistic_regression.hpp"

namespace mgap {

enum class ClassifierKind { kLogisticRegression, kKnn };

// "logreg" and "knn".
std::string to_string(ClassifierKind kind);
// Accepts "logreg" (or "logistic_regression", "linear") and "knn"; throws InputError otherwise.
ClassifierKind classifier_kind_from_string(const std::string& text);

// Labelled embeddings at one mpp.
struct MppEmbeddings {
  double mpp = 0.0;
  Eigen::MatrixXd embeddings;       // [num_tiles, embedding_dim]
  std::vector<int> labels;          // [num_tiles], class index 0..K-1; -1 marks a missing label
  std::vector<std::string> groups;  // [num_tiles], slide or patient id
};

// The C grid logspace(-4, 4, 9) = 1e-4, 1e-3, ..., 1e4.
std::vector<double> default_inverse_regularization_grid();
// The k grid 1, 3, 5, 10, 20, 40, 80.
std::vector<int> default_num_neighbors_grid();

struct EvaluationOptions {
  std::vector<double> train_mpps;  // empty: the standard mpps 0.25, 0.5, 1.0, 2.0
  std::vector<double> test_mpps;   // empty: every mpp of the input
  std::vector<ClassifierKind> classifiers = {ClassifierKind::kLogisticRegression,
                                             ClassifierKind::kKnn};
  FoldPlanOptions folds;  // used when no explicit plans are given
  std::vector<double> inverse_regularization_grid = default_inverse_regularization_grid();
  std::vector<int> num_neighbors_grid = default_num_neighbors_grid();
  bool standardize_linear_probe = true;
  // Tolerances and limits of every fit; C and the class weighting are set by the protocol.
  LogisticRegressionOptions logistic_regression;
  ClassWeighting class_weighting = ClassWeighting::kBalanced;
  int num_threads = 0;  // 0: std::thread::hardware_concurrency()
  // Class names for messages and outputs, indexed by class; empty uses the class index.
  std::vector<std::string> class_names;

  // Throws InputError naming the first invalid field.
  void validate() const;
};

// One classifier on one fold at one test mpp.
struct FoldResult {
  ClassifierKind classifier = ClassifierKind::kLogisticRegression;
  int fold = 0;
  double test_mpp = 0.0;
  double hyperparameter = 0.0;  // chosen C or k
  ClassificationMetrics metrics;
  std::vector<long> test_rows;    // rows of the test mpp's embeddings, increasing
  std::vector<int> predictions;   // [test_rows.size()]
};

// Hyperparameter search of one classifier on one fold.
struct FoldSelection {
  ClassifierKind classifier = ClassifierKind::kLogisticRegression;
  int fold = 0;
  std::vector<double> grid;                            // values tried, increasing
  std::vector<double> validation_balanced_accuracy;    // [grid.size()]
  double chosen = 0.0;
  int num_train_rows = 0;
  int num_validation_rows = 0;
  // Logistic regression only: fit reports along the grid [grid.size()].
  std::vector<LogisticRegressionReport> fit_reports;
};

struct MetricSummary {
  double mean = 0.0;
  double std = 0.0;  // population (ddof = 0) over folds
};

struct MppSummary {
  double test_mpp = 0.0;
  MetricSummary accuracy;
  MetricSummary balanced_accuracy;
  MetricSummary f1_macro;
  MetricSummary f1_weighted;
};

struct ClassifierSummary {
  ClassifierKind classifier = ClassifierKind::kLogisticRegression;
  std::vector<MppSummary> per_mpp;  // in increasing test mpp
  double mean_balanced_accuracy = 0.0;
  double min_balanced_accuracy = 0.0;
  bool has_intermediate_penalty = false;
  double intermediate_penalty = 0.0;
};

struct RankMeResult {
  double mpp = 0.0;
  double rankme = 0.0;
  int num_tiles = 0;
  int embedding_dim = 0;
};

struct EvaluationReport {
  std::vector<double> train_mpps;
  std::vector<double> test_mpps;
  int num_classes = 0;
  int num_folds = 0;
  std::vector<FoldPlan> fold_plans;       // the plans used, given or built
  std::vector<FoldSelection> selections;  // by classifier, then fold
  std::vector<FoldResult> fold_results;   // by classifier, then fold, then test mpp
  std::vector<ClassifierSummary> summaries;
  std::vector<RankMeResult> rankme;
  std::vector<std::string> warnings;
};

// Builds the fold plans for `sets` with `options` (grouped, stratified by label over the rows of
// all sets).
std::vector<FoldPlan> make_fold_plans(const std::vector<MppEmbeddings>& sets,
                                      const FoldPlanOptions& options);

// Runs the protocol on `sets` (one per mpp) with the given fold plans, or with plans built by
// make_fold_plans(sets, options.folds) when `plans` is empty. Tiles whose group a plan does not
// list are left out of that fold. Throws InputError for invalid input: a missing label, mismatched
// lengths or embedding dimensions, a requested mpp without embeddings, a class missing from a
// fold's training part, an empty training, validation or test part.
EvaluationReport run_evaluation(const std::vector<MppEmbeddings>& sets,
                                const EvaluationOptions& options,
                                const std::vector<FoldPlan>& plans = {});

}  // namespace mgap
