#pragma once

// Classification metrics as scikit-learn 1.2 computes them, for integer class labels.
//
// - accuracy: fraction of rows with prediction == truth.
// - balanced accuracy: mean over the classes present in the truth of the recall
//   tp_c / (tp_c + fn_c). A class that appears only among the predictions is left out, as
//   scikit-learn's balanced_accuracy_score does (it warns "y_pred contains classes not in y_true").
// - F1 per class: 2 p r / (p + r) with precision p = tp / (tp + fp) and recall r = tp / (tp + fn),
//   0 when a denominator is 0 (scikit-learn's zero_division="warn" value). The classes are those
//   present in the truth or the predictions.
// - macro F1: unweighted mean of the per-class F1 over those classes.
// - weighted F1: mean of the per-class F1 weighted by the class counts in the truth.
//
// Complexity: O(n + K^2) for n rows and K classes.

#include <vector>

namespace mgap {

struct ClassificationMetrics {
  double accuracy = 0.0;
  double balanced_accuracy = 0.0;
  double f1_macro = 0.0;
  double f1_weighted = 0.0;
  int num_rows = 0;
  int num_classes_in_truth = 0;  // classes with at least one true row
};

// Metrics of `predicted` against `truth` (both [num_rows], labels >= 0). Throws InputError for
// empty or mismatched vectors or negative labels.
ClassificationMetrics classification_metrics(const std::vector<int>& truth,
                                             const std::vector<int>& predicted);

// Balanced accuracy alone (see above), the criterion for choosing hyperparameters.
double balanced_accuracy(const std::vector<int>& truth, const std::vector<int>& predicted);

}  // namespace mgap
