#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "mgap/error.hpp"
#include "mgap/folds.hpp"

// Reference assignments from scikit-learn 1.2.1 (Debian python3-sklearn):
//   y = np.random.RandomState(3).randint(0, 3, size=23)
//   StratifiedKFold(4).split(X, y)                       -> kStratifiedFolds
// then, from the same RandomState, 40 group names "s%02d" % randint(0, 12), 40 labels
// randint(0, 3), and StratifiedGroupKFold(3).split(X, y2, groups) -> kGroupFolds.
namespace {

const std::vector<int> kLabels = {2, 0, 1, 0, 0, 0, 1, 1, 2, 1, 1, 2, 1, 2, 0, 0, 0, 1, 2, 0, 2, 1, 2};
const std::vector<int> kStratifiedFolds = {0, 0, 0, 0, 1, 1, 0, 1, 0, 1, 2, 1,
                                           2, 1, 2, 2, 3, 3, 2, 3, 2, 3, 3};
const std::vector<std::string> kGroups = {
    "s06", "s02", "s02", "s01", "s03", "s10", "s05", "s08", "s01", "s10", "s08", "s11", "s07", "s08",
    "s11", "s01", "s11", "s00", "s05", "s04", "s01", "s05", "s04", "s07", "s06", "s00", "s00", "s09",
    "s02", "s04", "s05", "s08", "s08", "s07", "s05", "s01", "s01", "s01", "s05", "s05"};
const std::vector<int> kGroupLabels = {2, 0, 0, 0, 0, 0, 0, 2, 2, 0, 1, 1, 2, 0, 1, 1, 0, 1, 0, 2,
                                       2, 0, 0, 2, 0, 0, 0, 2, 2, 0, 0, 1, 1, 1, 0, 0, 1, 0, 0, 1};
const std::vector<int> kGroupFolds = {2, 1, 1, 1, 0, 2, 0, 1, 1, 2, 1, 2, 0, 1, 2, 1, 2, 2, 0, 2,
                                      1, 0, 2, 0, 2, 2, 2, 0, 1, 2, 0, 1, 1, 0, 0, 1, 1, 1, 0, 0};

}  // namespace

TEST_CASE("stratified k-fold matches scikit-learn") {
  mgap::FoldOptions options;
  options.num_folds = 4;
  CHECK(mgap::stratified_kfold(kLabels, options) == kStratifiedFolds);
}

TEST_CASE("stratified group k-fold matches scikit-learn") {
  mgap::FoldOptions options;
  options.num_folds = 3;
  CHECK(mgap::stratified_group_kfold(kGroupLabels, kGroups, options) == kGroupFolds);
}

TEST_CASE("shuffled folds keep groups and strata") {
  mgap::FoldOptions options;
  options.num_folds = 3;
  options.shuffle = true;
  options.seed = 7;
  const std::vector<int> folds = mgap::stratified_group_kfold(kGroupLabels, kGroups, options);
  CHECK(folds == mgap::stratified_group_kfold(kGroupLabels, kGroups, options));
  std::map<std::string, std::set<int>> folds_of_group;
  for (std::size_t i = 0; i < kGroups.size(); ++i) {
    folds_of_group[kGroups[i]].insert(folds[i]);
  }
  for (const auto& entry : folds_of_group) {
    CAPTURE(entry.first);
    CHECK(entry.second.size() == 1);
  }

  const std::vector<int> plain = mgap::stratified_kfold(kLabels, options);
  CHECK(plain == mgap::stratified_kfold(kLabels, options));
  // Every class is dealt evenly: per class, fold sizes differ by at most one.
  for (int c = 0; c < 3; ++c) {
    std::vector<int> per_fold(3, 0);
    for (std::size_t i = 0; i < kLabels.size(); ++i) {
      if (kLabels[i] == c) {
        ++per_fold[static_cast<std::size_t>(plain[i])];
      }
    }
    const auto [lo, hi] = std::minmax_element(per_fold.begin(), per_fold.end());
    CHECK(*hi - *lo <= 1);
  }
}

TEST_CASE("fold splits partition the rows") {
  const auto splits = mgap::fold_splits(kStratifiedFolds, 4);
  REQUIRE(splits.size() == 4);
  std::size_t total_test = 0;
  for (const auto& split : splits) {
    total_test += split.test_rows.size();
    CHECK(split.train_rows.size() + split.test_rows.size() == kStratifiedFolds.size());
  }
  CHECK(total_test == kStratifiedFolds.size());
}

TEST_CASE("folds reject bad input") {
  mgap::FoldOptions options;
  options.num_folds = 5;
  CHECK_THROWS_AS(mgap::stratified_kfold({0, 1, 0, 1}, options), mgap::InputError);
  CHECK_THROWS_AS(mgap::stratified_kfold({0, 1, 0, 1, 0, 1, 2}, options), mgap::InputError);
  CHECK_THROWS_AS(mgap::stratified_group_kfold({0, 1, 0, 1, 0, 1}, {"a", "a", "b", "b", "c", "c"},
                                               options),
                  mgap::InputError);
  CHECK_THROWS_AS(mgap::stratified_group_kfold({0, 1}, {"a"}, options), mgap::InputError);
  options.num_folds = 1;
  CHECK_THROWS_AS(mgap::stratified_kfold(kLabels, options), mgap::InputError);
  CHECK_THROWS_AS(mgap::fold_splits({0, 3}, 2), mgap::InputError);
}
