#include "mgap/logistic_regression.hpp"

#include <fmt/format.h>
#include <nlopt.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "mgap/blas.hpp"
#include "logistic_objective.hpp"
#include "mgap/error.hpp"

namespace mgap {
namespace {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;

int num_outputs_for(int num_classes) { return num_classes == 2 ? 1 : num_classes; }

Index num_parameters_for(Index num_features, int num_classes, bool fit_intercept) {
  const Index outputs = num_outputs_for(num_classes);
  return num_features * outputs + (fit_intercept ? outputs : 0);
}

// log(1 + e^z) without overflow for large z or loss of precision for very negative z.
double log1p_exp(double z) { return z > 0.0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z)); }

double sigmoid(double z) {
  if (z >= 0.0) {
    return 1.0 / (1.0 + std::exp(-z));
  }
  const double e = std::exp(z);
  return e / (1.0 + e);
}

void check_labels(const std::vector<int>& labels, Index num_rows, int num_classes) {
  if (static_cast<Index>(labels.size()) != num_rows) {
    throw InputError(fmt::format(
        "logistic regression: {} labels for {} feature rows; pass one label per row", labels.size(),
        num_rows));
  }
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0 || labels[i] >= num_classes) {
      throw InputError(fmt::format(
          "logistic regression: label {} at row {} is outside 0..{}; encode classes as 0..K-1",
          labels[i], i, num_classes - 1));
    }
  }
}

// Replaces the scores [num_outputs, num_rows] (one column per row of the data) by the weighted
// residuals s_i (p_i - onehot(y_i)) and returns the weighted cross-entropy sum_i s_i CE_i.
// `labels` and `sample_weights` start at the row of the first column.
double binomial_residuals(Eigen::Ref<MatrixXd> scores, const int* labels,
                          const Eigen::Ref<const VectorXd>& sample_weights) {
  double loss = 0.0;
  for (Index i = 0; i < scores.cols(); ++i) {
    const double z = scores(0, i);
    const double y = labels[i] == 1 ? 1.0 : 0.0;
    const double weight = sample_weights(i);
    loss += weight * (log1p_exp(z) - y * z);
    scores(0, i) = weight * (sigmoid(z) - y);
  }
  return loss;
}

double multinomial_residuals(Eigen::Ref<MatrixXd> scores, const int* labels,
                             const Eigen::Ref<const VectorXd>& sample_weights) {
  double loss = 0.0;
  const Index num_outputs = scores.rows();
  for (Index i = 0; i < scores.cols(); ++i) {
    double max_score = scores(0, i);
    for (Index k = 1; k < num_outputs; ++k) {
      max_score = std::max(max_score, scores(k, i));
    }
    double sum_exp = 0.0;
    for (Index k = 0; k < num_outputs; ++k) {
      sum_exp += std::exp(scores(k, i) - max_score);
    }
    const double log_sum_exp = max_score + std::log(sum_exp);
    const Index label = labels[i];
    const double weight = sample_weights(i);
    loss += weight * (log_sum_exp - scores(label, i));
    for (Index k = 0; k < num_outputs; ++k) {
      scores(k, i) = weight * std::exp(scores(k, i) - log_sum_exp);
    }
    scores(label, i) -= weight;
  }
  return loss;
}

}  // namespace

namespace detail {

LogisticObjective::LogisticObjective(const Eigen::Ref<const MatrixXd>& features,
                                     const std::vector<int>& labels, VectorXd sample_weights,
                                     int num_classes, bool fit_intercept)
    : features_(features),
      transposed_features_(features.transpose()),
      labels_(labels),
      sample_weights_(std::move(sample_weights)),
      num_classes_(num_classes),
      num_outputs_(num_outputs_for(num_classes)),
      fit_intercept_(fit_intercept) {}

Index LogisticObjective::num_parameters() const {
  return num_parameters_for(features_.cols(), num_classes_, fit_intercept_);
}

double LogisticObjective::evaluate(const double* parameters, double inverse_regularization,
                                   double* gradient) {
  std::vector<double> values(1);
  evaluate_batch({parameters}, {inverse_regularization}, {gradient}, values);
  return values[0];
}

void LogisticObjective::evaluate_batch(const std::vector<const double*>& parameters,
                                       const std::vector<double>& inverse_regularizations,
                                       const std::vector<double*>& gradients,
                                       std::vector<double>& values) {
  const Index num_features = features_.cols();
  const Index outputs = num_outputs_;
  const auto batch = static_cast<Index>(parameters.size());

  // All weight blocks side by side, [num_features, outputs * batch], so that one pass over the
  // features serves every parameter vector.
  weights_.resize(num_features, outputs * batch);
  for (Index j = 0; j < batch; ++j) {
    weights_.middleCols(j * outputs, outputs) =
        Eigen::Map<const MatrixXd>(parameters[static_cast<std::size_t>(j)], num_features, outputs);
  }
  transposed_weights_ = weights_.transpose();
  const bool with_gradient = !gradients.empty() && gradients.front() != nullptr;
  const Index num_rows = features_.rows();
  scores_.resize(outputs * batch, std::min(kRowBlock, num_rows));  // [outputs * batch, block rows]
  gradient_block_.setZero(num_features, outputs * batch);
  intercept_gradients_.setZero(outputs * batch);
  std::vector<double> losses(static_cast<std::size_t>(batch), 0.0);

  // One pass over the features in blocks of rows that stay in cache between the score product
  // and the gradient product. Two whole-matrix products read the features twice from memory, and
  // OpenBLAS copies (packs) the large operand in each. Scores are kept transposed, one column per
  // row, so that the residuals of one row are contiguous; computing X W instead ran as fast.
  for (Index start = 0; start < num_rows; start += kRowBlock) {
    const Index block_rows = std::min(kRowBlock, num_rows - start);
    // The block's rows are the contiguous columns start..start + block_rows of the transpose.
    const auto features = transposed_features_.middleCols(start, block_rows);
    auto scores = scores_.leftCols(block_rows);
    detail::gemm(false, false, 1.0, transposed_weights_, features, 0.0, scores);
    const int* labels = labels_.data() + start;
    const auto weights = sample_weights_.segment(start, block_rows);
    for (Index j = 0; j < batch; ++j) {
      const auto jj = static_cast<std::size_t>(j);
      auto block = scores.middleRows(j * outputs, outputs);
      if (fit_intercept_) {
        const Eigen::Map<const VectorXd> intercepts(parameters[jj] + num_features * outputs,
                                                    outputs);
        block.colwise() += intercepts;
      }
      // Replace the scores by the weighted residuals while summing the loss.
      losses[jj] += num_classes_ == 2 ? binomial_residuals(block, labels, weights)
                                      : multinomial_residuals(block, labels, weights);
    }
    if (with_gradient) {
      detail::gemm(false, true, 1.0, features, scores, 1.0, gradient_block_);
      intercept_gradients_ += scores.rowwise().sum();
    }
  }

  values.assign(static_cast<std::size_t>(batch), 0.0);
  for (Index j = 0; j < batch; ++j) {
    const auto jj = static_cast<std::size_t>(j);
    const double penalty_scale = 1.0 / inverse_regularizations[jj];
    values[jj] =
        losses[jj] + 0.5 * penalty_scale * weights_.middleCols(j * outputs, outputs).squaredNorm();
  }
  if (!with_gradient) {
    return;
  }
  for (Index j = 0; j < batch; ++j) {
    const auto jj = static_cast<std::size_t>(j);
    Eigen::Map<MatrixXd> weight_gradient(gradients[jj], num_features, outputs);
    weight_gradient = gradient_block_.middleCols(j * outputs, outputs) +
                      (1.0 / inverse_regularizations[jj]) * weights_.middleCols(j * outputs, outputs);
    if (fit_intercept_) {
      Eigen::Map<VectorXd>(gradients[jj] + num_features * outputs, outputs) =
          intercept_gradients_.segment(j * outputs, outputs);
    }
  }
}

double record_evaluation(SolverState& state, const std::vector<double>& parameters, double value,
                         const std::vector<double>& gradient) {
  ++state.num_evaluations;
  const double gradient_max_abs =
      Eigen::Map<const VectorXd>(gradient.data(), static_cast<Index>(gradient.size()))
          .cwiseAbs()
          .maxCoeff();
  const bool converged = gradient_max_abs <= state.gradient_tolerance;
  if (converged || value < state.best_value) {
    state.best_value = value;
    state.best_parameters = parameters;
    state.best_gradient_max_abs = gradient_max_abs;
  }
  if (converged) {
    // SciPy's L-BFGS-B stops on the projected gradient; NLopt has no gradient criterion, so the
    // callback ends the run itself.
    state.gradient_converged = true;
    throw nlopt::forced_stop();
  }
  return value;
}

}  // namespace detail

namespace {

using detail::LogisticObjective;
using detail::SolverState;

// Single fit: the objective is evaluated directly.
struct SingleFit {
  LogisticObjective* objective = nullptr;
  double inverse_regularization = 1.0;
  SolverState state;
};

double single_fit_callback(const std::vector<double>& parameters, std::vector<double>& gradient,
                           void* data) {
  auto* fit = static_cast<SingleFit*>(data);
  const double value =
      fit->objective->evaluate(parameters.data(), fit->inverse_regularization, gradient.data());
  return detail::record_evaluation(fit->state, parameters, value, gradient);
}

std::vector<double> initial_parameters(const LogisticRegressionModel* initial_model,
                                       Index num_features, int num_classes, bool fit_intercept) {
  const Index outputs = num_outputs_for(num_classes);
  std::vector<double> parameters(
      static_cast<std::size_t>(num_parameters_for(num_features, num_classes, fit_intercept)), 0.0);
  if (initial_model == nullptr) {
    return parameters;
  }
  if (initial_model->num_classes != num_classes ||
      initial_model->coefficients.cols() != num_features) {
    throw InputError(fmt::format(
        "logistic regression: the initial model has {} classes and {} features but the data has {} "
        "and {}; pass a model fitted to data of the same shape",
        initial_model->num_classes, initial_model->coefficients.cols(), num_classes, num_features));
  }
  Eigen::Map<MatrixXd> weights(parameters.data(), num_features, outputs);
  weights = initial_model->coefficients.transpose();
  if (fit_intercept) {
    Eigen::Map<VectorXd>(parameters.data() + num_features * outputs, outputs) =
        initial_model->intercepts;
  }
  return parameters;
}

int infer_num_classes(const std::vector<int>& labels, int requested) {
  if (requested > 0) {
    return requested;
  }
  int max_label = -1;
  for (const int label : labels) {
    max_label = std::max(max_label, label);
  }
  return max_label + 1;
}

}  // namespace

std::string to_string(ClassWeighting weighting) {
  return weighting == ClassWeighting::kBalanced ? "balanced" : "uniform";
}

ClassWeighting class_weighting_from_string(const std::string& text) {
  if (text == "balanced") {
    return ClassWeighting::kBalanced;
  }
  if (text == "uniform" || text == "none") {
    return ClassWeighting::kUniform;
  }
  throw InputError(fmt::format("unknown class weighting '{}'; use 'uniform' or 'balanced'", text));
}

std::string to_string(LogisticRegressionStatus status) {
  switch (status) {
    case LogisticRegressionStatus::kGradientTolerance:
      return "gradient_tolerance";
    case LogisticRegressionStatus::kObjectiveTolerance:
      return "objective_tolerance";
    case LogisticRegressionStatus::kRoundoffLimited:
      return "roundoff_limited";
    case LogisticRegressionStatus::kMaxEvaluations:
      return "max_evaluations";
    case LogisticRegressionStatus::kFailed:
      return "failed";
  }
  return "failed";
}

void LogisticRegressionOptions::validate() const {
  if (!(inverse_regularization > 0.0) || !std::isfinite(inverse_regularization)) {
    throw InputError(fmt::format(
        "logistic regression: inverse regularization C = {} is invalid; use a finite C > 0",
        inverse_regularization));
  }
  if (num_classes == 1 || num_classes < 0) {
    throw InputError(fmt::format(
        "logistic regression: num_classes = {} is invalid; use 0 (infer) or at least 2",
        num_classes));
  }
  if (!(gradient_tolerance >= 0.0) || !(relative_objective_tolerance >= 0.0)) {
    throw InputError(fmt::format(
        "logistic regression: tolerances must be >= 0 (gradient {}, relative objective {})",
        gradient_tolerance, relative_objective_tolerance));
  }
  if (max_evaluations < 1 || history_size < 1) {
    throw InputError(fmt::format(
        "logistic regression: max_evaluations = {} and history_size = {} must both be >= 1",
        max_evaluations, history_size));
  }
}

VectorXd logistic_sample_weights(const std::vector<int>& labels, int num_classes,
                                 ClassWeighting weighting) {
  const auto num_rows = static_cast<Index>(labels.size());
  if (weighting == ClassWeighting::kUniform) {
    return VectorXd::Ones(num_rows);
  }
  std::vector<Index> class_counts(static_cast<std::size_t>(num_classes), 0);
  for (const int label : labels) {
    ++class_counts[static_cast<std::size_t>(label)];
  }
  VectorXd weights(num_rows);
  for (Index i = 0; i < num_rows; ++i) {
    const Index count = class_counts[static_cast<std::size_t>(labels[static_cast<std::size_t>(i)])];
    weights(i) = static_cast<double>(num_rows) / (static_cast<double>(num_classes) * count);
  }
  return weights;
}

double logistic_regression_objective(const Eigen::Ref<const MatrixXd>& features,
                                     const std::vector<int>& labels,
                                     const LogisticRegressionOptions& options,
                                     const VectorXd& parameters, VectorXd& gradient) {
  options.validate();
  if (options.num_classes < 2) {
    throw InputError("logistic regression objective: set options.num_classes to at least 2");
  }
  check_labels(labels, features.rows(), options.num_classes);
  LogisticObjective objective(
      features, labels,
      logistic_sample_weights(labels, options.num_classes, options.class_weighting),
      options.num_classes, options.fit_intercept);
  if (parameters.size() != objective.num_parameters()) {
    throw InputError(fmt::format("logistic regression objective: {} parameters given, {} expected",
                                 parameters.size(), objective.num_parameters()));
  }
  gradient.resize(parameters.size());
  return objective.evaluate(parameters.data(), options.inverse_regularization, gradient.data());
}

namespace detail {

int check_fit_input(const Eigen::Ref<const MatrixXd>& features, const std::vector<int>& labels,
                    const LogisticRegressionOptions& options) {
  options.validate();
  const Index num_rows = features.rows();
  const Index num_features = features.cols();
  if (num_rows == 0 || num_features == 0) {
    throw InputError(fmt::format(
        "logistic regression: the feature matrix is {} x {}; pass at least one row and one column",
        num_rows, num_features));
  }
  if (!features.allFinite()) {
    throw InputError("logistic regression: the features contain NaN or infinite values; remove or "
                     "impute them before fitting");
  }
  const int num_classes = infer_num_classes(labels, options.num_classes);
  if (num_classes < 2) {
    throw InputError(
        "logistic regression: the labels contain one class only; pass rows of at least two classes");
  }
  check_labels(labels, num_rows, num_classes);
  std::vector<Index> class_counts(static_cast<std::size_t>(num_classes), 0);
  for (const int label : labels) {
    ++class_counts[static_cast<std::size_t>(label)];
  }
  for (int c = 0; c < num_classes; ++c) {
    if (class_counts[static_cast<std::size_t>(c)] == 0) {
      throw InputError(fmt::format(
          "logistic regression: class {} has no rows among {} classes; every class needs at least "
          "one training row (or relabel the classes as 0..K-1 without gaps)",
          c, num_classes));
    }
  }
  return num_classes;
}

LogisticRegressionReport run_lbfgs(nlopt::vfunc callback, void* data, SolverState& state,
                                   std::vector<double>& parameters,
                                   const LogisticRegressionOptions& options) {
  nlopt::opt solver(nlopt::LD_LBFGS, static_cast<unsigned>(parameters.size()));
  solver.set_min_objective(callback, data);
  solver.set_ftol_rel(options.relative_objective_tolerance);
  solver.set_maxeval(options.max_evaluations);
  solver.set_vector_storage(static_cast<unsigned>(options.history_size));

  LogisticRegressionReport report;
  double final_value = 0.0;
  try {
    const nlopt::result result = solver.optimize(parameters, final_value);
    report.solver_message = fmt::format("nlopt result {}", static_cast<int>(result));
    report.status = result == nlopt::MAXEVAL_REACHED ? LogisticRegressionStatus::kMaxEvaluations
                                                     : LogisticRegressionStatus::kObjectiveTolerance;
  } catch (const nlopt::forced_stop&) {
    report.solver_message = "forced stop";
    report.status = LogisticRegressionStatus::kFailed;
  } catch (const nlopt::roundoff_limited&) {
    report.solver_message = "nlopt: roundoff limited";
    report.status = LogisticRegressionStatus::kRoundoffLimited;
  } catch (const std::runtime_error& error) {
    report.solver_message = error.what();
    report.status = LogisticRegressionStatus::kFailed;
  }
  // A stop requested by the callback may surface as another NLopt result, because the line search
  // receives the aborted evaluation. The gradient test therefore decides.
  if (state.gradient_converged) {
    report.status = LogisticRegressionStatus::kGradientTolerance;
    report.solver_message = "gradient tolerance reached";
  }

  // The best point seen is returned whatever NLopt left in `parameters`.
  if (!state.best_parameters.empty()) {
    parameters = state.best_parameters;
  }
  report.num_evaluations = state.num_evaluations;
  report.objective = state.best_value;
  report.gradient_max_abs = state.best_gradient_max_abs;
  return report;
}

LogisticRegressionModel model_from_parameters(const std::vector<double>& parameters,
                                              Index num_features, int num_classes,
                                              bool fit_intercept,
                                              const LogisticRegressionReport& report) {
  LogisticRegressionModel model;
  const Index outputs = num_outputs_for(num_classes);
  model.num_classes = num_classes;
  model.coefficients =
      Eigen::Map<const MatrixXd>(parameters.data(), num_features, outputs).transpose();
  model.intercepts = fit_intercept ? VectorXd(Eigen::Map<const VectorXd>(
                                         parameters.data() + num_features * outputs, outputs))
                                   : VectorXd::Zero(outputs);
  model.report = report;
  return model;
}

}  // namespace detail

LogisticRegressionModel fit_logistic_regression(const Eigen::Ref<const MatrixXd>& features,
                                                const std::vector<int>& labels,
                                                const LogisticRegressionOptions& options,
                                                const LogisticRegressionModel* initial_model) {
  const int num_classes = detail::check_fit_input(features, labels, options);
  LogisticObjective objective(features, labels,
                              logistic_sample_weights(labels, num_classes, options.class_weighting),
                              num_classes, options.fit_intercept);
  std::vector<double> parameters =
      initial_parameters(initial_model, features.cols(), num_classes, options.fit_intercept);

  SingleFit fit;
  fit.objective = &objective;
  fit.inverse_regularization = options.inverse_regularization;
  fit.state.gradient_tolerance = options.gradient_tolerance;
  const LogisticRegressionReport report =
      detail::run_lbfgs(single_fit_callback, &fit, fit.state, parameters, options);
  return detail::model_from_parameters(parameters, features.cols(), num_classes,
                                       options.fit_intercept, report);
}

std::vector<LogisticRegressionModel> fit_logistic_regression_path(
    const Eigen::Ref<const MatrixXd>& features, const std::vector<int>& labels,
    const LogisticRegressionOptions& options, const std::vector<double>& inverse_regularizations) {
  const int num_classes = detail::check_fit_input(features, labels, options);
  for (const double c : inverse_regularizations) {
    LogisticRegressionOptions path_options = options;
    path_options.inverse_regularization = c;
    path_options.validate();
  }
  LogisticObjective objective(features, labels,
                              logistic_sample_weights(labels, num_classes, options.class_weighting),
                              num_classes, options.fit_intercept);
  std::vector<double> parameters =
      initial_parameters(nullptr, features.cols(), num_classes, options.fit_intercept);
  std::vector<LogisticRegressionModel> models;
  for (const double c : inverse_regularizations) {
    SingleFit fit;
    fit.objective = &objective;
    fit.inverse_regularization = c;
    fit.state.gradient_tolerance = options.gradient_tolerance;
    // run_lbfgs leaves the best point in `parameters`, which starts the next fit.
    const LogisticRegressionReport report =
        detail::run_lbfgs(single_fit_callback, &fit, fit.state, parameters, options);
    models.push_back(detail::model_from_parameters(parameters, features.cols(), num_classes,
                                                   options.fit_intercept, report));
  }
  return models;
}

MatrixXd LogisticRegressionModel::decision_function(
    const Eigen::Ref<const MatrixXd>& features) const {
  if (features.cols() != coefficients.cols()) {
    throw InputError(fmt::format(
        "logistic regression: the model was fitted to {} features but the input has {} columns; "
        "use embeddings of the same dimension for training and prediction",
        coefficients.cols(), features.cols()));
  }
  MatrixXd scores = features * coefficients.transpose();
  scores.rowwise() += intercepts.transpose();
  return scores;
}

MatrixXd LogisticRegressionModel::predict_proba(const Eigen::Ref<const MatrixXd>& features) const {
  const MatrixXd scores = decision_function(features);
  MatrixXd probabilities(scores.rows(), num_classes);
  if (num_classes == 2) {
    for (Index i = 0; i < scores.rows(); ++i) {
      const double p = sigmoid(scores(i, 0));
      probabilities(i, 0) = 1.0 - p;
      probabilities(i, 1) = p;
    }
    return probabilities;
  }
  for (Index i = 0; i < scores.rows(); ++i) {
    const double max_score = scores.row(i).maxCoeff();
    double sum_exp = 0.0;
    for (Index k = 0; k < num_classes; ++k) {
      probabilities(i, k) = std::exp(scores(i, k) - max_score);
      sum_exp += probabilities(i, k);
    }
    probabilities.row(i) /= sum_exp;
  }
  return probabilities;
}

std::vector<int> LogisticRegressionModel::predict(const Eigen::Ref<const MatrixXd>& features) const {
  const MatrixXd scores = decision_function(features);
  std::vector<int> predictions(static_cast<std::size_t>(scores.rows()));
  for (Index i = 0; i < scores.rows(); ++i) {
    if (num_classes == 2) {
      predictions[static_cast<std::size_t>(i)] = scores(i, 0) > 0.0 ? 1 : 0;
      continue;
    }
    // First maximum, as numpy.argmax.
    Index best = 0;
    for (Index k = 1; k < scores.cols(); ++k) {
      if (scores(i, k) > scores(i, best)) {
        best = k;
      }
    }
    predictions[static_cast<std::size_t>(i)] = static_cast<int>(best);
  }
  return predictions;
}

}  // namespace mgap
