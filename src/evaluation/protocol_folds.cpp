#include "protocol_folds.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

#include "mgap/error.hpp"
#include "mgap/knn.hpp"
#include "mgap/magnification.hpp"

namespace mgap::detail {
namespace {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;

// Rows of `set` whose group has `role` in `plan`, in increasing order.
std::vector<long> rows_with_role(const MppEmbeddings& set, const FoldPlan& plan, FoldRole role) {
  std::vector<long> rows;
  for (std::size_t i = 0; i < set.groups.size(); ++i) {
    if (plan.role(set.groups[i]) == role) {
      rows.push_back(static_cast<long>(i));
    }
  }
  return rows;
}

// Stacks the `role` rows of every set in `sets`.
void stack_rows(const std::vector<const MppEmbeddings*>& sets, const FoldPlan& plan, FoldRole role,
                MatrixXd& features, std::vector<int>& labels) {
  std::vector<std::vector<long>> rows_per_set;
  Index total = 0;
  for (const MppEmbeddings* set : sets) {
    rows_per_set.push_back(rows_with_role(*set, plan, role));
    total += static_cast<Index>(rows_per_set.back().size());
  }
  const Index dim = sets.front()->embeddings.cols();
  features.resize(total, dim);
  labels.clear();
  labels.reserve(static_cast<std::size_t>(total));
  Index next = 0;
  for (std::size_t s = 0; s < sets.size(); ++s) {
    for (const long row : rows_per_set[s]) {
      features.row(next++) = sets[s]->embeddings.row(row);
      labels.push_back(sets[s]->labels[static_cast<std::size_t>(row)]);
    }
  }
}

std::string mpp_list(const std::vector<const MppEmbeddings*>& sets) {
  std::string text;
  for (const MppEmbeddings* set : sets) {
    text += (text.empty() ? "" : ", ") + format_mpp(set->mpp);
  }
  return text;
}

// Per-feature mean and population std of `features`, a zero std replaced by 1, as scikit-learn's
// StandardScaler.
struct Standardizer {
  Eigen::RowVectorXd mean;
  Eigen::RowVectorXd scale;

  explicit Standardizer(const MatrixXd& features) {
    const auto num_rows = static_cast<double>(features.rows());
    mean = features.colwise().mean();
    scale = ((features.rowwise() - mean).colwise().squaredNorm() / num_rows).cwiseSqrt();
    for (Index j = 0; j < scale.size(); ++j) {
      if (scale(j) == 0.0) {
        scale(j) = 1.0;
      }
    }
  }

  MatrixXd apply(const MatrixXd& features) const {
    return (features.rowwise() - mean).array().rowwise() / scale.array();
  }
};

// Balanced accuracies closer than this are equal: two confusion matrices with the same mean
// recall can round 1 ulp apart, which must not decide the hyperparameter.
constexpr double kScoreTieTolerance = 1e-12;

// Index of the best score; the first among equal scores.
std::size_t best_index(const std::vector<double>& scores) {
  const double best_score = *std::max_element(scores.begin(), scores.end());
  std::size_t best = 0;
  while (scores[best] < best_score - kScoreTieTolerance) {
    ++best;
  }
  return best;
}

FoldResult make_result(ClassifierKind classifier, const FoldData& data, std::size_t test_index,
                       double hyperparameter, std::vector<int> predictions) {
  FoldResult result;
  result.classifier = classifier;
  result.fold = data.fold;
  result.test_mpp = data.test_mpps[test_index];
  result.hyperparameter = hyperparameter;
  result.metrics = classification_metrics(data.test_labels[test_index], predictions);
  result.test_rows = data.test_rows[test_index];
  result.predictions = std::move(predictions);
  return result;
}

}  // namespace

std::string class_name(const std::vector<std::string>& class_names, int c) {
  if (c >= 0 && static_cast<std::size_t>(c) < class_names.size()) {
    return fmt::format("'{}' (class {})", class_names[static_cast<std::size_t>(c)], c);
  }
  return fmt::format("{}", c);
}

FoldData gather_fold(const FoldPlan& plan, int fold,
                     const std::vector<const MppEmbeddings*>& train_sets,
                     const std::vector<const MppEmbeddings*>& test_sets, int num_classes,
                     const std::vector<std::string>& class_names) {
  FoldData data;
  data.fold = fold;
  stack_rows(train_sets, plan, FoldRole::kTrain, data.train, data.train_labels);
  stack_rows(train_sets, plan, FoldRole::kValidation, data.validation, data.validation_labels);
  if (data.train_labels.empty() || data.validation_labels.empty()) {
    throw InputError(fmt::format(
        "fold {}: {} training and {} validation tiles at the training mpps ({}); every fold "
        "needs both (check the fold plan and the group ids)",
        fold, data.train_labels.size(), data.validation_labels.size(), mpp_list(train_sets)));
  }

  std::vector<int> class_counts(static_cast<std::size_t>(num_classes), 0);
  for (const int label : data.train_labels) {
    ++class_counts[static_cast<std::size_t>(label)];
  }
  for (int c = 0; c < num_classes; ++c) {
    if (class_counts[static_cast<std::size_t>(c)] == 0) {
      throw InputError(fmt::format(
          "fold {}: class {} has no training tiles at the training mpps ({}); use fewer folds or "
          "a fold plan that puts slides of every class in every training part",
          fold, class_name(class_names, c), mpp_list(train_sets)));
    }
  }

  for (const MppEmbeddings* set : test_sets) {
    std::vector<long> rows = rows_with_role(*set, plan, FoldRole::kTest);
    if (rows.empty()) {
      throw InputError(fmt::format(
          "fold {}: no test tiles at {} mpp; the test groups of this fold have no embeddings at "
          "that mpp",
          fold, format_mpp(set->mpp)));
    }
    MatrixXd features(static_cast<Index>(rows.size()), set->embeddings.cols());
    std::vector<int> labels;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      features.row(static_cast<Index>(i)) = set->embeddings.row(rows[i]);
      labels.push_back(set->labels[static_cast<std::size_t>(rows[i])]);
    }
    data.test_mpps.push_back(set->mpp);
    data.test.push_back(std::move(features));
    data.test_labels.push_back(std::move(labels));
    data.test_rows.push_back(std::move(rows));
  }
  return data;
}

ClassifierOutcome run_logistic_regression_fold(const FoldData& data,
                                               const EvaluationOptions& options, int num_classes) {
  ClassifierOutcome outcome;
  FoldSelection& selection = outcome.selection;
  selection.classifier = ClassifierKind::kLogisticRegression;
  selection.fold = data.fold;
  selection.grid = options.inverse_regularization_grid;
  std::sort(selection.grid.begin(), selection.grid.end());
  selection.num_train_rows = static_cast<int>(data.train.rows());
  selection.num_validation_rows = static_cast<int>(data.validation.rows());

  const bool standardize = options.standardize_linear_probe;
  const Standardizer standardizer(data.train);
  const MatrixXd train = standardize ? standardizer.apply(data.train) : data.train;
  const MatrixXd validation = standardize ? standardizer.apply(data.validation) : data.validation;

  LogisticRegressionOptions fit_options = options.logistic_regression;
  fit_options.class_weighting = options.class_weighting;
  fit_options.num_classes = num_classes;

  // Fit the C path in increasing order, each fit warm-started from the previous solution.
  const std::vector<LogisticRegressionModel> models =
      fit_logistic_regression_path(train, data.train_labels, fit_options, selection.grid);
  for (std::size_t index = 0; index < models.size(); ++index) {
    const double c = selection.grid[index];
    const LogisticRegressionModel& model = models[index];
    selection.fit_reports.push_back(model.report);
    if (!model.report.converged()) {
      outcome.warnings.push_back(fmt::format(
          "fold {}: logistic regression with C = {} stopped before converging ({}, max |gradient| "
          "{:.3g} after {} evaluations)",
          data.fold, c, to_string(model.report.status), model.report.gradient_max_abs,
          model.report.num_evaluations));
    }
    selection.validation_balanced_accuracy.push_back(
        balanced_accuracy(data.validation_labels, model.predict(validation)));
  }
  const std::size_t best = best_index(selection.validation_balanced_accuracy);
  selection.chosen = selection.grid[best];
  spdlog::debug("fold {}: logistic regression chose C = {} (validation balanced accuracy {:.4f})",
                data.fold, selection.chosen, selection.validation_balanced_accuracy[best]);

  for (std::size_t t = 0; t < data.test.size(); ++t) {
    const MatrixXd test = standardize ? standardizer.apply(data.test[t]) : data.test[t];
    outcome.results.push_back(make_result(ClassifierKind::kLogisticRegression, data, t,
                                          selection.chosen, models[best].predict(test)));
  }
  return outcome;
}

ClassifierOutcome run_knn_fold(const FoldData& data, const EvaluationOptions& options,
                               int num_classes) {
  ClassifierOutcome outcome;
  FoldSelection& selection = outcome.selection;
  selection.classifier = ClassifierKind::kKnn;
  selection.fold = data.fold;
  selection.num_train_rows = static_cast<int>(data.train.rows());
  selection.num_validation_rows = static_cast<int>(data.validation.rows());

  std::vector<int> grid = options.num_neighbors_grid;
  std::sort(grid.begin(), grid.end());
  const auto num_train = static_cast<int>(data.train.rows());
  std::vector<int> usable;
  for (const int k : grid) {
    if (k <= num_train) {
      usable.push_back(k);
    }
  }
  if (usable.size() < grid.size()) {
    outcome.warnings.push_back(fmt::format(
        "fold {}: kNN skips k above the {} training tiles", data.fold, num_train));
  }
  if (usable.empty()) {
    throw InputError(fmt::format("fold {}: no k of the kNN grid is <= the {} training tiles",
                                 data.fold, num_train));
  }

  // One neighbour search with the largest k serves the whole grid: the k nearest are a prefix.
  const CosineNeighbors neighbors(data.train, data.train_labels, num_classes);
  const int max_k = usable.back();
  const Eigen::MatrixXi validation_neighbors = neighbors.kneighbors(data.validation, max_k);
  for (const int k : usable) {
    selection.grid.push_back(k);
    selection.validation_balanced_accuracy.push_back(
        balanced_accuracy(data.validation_labels, neighbors.vote(validation_neighbors, k)));
  }
  const std::size_t best = best_index(selection.validation_balanced_accuracy);
  selection.chosen = selection.grid[best];
  const int chosen_k = usable[best];
  spdlog::debug("fold {}: kNN chose k = {} (validation balanced accuracy {:.4f})", data.fold,
                chosen_k, selection.validation_balanced_accuracy[best]);

  for (std::size_t t = 0; t < data.test.size(); ++t) {
    outcome.results.push_back(make_result(ClassifierKind::kKnn, data, t, chosen_k,
                                          neighbors.predict(data.test[t], chosen_k)));
  }
  return outcome;
}

}  // namespace mgap::detail
