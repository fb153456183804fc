#pragma once

// Logistic regression with L2 on the weights, fitted by L-BFGS (NLopt LD_LBFGS) with an analytic
// gradient, matching scikit-learn 1.2's LogisticRegression(solver="lbfgs").
//
// Data layout: rows are samples, columns are features. Labels are integers 0..K-1.
//
// Objective (scikit-learn's scaling, so that its gradient tolerance means the same thing):
//
//     f(W, b) = sum_i s_i * CE_i(W, b) + ||W||^2 / (2 C)
//
// with s_i the sample weight (1, or n / (K n_{y_i}) for balanced class weights) and CE_i the
// cross-entropy of row i. The intercepts b are not penalized. f is C^-1 times
// 0.5 ||W||^2 + C sum_i s_i CE_i, so both have the same minimizer.
//
// - K > 2: multinomial (softmax) loss, CE_i = logsumexp_k(z_ik) - z_{i,y_i}, z_i = W x_i + b,
//   one weight row and one intercept per class.
// - K = 2: binomial loss with one weight row (the score of class 1), CE_i = log(1 + e^{z_i}) -
//   y_i z_i, as scikit-learn's lbfgs does for two classes (multi_class="auto"). A two-class
//   multinomial model would have a different effective regularization.
//
// Complexity: one objective evaluation costs two matrix products, O(n d K) for n rows, d features
// and K classes (K = 1 for the binomial case). L-BFGS usually needs tens to hundreds of them.
//
// Stopping: the fit stops when the largest absolute gradient entry falls to gradient_tolerance
// (scikit-learn's `tol`, passed to SciPy's L-BFGS-B as `gtol`), when the relative change of f falls
// to relative_objective_tolerance (SciPy's L-BFGS-B default `ftol`), or after max_evaluations
// objective evaluations. NLopt counts evaluations, not iterations, so one iteration with a line
// search may use several evaluations.
//
// Reference: scikit-learn 1.2 `sklearn/linear_model/_logistic.py` (objective, class weights) and
// Liu and Nocedal, "On the limited memory BFGS method for large scale optimization", Math.
// Programming 45 (1989).

#include <Eigen/Core>

#include <string>
#include <vector>

namespace mgap {

enum class ClassWeighting {
  kUniform,   // every row has weight 1
  kBalanced,  // row of class c has weight n / (K n_c), scikit-learn's class_weight="balanced"
};

std::string to_string(ClassWeighting weighting);
// Accepts "uniform" (or "none") and "balanced"; throws InputError otherwise.
ClassWeighting class_weighting_from_string(const std::string& text);

struct LogisticRegressionOptions {
  // C: inverse regularization strength, > 0. Larger C means weaker regularization.
  double inverse_regularization = 1.0;
  ClassWeighting class_weighting = ClassWeighting::kUniform;
  bool fit_intercept = true;
  // Number of classes K >= 2; 0 takes 1 + the largest label. Every class needs at least one row.
  int num_classes = 0;
  // Stop when max_j |df/dtheta_j| <= gradient_tolerance (scikit-learn's default tol).
  double gradient_tolerance = 1e-4;
  // Stop when |f_old - f_new| <= relative_objective_tolerance * |f| (SciPy's L-BFGS-B default
  // factr = 1e7 times machine epsilon).
  double relative_objective_tolerance = 2.220446049250313e-09;
  // Cap on objective evaluations.
  int max_evaluations = 2000;
  // Number of correction pairs kept by L-BFGS (SciPy's default maxcor).
  int history_size = 10;

  // Throws InputError naming the first invalid field.
  void validate() const;
};

enum class LogisticRegressionStatus {
  kGradientTolerance,   // converged: the gradient fell to gradient_tolerance
  kObjectiveTolerance,  // converged: the objective stopped changing
  kRoundoffLimited,     // the line search could not make progress (usually at the optimum)
  kMaxEvaluations,      // stopped at max_evaluations before converging
  kFailed,              // NLopt reported a failure, and the model is the best point seen
};

std::string to_string(LogisticRegressionStatus status);

struct LogisticRegressionReport {
  LogisticRegressionStatus status = LogisticRegressionStatus::kFailed;
  int num_evaluations = 0;
  double objective = 0.0;          // f at the returned parameters
  double gradient_max_abs = 0.0;   // max_j |df/dtheta_j| at the returned parameters
  std::string solver_message;      // NLopt's result or error text

  bool converged() const {
    return status == LogisticRegressionStatus::kGradientTolerance ||
           status == LogisticRegressionStatus::kObjectiveTolerance ||
           status == LogisticRegressionStatus::kRoundoffLimited;
  }
};

class LogisticRegressionModel {
 public:
  // Weights [num_outputs, num_features]; num_outputs is 1 for two classes (score of class 1) and
  // K otherwise, as scikit-learn's coef_.
  Eigen::MatrixXd coefficients;
  Eigen::VectorXd intercepts;  // [num_outputs]
  int num_classes = 0;
  LogisticRegressionReport report;

  Eigen::Index num_features() const { return coefficients.cols(); }

  // Scores z = X W^T + b, [num_rows, num_outputs]. Throws InputError if the number of columns of
  // `features` differs from num_features().
  Eigen::MatrixXd decision_function(const Eigen::Ref<const Eigen::MatrixXd>& features) const;
  // Class probabilities [num_rows, num_classes]: softmax of the scores, or (1 - sigmoid(z),
  // sigmoid(z)) for two classes.
  Eigen::MatrixXd predict_proba(const Eigen::Ref<const Eigen::MatrixXd>& features) const;
  // Most probable class per row [num_rows]. Equal scores go to the smallest class label (the
  // first maximum, as numpy.argmax); for two classes, class 1 needs a score > 0.
  std::vector<int> predict(const Eigen::Ref<const Eigen::MatrixXd>& features) const;
};

// Fits the model to `features` [num_rows, num_features] and `labels` [num_rows] in 0..K-1.
// `initial_model`, when given, starts L-BFGS from its parameters (a warm start along a path of C
// values); it must have the same number of classes and features. Throws InputError for mismatched
// sizes, non-finite features, labels outside 0..K-1, a class without rows or fewer than two
// classes. A fit that stops before converging is reported in `report`, not thrown.
LogisticRegressionModel fit_logistic_regression(
    const Eigen::Ref<const Eigen::MatrixXd>& features, const std::vector<int>& labels,
    const LogisticRegressionOptions& options = {},
    const LogisticRegressionModel* initial_model = nullptr);

// Fits one model per value of `inverse_regularizations` (used in the given order) to the same data.
// Each fit starts from the previous fit's solution, so the result equals calling
// fit_logistic_regression with each model as the next one's initial_model, but the data are
// checked and laid out once. options.inverse_regularization is ignored. Throws as
// fit_logistic_regression, and for a value of C that is not positive.
std::vector<LogisticRegressionModel> fit_logistic_regression_path(
    const Eigen::Ref<const Eigen::MatrixXd>& features, const std::vector<int>& labels,
    const LogisticRegressionOptions& options, const std::vector<double>& inverse_regularizations);

// Per-row weights s_i of the objective [num_rows]: all ones, or n / (K n_c) for balanced weights.
Eigen::VectorXd logistic_sample_weights(const std::vector<int>& labels, int num_classes,
                                        ClassWeighting weighting);

// Evaluates f and its gradient at `parameters`, for gradient checks. Parameter layout: the weights
// as a [num_features, num_outputs] column-major block (W^T), then num_outputs intercepts when
// fit_intercept is set. `gradient` is resized to the number of parameters. num_classes must be set
// in `options` (no inference here).
double logistic_regression_objective(const Eigen::Ref<const Eigen::MatrixXd>& features,
                                     const std::vector<int>& labels,
                                     const LogisticRegressionOptions& options,
                                     const Eigen::VectorXd& parameters, Eigen::VectorXd& gradient);

}  // namespace mgap
