#pragma once

// Fold plans of the evaluation protocol: for each outer fold, the role (train, validation, test)
// of every group (slide or patient). All tiles of a group share its role, at every mpp, so no
// slide contributes to both training and testing.
//
// A plan comes either from stratified group k-fold (folds.hpp) or from a TCGA-MS `labels.csv`.
// A built plan's outer fold k tests the groups of fold k of stratified_group_kfold over all rows.
// The remaining groups are split again by stratified_group_kfold with the same number of folds.
// The groups of that inner split's fold 0 are the validation part. Without shuffling this is
// scikit-learn's StratifiedGroupKFold(n_splits, shuffle=False) applied twice, fold for fold.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace mgap {

enum class FoldRole { kTrain, kValidation, kTest, kUnused };

// "train", "dev" (validation, the TCGA-MS name), "test", "unused".
std::string to_string(FoldRole role);
// Accepts "train", "dev" or "validation", "test", "unused" and "" (unused); throws InputError
// naming the value otherwise.
FoldRole fold_role_from_string(const std::string& text);

struct FoldPlan {
  std::map<std::string, FoldRole> role_of_group;

  // The role of `group`; groups that the plan does not list are unused.
  FoldRole role(const std::string& group) const;
};

struct FoldPlanOptions {
  int num_folds = 5;
  // Shuffle the group order (seeded) before assigning folds; without shuffling the folds equal
  // scikit-learn's StratifiedGroupKFold(shuffle=False).
  bool shuffle = false;
  std::uint64_t seed = 0;

  void validate() const;
};

// Builds num_folds plans from per-row `labels` and `groups` [num_rows] (rows of every mpp
// together; only per-group class counts matter, not the row order). Throws InputError for fewer
// groups than folds (outer, or inner within a training part) and the other conditions of
// stratified_group_kfold.
std::vector<FoldPlan> make_fold_plans(const std::vector<int>& labels,
                                      const std::vector<std::string>& groups,
                                      const FoldPlanOptions& options);

// Contents of a TCGA-MS `labels.csv`: header `slide_uuid,label_id,fold_0,...,fold_{k-1}` (any
// column order; extra columns ignored), one row per slide, fold values train, dev or test.
struct SlideFoldTable {
  std::map<std::string, std::string> label_of_slide;  // label_id as written
  std::vector<FoldPlan> folds;                        // ordered by the fold column number
};

// Reads a TCGA-MS labels.csv. Throws InputError naming the file and line for a missing column, a
// duplicated slide, an unknown fold value, or a file without fold columns.
SlideFoldTable read_slide_fold_table(const std::filesystem::path& path);

// Writes `plans` as a labels.csv-style table (slide_uuid,label_id,fold_0,...), with the label of
// each group from `label_of_group` (empty where absent). Written atomically.
void write_slide_fold_table(const std::filesystem::path& path, const std::vector<FoldPlan>& plans,
                            const std::map<std::string, std::string>& label_of_group);

}  // namespace mgap
