#include "mgap/fold_plan.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "mgap/atomic_file.hpp"
#include "mgap/csv_table.hpp"
#include "mgap/error.hpp"
#include "mgap/folds.hpp"

namespace mgap {
namespace {

// Parses the number after "fold_" in a column name; returns -1 for other columns.
int fold_column_number(const std::string& name) {
  const std::string prefix = "fold_";
  if (name.rfind(prefix, 0) != 0 || name.size() == prefix.size()) {
    return -1;
  }
  const std::string digits = name.substr(prefix.size());
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return -1;
  }
  return std::stoi(digits);
}

}  // namespace

std::string to_string(FoldRole role) {
  switch (role) {
    case FoldRole::kTrain:
      return "train";
    case FoldRole::kValidation:
      return "dev";
    case FoldRole::kTest:
      return "test";
    case FoldRole::kUnused:
      return "unused";
  }
  return "unused";
}

FoldRole fold_role_from_string(const std::string& text) {
  if (text == "train") {
    return FoldRole::kTrain;
  }
  if (text == "dev" || text == "validation") {
    return FoldRole::kValidation;
  }
  if (text == "test") {
    return FoldRole::kTest;
  }
  if (text == "unused" || text.empty()) {
    return FoldRole::kUnused;
  }
  throw InputError(
      fmt::format("unknown fold role '{}'; use train, dev (validation), test or unused", text));
}

FoldRole FoldPlan::role(const std::string& group) const {
  const auto found = role_of_group.find(group);
  return found == role_of_group.end() ? FoldRole::kUnused : found->second;
}

void FoldPlanOptions::validate() const {
  FoldOptions folds;
  folds.num_folds = num_folds;
  folds.validate();
}

std::vector<FoldPlan> make_fold_plans(const std::vector<int>& labels,
                                      const std::vector<std::string>& groups,
                                      const FoldPlanOptions& options) {
  options.validate();
  FoldOptions fold_options;
  fold_options.num_folds = options.num_folds;
  fold_options.shuffle = options.shuffle;
  fold_options.seed = options.seed;
  const std::vector<int> outer = stratified_group_kfold(labels, groups, fold_options);

  std::vector<FoldPlan> plans(static_cast<std::size_t>(options.num_folds));
  for (int fold = 0; fold < options.num_folds; ++fold) {
    std::vector<int> train_labels;
    std::vector<std::string> train_groups;
    FoldPlan& plan = plans[static_cast<std::size_t>(fold)];
    for (std::size_t i = 0; i < labels.size(); ++i) {
      if (outer[i] == fold) {
        plan.role_of_group[groups[i]] = FoldRole::kTest;
      } else {
        train_labels.push_back(labels[i]);
        train_groups.push_back(groups[i]);
      }
    }

    std::vector<int> inner;
    try {
      inner = stratified_group_kfold(train_labels, train_groups, fold_options);
    } catch (const InputError& error) {
      throw InputError(fmt::format(
          "fold {}: the training part cannot be split into training and validation groups: {}",
          fold, error.what()));
    }
    for (std::size_t i = 0; i < train_labels.size(); ++i) {
      plan.role_of_group[train_groups[i]] = inner[i] == 0 ? FoldRole::kValidation : FoldRole::kTrain;
    }
  }
  return plans;
}

SlideFoldTable read_slide_fold_table(const std::filesystem::path& path) {
  const CsvTable csv = read_csv_table(path);
  const int slide_column = csv.column_index("slide_uuid");
  const int label_column = csv.column_index("label_id");
  std::vector<std::pair<int, int>> fold_columns;  // (fold number, column)
  for (std::size_t c = 0; c < csv.header.size(); ++c) {
    const int number = fold_column_number(csv.header[c]);
    if (number >= 0) {
      fold_columns.emplace_back(number, static_cast<int>(c));
    }
  }
  if (slide_column < 0 || fold_columns.empty()) {
    throw InputError(fmt::format(
        "{}: the header needs a slide_uuid column and at least one fold_<k> column (found: {})",
        path.string(), fmt::join(csv.header, ",")));
  }
  std::sort(fold_columns.begin(), fold_columns.end());

  SlideFoldTable table;
  table.folds.resize(fold_columns.size());
  for (std::size_t r = 0; r < csv.rows.size(); ++r) {
    const auto& fields = csv.rows[r];
    const std::size_t line = csv.line_numbers[r];
    const std::string& slide = fields[static_cast<std::size_t>(slide_column)];
    if (slide.empty()) {
      throw InputError(fmt::format("{}:{}: the slide_uuid is empty", path.string(), line));
    }
    const std::string label =
        label_column >= 0 ? fields[static_cast<std::size_t>(label_column)] : std::string();
    if (!table.label_of_slide.emplace(slide, label).second) {
      throw InputError(fmt::format("{}:{}: slide '{}' appears twice; list each slide once",
                                   path.string(), line, slide));
    }
    for (std::size_t k = 0; k < fold_columns.size(); ++k) {
      const std::string& value = fields[static_cast<std::size_t>(fold_columns[k].second)];
      try {
        table.folds[k].role_of_group[slide] = fold_role_from_string(value);
      } catch (const InputError& error) {
        throw InputError(fmt::format("{}:{}: column fold_{}: {}", path.string(), line,
                                     fold_columns[k].first, error.what()));
      }
    }
  }
  return table;
}

void write_slide_fold_table(const std::filesystem::path& path, const std::vector<FoldPlan>& plans,
                            const std::map<std::string, std::string>& label_of_group) {
  std::map<std::string, std::vector<FoldRole>> roles;
  for (std::size_t k = 0; k < plans.size(); ++k) {
    for (const auto& [group, role] : plans[k].role_of_group) {
      auto& row = roles[group];
      row.resize(plans.size(), FoldRole::kUnused);
      row[k] = role;
    }
  }
  std::string out = "slide_uuid,label_id";
  for (std::size_t k = 0; k < plans.size(); ++k) {
    out += fmt::format(",fold_{}", k);
  }
  out += "\n";
  for (const auto& [group, row] : roles) {
    const auto label = label_of_group.find(group);
    out += csv_escape(group) + "," +
           csv_escape(label == label_of_group.end() ? std::string() : label->second);
    for (const FoldRole role : row) {
      out += "," + to_string(role);
    }
    out += "\n";
  }
  write_file_atomically(path, out);
}

}  // namespace mgap
