#pragma once

// Internal steps of the evaluation protocol: gathering one fold's rows and running one classifier
// on them. Used by evaluation_protocol.cpp only.

#include <Eigen/Core>

#include <string>
#include <vector>

#include "mgap/evaluation_protocol.hpp"

namespace mgap::detail {

// The rows of one outer fold, gathered from the sets.
struct FoldData {
  int fold = 0;
  Eigen::MatrixXd train;  // [num_train_rows, embedding_dim], training mpps stacked in order
  std::vector<int> train_labels;
  Eigen::MatrixXd validation;  // [num_validation_rows, embedding_dim]
  std::vector<int> validation_labels;
  std::vector<double> test_mpps;
  std::vector<Eigen::MatrixXd> test;  // per test mpp, [num_test_rows, embedding_dim]
  std::vector<std::vector<int>> test_labels;
  std::vector<std::vector<long>> test_rows;  // row indices within that mpp's embeddings
};

// Gathers the rows of `plan` (fold number `fold`). Throws InputError if the training, validation or
// a test part is empty, or a class in 0..num_classes-1 has no training row.
FoldData gather_fold(const FoldPlan& plan, int fold,
                     const std::vector<const MppEmbeddings*>& train_sets,
                     const std::vector<const MppEmbeddings*>& test_sets, int num_classes,
                     const std::vector<std::string>& class_names);

// Selection, test predictions and metrics of one classifier on one fold.
struct ClassifierOutcome {
  FoldSelection selection;
  std::vector<FoldResult> results;  // per test mpp
  std::vector<std::string> warnings;
};

ClassifierOutcome run_logistic_regression_fold(const FoldData& data,
                                               const EvaluationOptions& options, int num_classes);

ClassifierOutcome run_knn_fold(const FoldData& data, const EvaluationOptions& options,
                               int num_classes);

// Name of class `c` for messages: options.class_names[c] when given, else the index.
std::string class_name(const std::vector<std::string>& class_names, int c);

}  // namespace mgap::detail
