#include "mgap/folds.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

#include "mgap/error.hpp"
#include "mgap/random.hpp"
#include "numpy_sum.hpp"

namespace mgap {
namespace {

using detail::numpy_pairwise_sum;
using detail::numpy_std;

// numpy.isclose(a, b) with its default tolerances (rtol 1e-5, atol 1e-8).
bool numpy_isclose(double a, double b) {
  if (std::isinf(a) || std::isinf(b)) {
    return a == b;
  }
  return std::abs(a - b) <= 1e-8 + 1e-5 * std::abs(b);
}

void check_class_sizes(const std::vector<long>& class_counts, int num_folds, const char* caller) {
  const long smallest = *std::min_element(class_counts.begin(), class_counts.end());
  const bool all_too_small =
      std::all_of(class_counts.begin(), class_counts.end(),
                  [num_folds](long count) { return count < num_folds; });
  if (all_too_small) {
    throw InputError(fmt::format(
        "{}: every class has fewer rows than the {} folds (smallest class: {} rows); use fewer "
        "folds or more rows",
        caller, num_folds, smallest));
  }
  if (smallest < num_folds) {
    spdlog::warn("{}: the smallest class has {} rows, fewer than the {} folds, so some folds "
                 "have no row of it",
                 caller, smallest, num_folds);
  }
}

void shuffle_in_place(std::vector<int>& values, RandomEngine& engine) {
  // Fisher-Yates from the back with mgap's unbiased index draw.
  for (std::size_t i = values.size(); i > 1; --i) {
    const auto j = static_cast<std::size_t>(uniform_index(engine, i));
    std::swap(values[i - 1], values[j]);
  }
}

// Mean over classes of the std across folds of the fraction of each class per fold, with
// `extra` added to fold `candidate`: scikit-learn's _find_best_fold criterion.
double fold_spread(const std::vector<std::vector<double>>& counts_per_fold,
                   const std::vector<double>& class_totals, const std::vector<double>& extra,
                   std::size_t candidate) {
  const std::size_t num_folds = counts_per_fold.size();
  const std::size_t num_classes = class_totals.size();
  std::vector<double> std_per_class(num_classes);
  std::vector<double> column(num_folds);
  for (std::size_t c = 0; c < num_classes; ++c) {
    for (std::size_t f = 0; f < num_folds; ++f) {
      const double count = counts_per_fold[f][c] + (f == candidate ? extra[c] : 0.0);
      column[f] = count / class_totals[c];
    }
    // numpy reduces along axis 0 row by row, which is a plain sequential sum.
    double sum = 0.0;
    for (const double value : column) {
      sum += value;
    }
    const double mean = sum / static_cast<double>(num_folds);
    double squares = 0.0;
    for (const double value : column) {
      squares += (value - mean) * (value - mean);
    }
    std_per_class[c] = std::sqrt(squares / static_cast<double>(num_folds));
  }
  return numpy_pairwise_sum(std_per_class.data(), num_classes) / static_cast<double>(num_classes);
}

}  // namespace

void FoldOptions::validate() const {
  if (num_folds < 2) {
    throw InputError(fmt::format("folds: num_folds = {} is invalid; use at least 2", num_folds));
  }
}

std::vector<int> stratified_kfold(const std::vector<int>& labels, const FoldOptions& options) {
  options.validate();
  const int num_folds = options.num_folds;
  if (labels.size() < static_cast<std::size_t>(num_folds)) {
    throw InputError(fmt::format(
        "stratified k-fold: {} rows cannot fill {} folds; use fewer folds or more rows",
        labels.size(), num_folds));
  }

  // Classes in order of first appearance, as scikit-learn encodes them.
  std::map<int, int> class_of_label;
  std::vector<int> encoded(labels.size());
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const auto inserted =
        class_of_label.emplace(labels[i], static_cast<int>(class_of_label.size()));
    encoded[i] = inserted.first->second;
  }
  const std::size_t num_classes = class_of_label.size();
  std::vector<long> class_counts(num_classes, 0);
  for (const int c : encoded) {
    ++class_counts[static_cast<std::size_t>(c)];
  }
  check_class_sizes(class_counts, num_folds, "stratified k-fold");

  // Round robin over the rows sorted by class: position p goes to fold p mod num_folds, so class c
  // (positions start_c .. start_c + n_c - 1) gets that many rows in each fold.
  RandomEngine engine(options.seed);
  std::vector<std::vector<int>> folds_for_class(num_classes);
  long position = 0;
  for (std::size_t c = 0; c < num_classes; ++c) {
    std::vector<long> allocation(static_cast<std::size_t>(num_folds), 0);
    for (long k = 0; k < class_counts[c]; ++k, ++position) {
      ++allocation[static_cast<std::size_t>(position % num_folds)];
    }
    for (int f = 0; f < num_folds; ++f) {
      folds_for_class[c].insert(folds_for_class[c].end(),
                                static_cast<std::size_t>(allocation[static_cast<std::size_t>(f)]),
                                f);
    }
    if (options.shuffle) {
      shuffle_in_place(folds_for_class[c], engine);
    }
  }

  std::vector<int> test_fold(labels.size());
  std::vector<std::size_t> next_in_class(num_classes, 0);
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const auto c = static_cast<std::size_t>(encoded[i]);
    test_fold[i] = folds_for_class[c][next_in_class[c]++];
  }
  return test_fold;
}

std::vector<int> stratified_group_kfold(const std::vector<int>& labels,
                                        const std::vector<std::string>& groups,
                                        const FoldOptions& options) {
  options.validate();
  const int num_folds = options.num_folds;
  if (labels.size() != groups.size()) {
    throw InputError(fmt::format(
        "stratified group k-fold: {} labels but {} group names; pass one group per row",
        labels.size(), groups.size()));
  }
  for (std::size_t i = 0; i < groups.size(); ++i) {
    if (groups[i].empty()) {
      throw InputError(fmt::format(
          "stratified group k-fold: row {} has an empty group name; give every row its slide or "
          "patient id",
          i));
    }
  }

  // Classes and groups in sorted order (numpy.unique).
  std::map<int, std::size_t> class_index;
  for (const int label : labels) {
    class_index.emplace(label, 0);
  }
  std::map<std::string, std::size_t> group_index;
  for (const auto& group : groups) {
    group_index.emplace(group, 0);
  }
  std::size_t next = 0;
  for (auto& entry : class_index) {
    entry.second = next++;
  }
  next = 0;
  for (auto& entry : group_index) {
    entry.second = next++;
  }
  const std::size_t num_classes = class_index.size();
  const std::size_t num_groups = group_index.size();
  if (num_groups < static_cast<std::size_t>(num_folds)) {
    throw InputError(fmt::format(
        "stratified group k-fold: {} groups cannot fill {} folds; use fewer folds or more "
        "slides or patients",
        num_groups, num_folds));
  }

  std::vector<long> class_counts(num_classes, 0);
  std::vector<std::vector<double>> counts_per_group(num_groups, std::vector<double>(num_classes));
  std::vector<std::size_t> group_of_row(labels.size());
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const std::size_t c = class_index[labels[i]];
    group_of_row[i] = group_index[groups[i]];
    ++class_counts[c];
    counts_per_group[group_of_row[i]][c] += 1.0;
  }
  check_class_sizes(class_counts, num_folds, "stratified group k-fold");
  std::vector<double> class_totals(class_counts.begin(), class_counts.end());

  // Groups with the most uneven class counts first; a stable sort keeps the (sorted or shuffled)
  // order among equal spreads.
  std::vector<int> order(num_groups);
  std::iota(order.begin(), order.end(), 0);
  if (options.shuffle) {
    RandomEngine engine(options.seed);
    shuffle_in_place(order, engine);
  }
  std::vector<double> spread(num_groups);
  for (std::size_t g = 0; g < num_groups; ++g) {
    spread[g] = numpy_std(counts_per_group[g]);
  }
  std::stable_sort(order.begin(), order.end(), [&spread](int a, int b) {
    return spread[static_cast<std::size_t>(a)] > spread[static_cast<std::size_t>(b)];
  });

  std::vector<std::vector<double>> counts_per_fold(static_cast<std::size_t>(num_folds),
                                                   std::vector<double>(num_classes, 0.0));
  std::vector<int> fold_of_group(num_groups, 0);
  for (const int g : order) {
    const auto& extra = counts_per_group[static_cast<std::size_t>(g)];
    std::size_t best_fold = 0;
    double min_eval = std::numeric_limits<double>::infinity();
    double min_rows_in_fold = std::numeric_limits<double>::infinity();
    for (std::size_t f = 0; f < static_cast<std::size_t>(num_folds); ++f) {
      const double eval = fold_spread(counts_per_fold, class_totals, extra, f);
      const double rows_in_fold =
          numpy_pairwise_sum(counts_per_fold[f].data(), counts_per_fold[f].size());
      const bool better =
          eval < min_eval || (numpy_isclose(eval, min_eval) && rows_in_fold < min_rows_in_fold);
      if (better) {
        min_eval = eval;
        min_rows_in_fold = rows_in_fold;
        best_fold = f;
      }
    }
    for (std::size_t c = 0; c < num_classes; ++c) {
      counts_per_fold[best_fold][c] += extra[c];
    }
    fold_of_group[static_cast<std::size_t>(g)] = static_cast<int>(best_fold);
  }

  std::vector<int> test_fold(labels.size());
  for (std::size_t i = 0; i < labels.size(); ++i) {
    test_fold[i] = fold_of_group[group_of_row[i]];
  }
  return test_fold;
}

std::vector<FoldSplit> fold_splits(const std::vector<int>& test_fold, int num_folds) {
  if (num_folds < 1) {
    throw InputError(fmt::format("fold splits: num_folds = {} is invalid; use at least 1", num_folds));
  }
  std::vector<FoldSplit> splits(static_cast<std::size_t>(num_folds));
  for (std::size_t i = 0; i < test_fold.size(); ++i) {
    const int fold = test_fold[i];
    if (fold < 0 || fold >= num_folds) {
      throw InputError(fmt::format(
          "fold splits: row {} has fold {}, outside 0..{}; number folds from 0", i, fold,
          num_folds - 1));
    }
    for (int f = 0; f < num_folds; ++f) {
      auto& split = splits[static_cast<std::size_t>(f)];
      (f == fold ? split.test_rows : split.train_rows).push_back(static_cast<long>(i));
    }
  }
  return splits;
}

}  // namespace mgap
