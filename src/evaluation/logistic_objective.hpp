#pragma once

// Internal pieces of the logistic-regression fit (logistic_regression.cpp).

#include <Eigen/Core>
#include <nlopt.hpp>

#include <limits>
#include <vector>

#include "mgap/logistic_regression.hpp"

namespace mgap::detail {

// Objective and gradient of the loss in logistic_regression.hpp, with the parameter layout
// [W^T as num_features x num_outputs column-major, intercepts].
class LogisticObjective {
 public:
  LogisticObjective(const Eigen::Ref<const Eigen::MatrixXd>& features,
                    const std::vector<int>& labels, Eigen::VectorXd sample_weights, int num_classes,
                    bool fit_intercept);

  Eigen::Index num_parameters() const;

  // f at `parameters` for C = inverse_regularization; writes the gradient unless it is null.
  double evaluate(const double* parameters, double inverse_regularization, double* gradient);

  // f and gradients of several parameter vectors at once, each with its own C, in one pass over
  // the features. The fits use batches of one, because warm starts along the C path save more
  // than batching cold starts does.
  void evaluate_batch(const std::vector<const double*>& parameters,
                      const std::vector<double>& inverse_regularizations,
                      const std::vector<double*>& gradients, std::vector<double>& values);

 private:
  const Eigen::Ref<const Eigen::MatrixXd> features_;
  // [num_features, num_rows]: the rows of features_ as contiguous columns, so that a block of rows
  // is one contiguous stretch of memory.
  Eigen::MatrixXd transposed_features_;
  const std::vector<int>& labels_;
  Eigen::VectorXd sample_weights_;
  int num_classes_;
  Eigen::Index num_outputs_;
  bool fit_intercept_;
  // Rows per block of the single pass over the features: 128 rows of 384 doubles (393 KB) stay in
  // a 1 MB L2 cache between the two products of a block. In bench_evaluation's C path, blocks of
  // 64 and 128 rows ran equally fast and blocks of 512 rows about 1.3x slower.
  static constexpr Eigen::Index kRowBlock = 128;

  Eigen::MatrixXd weights_;              // [num_features, outputs * batch]
  Eigen::MatrixXd transposed_weights_;   // [outputs * batch, num_features]
  Eigen::MatrixXd scores_;               // [outputs * batch, kRowBlock]
  Eigen::MatrixXd gradient_block_;       // [num_features, outputs * batch]
  Eigen::VectorXd intercept_gradients_;  // [outputs * batch]
};

// Per-fit bookkeeping of one L-BFGS run: the best point seen and the gradient test.
struct SolverState {
  double gradient_tolerance = 0.0;
  int num_evaluations = 0;
  bool gradient_converged = false;
  double best_value = std::numeric_limits<double>::infinity();
  std::vector<double> best_parameters;
  double best_gradient_max_abs = std::numeric_limits<double>::infinity();
};

// Records one evaluation in `state` and returns `value`. Throws nlopt::forced_stop when the
// largest absolute gradient entry is at most the tolerance, which ends the NLopt run.
double record_evaluation(SolverState& state, const std::vector<double>& parameters, double value,
                         const std::vector<double>& gradient);

// Validates a fit's input and returns the number of classes (see fit_logistic_regression).
int check_fit_input(const Eigen::Ref<const Eigen::MatrixXd>& features,
                    const std::vector<int>& labels, const LogisticRegressionOptions& options);

// Runs NLopt's LD_LBFGS from `parameters` (overwritten with the best point) with `callback`.
LogisticRegressionReport run_lbfgs(nlopt::vfunc callback, void* data, SolverState& state,
                                   std::vector<double>& parameters,
                                   const LogisticRegressionOptions& options);

LogisticRegressionModel model_from_parameters(const std::vector<double>& parameters,
                                              Eigen::Index num_features, int num_classes,
                                              bool fit_intercept,
                                              const LogisticRegressionReport& report);

}  // namespace mgap::detail
