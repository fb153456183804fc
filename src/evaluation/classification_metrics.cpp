#include "mgap/classification_metrics.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "mgap/error.hpp"
#include "numpy_sum.hpp"

namespace mgap {
namespace {

// Counts per class over the labels present in the truth or the predictions, in increasing label
// order (scikit-learn's unique_labels).
struct ClassCounts {
  std::vector<double> true_positives;
  std::vector<double> true_totals;       // tp + fn
  std::vector<double> predicted_totals;  // tp + fp
};

ClassCounts count_classes(const std::vector<int>& truth, const std::vector<int>& predicted) {
  if (truth.empty() || truth.size() != predicted.size()) {
    throw InputError(fmt::format(
        "classification metrics: {} true labels and {} predictions; pass the same non-zero number",
        truth.size(), predicted.size()));
  }
  int max_label = 0;
  for (std::size_t i = 0; i < truth.size(); ++i) {
    if (truth[i] < 0 || predicted[i] < 0) {
      throw InputError(fmt::format(
          "classification metrics: negative label at row {} (truth {}, prediction {})", i,
          truth[i], predicted[i]));
    }
    max_label = std::max({max_label, truth[i], predicted[i]});
  }
  const auto size = static_cast<std::size_t>(max_label) + 1;
  std::vector<double> tp(size, 0.0);
  std::vector<double> true_totals(size, 0.0);
  std::vector<double> predicted_totals(size, 0.0);
  for (std::size_t i = 0; i < truth.size(); ++i) {
    true_totals[static_cast<std::size_t>(truth[i])] += 1.0;
    predicted_totals[static_cast<std::size_t>(predicted[i])] += 1.0;
    if (truth[i] == predicted[i]) {
      tp[static_cast<std::size_t>(truth[i])] += 1.0;
    }
  }

  ClassCounts counts;
  for (std::size_t c = 0; c < size; ++c) {
    if (true_totals[c] > 0.0 || predicted_totals[c] > 0.0) {
      counts.true_positives.push_back(tp[c]);
      counts.true_totals.push_back(true_totals[c]);
      counts.predicted_totals.push_back(predicted_totals[c]);
    }
  }
  return counts;
}

double balanced_accuracy_from(const ClassCounts& counts) {
  std::vector<double> recalls;
  for (std::size_t c = 0; c < counts.true_totals.size(); ++c) {
    if (counts.true_totals[c] > 0.0) {
      recalls.push_back(counts.true_positives[c] / counts.true_totals[c]);
    }
  }
  return detail::numpy_mean(recalls);
}

}  // namespace

double balanced_accuracy(const std::vector<int>& truth, const std::vector<int>& predicted) {
  return balanced_accuracy_from(count_classes(truth, predicted));
}

ClassificationMetrics classification_metrics(const std::vector<int>& truth,
                                             const std::vector<int>& predicted) {
  const ClassCounts counts = count_classes(truth, predicted);
  ClassificationMetrics metrics;
  metrics.num_rows = static_cast<int>(truth.size());

  double correct = 0.0;
  for (const double tp : counts.true_positives) {
    correct += tp;
  }
  metrics.accuracy = correct / static_cast<double>(truth.size());
  metrics.balanced_accuracy = balanced_accuracy_from(counts);

  // Same operations as scikit-learn's precision_recall_fscore_support with beta = 1.
  const std::size_t num_classes = counts.true_totals.size();
  std::vector<double> f1(num_classes);
  std::vector<double> weighted_f1(num_classes);
  for (std::size_t c = 0; c < num_classes; ++c) {
    const double tp = counts.true_positives[c];
    const double precision =
        counts.predicted_totals[c] > 0.0 ? tp / counts.predicted_totals[c] : 0.0;
    const double recall = counts.true_totals[c] > 0.0 ? tp / counts.true_totals[c] : 0.0;
    double denominator = precision + recall;
    if (denominator == 0.0) {
      denominator = 1.0;
    }
    f1[c] = 2.0 * precision * recall / denominator;
    weighted_f1[c] = f1[c] * counts.true_totals[c];
    if (counts.true_totals[c] > 0.0) {
      ++metrics.num_classes_in_truth;
    }
  }
  metrics.f1_macro = detail::numpy_mean(f1);
  metrics.f1_weighted = detail::numpy_sum(weighted_f1) / detail::numpy_sum(counts.true_totals);
  return metrics;
}

}  // namespace mgap
