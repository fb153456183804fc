#pragma once

// Stratified k-fold assignments, plain and grouped, following scikit-learn 1.2's StratifiedKFold
// and StratifiedGroupKFold.
//
// Each function returns the test fold of every row, [num_rows] with values 0..num_folds-1; fold k's
// training part is every row not in fold k.
//
// - stratified_kfold: rows of each class (classes in order of first appearance) are dealt to folds
//   so that every fold gets floor or ceil of n_c / num_folds rows of class c. Without shuffling the
//   rows of a class fill fold 0 first, then fold 1, and so on, exactly as scikit-learn's
//   StratifiedKFold(shuffle=False). With shuffling the fold sequence of each class is permuted by
//   mgap's seeded engine (so the folds differ from scikit-learn's shuffled ones).
// - stratified_group_kfold: every group (slide or patient) lands in one fold. Groups are taken in
//   order of decreasing standard deviation of their class counts (ties in sorted group-name order,
//   or in a seeded random order when shuffling) and each goes to the fold that minimizes the mean
//   over classes of the standard deviation across folds of the fraction of that class in the fold;
//   near-ties (numpy.isclose) go to the fold with fewer rows, then to the lower fold index. Without
//   shuffling this is scikit-learn 1.2's StratifiedGroupKFold(shuffle=False), fold for fold.
//
// Complexity: O(n log n) for the plain split; O(G num_folds K) for G groups and K classes.

#include <cstdint>
#include <string>
#include <vector>

namespace mgap {

struct FoldOptions {
  int num_folds = 5;
  // Randomize the order in which rows (plain) or groups (grouped) are dealt, from `seed`.
  bool shuffle = false;
  std::uint64_t seed = 0;

  // Throws InputError unless num_folds >= 2.
  void validate() const;
};

// Test fold per row for `labels` [num_rows] (any integer values). Throws InputError if there are
// fewer rows than folds or if every class has fewer rows than folds. A class with fewer rows than
// folds (but not all classes) is allowed, as in scikit-learn, and leaves some folds without it.
std::vector<int> stratified_kfold(const std::vector<int>& labels, const FoldOptions& options);

// Test fold per row for `labels` [num_rows] and `groups` [num_rows] (group names, for example slide
// ids). Throws InputError for mismatched lengths, an empty group name, fewer groups than folds, or
// every class with fewer rows than folds.
std::vector<int> stratified_group_kfold(const std::vector<int>& labels,
                                        const std::vector<std::string>& groups,
                                        const FoldOptions& options);

// Row indices of the training and test parts of one fold.
struct FoldSplit {
  std::vector<long> train_rows;  // increasing
  std::vector<long> test_rows;   // increasing
};

// Splits rows by `test_fold` [num_rows] (values 0..num_folds-1, as returned above) into one
// FoldSplit per fold. Throws InputError for a value outside 0..num_folds-1.
std::vector<FoldSplit> fold_splits(const std::vector<int>& test_fold, int num_folds);

}  // namespace mgap
