#include "mgap/classifier_discrepancy.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "mgap/error.hpp"
#include "mgap/folds.hpp"
#include "mgap/logistic_regression.hpp"

namespace mgap {

namespace {

// Standardization fitted on training rows: (x - mean) / std, with std 1 for constant columns.
struct Standardizer {
  Eigen::RowVectorXd mean;
  Eigen::RowVectorXd inverse_std;

  explicit Standardizer(const Eigen::MatrixXd& training) {
    mean = training.colwise().mean();
    const Eigen::MatrixXd centered = training.rowwise() - mean;
    const double count = std::max<double>(1.0, static_cast<double>(training.rows()));
    const Eigen::RowVectorXd std_dev = (centered.colwise().squaredNorm() / count).array().sqrt();
    inverse_std = (std_dev.array() > 0.0).select(std_dev.array().inverse(), 1.0);
  }

  Eigen::MatrixXd apply(const Eigen::MatrixXd& rows) const {
    return ((rows.rowwise() - mean).array().rowwise() * inverse_std.array()).matrix();
  }
};

Eigen::MatrixXd gather_rows(const Eigen::Ref<const Eigen::MatrixXd>& matrix,
                            const std::vector<long>& rows) {
  Eigen::MatrixXd out(static_cast<Eigen::Index>(rows.size()), matrix.cols());
  for (std::size_t k = 0; k < rows.size(); ++k) {
    out.row(static_cast<Eigen::Index>(k)) = matrix.row(rows[k]);
  }
  return out;
}

std::vector<int> gather_labels(const std::vector<int>& labels, const std::vector<long>& rows) {
  std::vector<int> out;
  out.reserve(rows.size());
  for (const long row : rows) {
    out.push_back(labels[static_cast<std::size_t>(row)]);
  }
  return out;
}

LogisticRegressionOptions probe_options(const ClassifierDiscrepancyOptions& options,
                                        int num_classes) {
  LogisticRegressionOptions fit;
  fit.inverse_regularization = options.inverse_regularization;
  fit.class_weighting = ClassWeighting::kBalanced;
  fit.num_classes = num_classes;
  return fit;
}

// Fits a standardized probe on `train_features` [n, D] with `train_labels` [n] and returns its
// correctness on `test_features` [m, D] with `test_labels` [m].
std::vector<std::uint8_t> fit_and_score(const Eigen::MatrixXd& train_features,
                                        const std::vector<int>& train_labels,
                                        const Eigen::MatrixXd& test_features,
                                        const std::vector<int>& test_labels,
                                        const LogisticRegressionOptions& fit_options,
                                        int& num_unconverged) {
  const Standardizer standardizer(train_features);
  const LogisticRegressionModel model =
      fit_logistic_regression(standardizer.apply(train_features), train_labels, fit_options);
  if (!model.report.converged()) {
    ++num_unconverged;
    spdlog::debug("logistic regression stopped early: {}", to_string(model.report.status));
  }
  const std::vector<int> predicted = model.predict(standardizer.apply(test_features));
  std::vector<std::uint8_t> correct(predicted.size());
  for (std::size_t k = 0; k < predicted.size(); ++k) {
    correct[k] = predicted[k] == test_labels[k] ? 1 : 0;
  }
  return correct;
}

// Held-out correctness of every row under the given test-fold assignment.
std::vector<std::uint8_t> cross_validated_correctness(const Eigen::MatrixXd& features,
                                                      const std::vector<int>& labels,
                                                      const std::vector<int>& test_fold,
                                                      int num_folds,
                                                      const LogisticRegressionOptions& fit_options,
                                                      int& num_unconverged) {
  std::vector<std::uint8_t> correct(labels.size(), 0);
  for (const FoldSplit& split : fold_splits(test_fold, num_folds)) {
    if (split.test_rows.empty()) {
      continue;
    }
    const std::vector<std::uint8_t> fold_correct = fit_and_score(
        gather_rows(features, split.train_rows), gather_labels(labels, split.train_rows),
        gather_rows(features, split.test_rows), gather_labels(labels, split.test_rows),
        fit_options, num_unconverged);
    for (std::size_t k = 0; k < split.test_rows.size(); ++k) {
      correct[static_cast<std::size_t>(split.test_rows[k])] = fold_correct[k];
    }
  }
  return correct;
}

double weighted_error(const std::vector<std::uint8_t>& correct, const Eigen::VectorXd& weights) {
  double wrong = 0.0;
  double total = 0.0;
  for (std::size_t k = 0; k < correct.size(); ++k) {
    const double w = weights.size() == 0 ? 1.0 : weights(static_cast<Eigen::Index>(k));
    wrong += correct[k] ? 0.0 : w;
    total += w;
  }
  return total > 0.0 ? wrong / total : 0.0;
}

}  // namespace

void ClassifierDiscrepancyOptions::validate() const {
  if (num_folds < 2) {
    throw InputError(fmt::format("--folds {} is too small; cross validation needs at least 2",
                                 num_folds));
  }
  if (!(inverse_regularization > 0.0)) {
    throw InputError(fmt::format("inverse regularization C = {} must be positive",
                                 inverse_regularization));
  }
}

DomainClassifierResult cross_validated_domain_classifier(
    const Eigen::Ref<const Eigen::MatrixXd>& x, const Eigen::Ref<const Eigen::MatrixXd>& y,
    const ClassifierDiscrepancyOptions& options) {
  options.validate();
  if (x.cols() != y.cols()) {
    throw InputError(fmt::format("embedding dimensions differ: {} and {}", x.cols(), y.cols()));
  }
  if (x.rows() < options.num_folds || y.rows() < options.num_folds) {
    throw InputError(fmt::format("proxy-a needs at least {} rows per mpp (one per fold), got {} "
                                 "and {}; lower --folds",
                                 options.num_folds, x.rows(), y.rows()));
  }
  Eigen::MatrixXd pooled(x.rows() + y.rows(), x.cols());
  pooled << x, y;
  std::vector<int> domain(static_cast<std::size_t>(pooled.rows()), 0);
  std::fill(domain.begin() + x.rows(), domain.end(), 1);

  FoldOptions fold_options;
  fold_options.num_folds = options.num_folds;
  fold_options.shuffle = true;
  fold_options.seed = options.seed;
  const std::vector<int> test_fold = stratified_kfold(domain, fold_options);

  DomainClassifierResult result;
  const std::vector<std::uint8_t> correct =
      cross_validated_correctness(pooled, domain, test_fold, options.num_folds,
                                  probe_options(options, 2), result.num_unconverged_fits);
  result.correct_x.assign(correct.begin(), correct.begin() + x.rows());
  result.correct_y.assign(correct.begin() + x.rows(), correct.end());
  return result;
}

double proxy_a_from_correctness(const DomainClassifierResult& result,
                                const Eigen::VectorXd& weights_x,
                                const Eigen::VectorXd& weights_y) {
  const double error =
      0.5 * (weighted_error(result.correct_x, weights_x) + weighted_error(result.correct_y, weights_y));
  return std::clamp(1.0 - 2.0 * error, 0.0, 1.0);
}

double proxy_a_distance(const Eigen::Ref<const Eigen::MatrixXd>& x,
                        const Eigen::Ref<const Eigen::MatrixXd>& y,
                        const ClassifierDiscrepancyOptions& options) {
  return proxy_a_from_correctness(cross_validated_domain_classifier(x, y, options));
}

double balanced_error(const std::vector<std::uint8_t>& correct, const std::vector<int>& labels,
                      int num_classes, const Eigen::VectorXd& weights) {
  std::vector<double> wrong(static_cast<std::size_t>(num_classes), 0.0);
  std::vector<double> total(static_cast<std::size_t>(num_classes), 0.0);
  for (std::size_t k = 0; k < correct.size(); ++k) {
    const double w = weights.size() == 0 ? 1.0 : weights(static_cast<Eigen::Index>(k));
    const auto label = static_cast<std::size_t>(labels[k]);
    wrong[label] += correct[k] ? 0.0 : w;
    total[label] += w;
  }
  double sum = 0.0;
  int num_present = 0;
  for (std::size_t c = 0; c < total.size(); ++c) {
    if (total[c] > 0.0) {
      sum += wrong[c] / total[c];
      ++num_present;
    }
  }
  return num_present > 0 ? sum / num_present : 0.0;
}

TransferPredictions transfer_probe_predictions(const std::vector<LabelledSample>& samples,
                                               int num_classes,
                                               const ClassifierDiscrepancyOptions& options) {
  options.validate();
  const std::size_t num_sets = samples.size();
  for (std::size_t i = 0; i < num_sets; ++i) {
    std::vector<long> class_counts(static_cast<std::size_t>(num_classes), 0);
    for (const int label : samples[i].labels) {
      ++class_counts[static_cast<std::size_t>(label)];
    }
    const auto smallest = *std::min_element(class_counts.begin(), class_counts.end());
    if (smallest < options.num_folds) {
      throw InputError(fmt::format("transfer-gap needs every class at every mpp with at least {} "
                                   "rows (one per fold); mpp #{} has a class with {}; lower "
                                   "--folds or add tiles",
                                   options.num_folds, i, smallest));
    }
    if (samples[i].features->cols() != samples.front().features->cols()) {
      throw InputError("transfer-gap samples differ in embedding dimension");
    }
  }

  TransferPredictions predictions;
  const LogisticRegressionOptions fit_options = probe_options(options, num_classes);
  FoldOptions fold_options;
  fold_options.num_folds = options.num_folds;
  fold_options.shuffle = true;
  fold_options.seed = options.seed;

  predictions.in_domain_correct.resize(num_sets);
  predictions.transfer_correct.assign(num_sets, std::vector<std::vector<std::uint8_t>>(num_sets));
  for (std::size_t j = 0; j < num_sets; ++j) {
    const LabelledSample& sample = samples[j];
    const std::set<std::string> distinct_groups(sample.groups.begin(), sample.groups.end());
    const bool grouped =
        !sample.groups.empty() && static_cast<int>(distinct_groups.size()) >= options.num_folds;
    const std::vector<int> test_fold =
        grouped ? stratified_group_kfold(sample.labels, sample.groups, fold_options)
                : stratified_kfold(sample.labels, fold_options);
    predictions.in_domain_correct[j] =
        cross_validated_correctness(*sample.features, sample.labels, test_fold, options.num_folds,
                                    fit_options, predictions.num_unconverged_fits);
  }
  for (std::size_t i = 0; i < num_sets; ++i) {
    const Standardizer standardizer(*samples[i].features);
    const LogisticRegressionModel model = fit_logistic_regression(
        standardizer.apply(*samples[i].features), samples[i].labels, fit_options);
    if (!model.report.converged()) {
      ++predictions.num_unconverged_fits;
    }
    for (std::size_t j = 0; j < num_sets; ++j) {
      if (i == j) {
        continue;
      }
      const std::vector<int> predicted = model.predict(standardizer.apply(*samples[j].features));
      std::vector<std::uint8_t>& correct = predictions.transfer_correct[i][j];
      correct.resize(predicted.size());
      for (std::size_t k = 0; k < predicted.size(); ++k) {
        correct[k] = predicted[k] == samples[j].labels[k] ? 1 : 0;
      }
    }
  }
  return predictions;
}

}  // namespace mgap
