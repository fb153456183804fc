#include "mgap/benchmark_dataset.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <set>
#include <sstream>

#include "mgap/atomic_file.hpp"
#include "mgap/error.hpp"
#include "mgap/random.hpp"
#include "mgap/magnification.hpp"

namespace mgap {
namespace {

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> fields;
  std::string field;
  std::istringstream stream(line);
  while (std::getline(stream, field, ',')) {
    if (!field.empty() && field.back() == '\r') field.pop_back();
    fields.push_back(field);
  }
  if (!line.empty() && line.back() == ',') fields.emplace_back();
  return fields;
}

std::optional<long long> parse_integer(const std::string& text) {
  long long value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

std::optional<double> parse_mpp(const std::string& text) {
  double value = 0.0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || !(value > 0.0)) {
    return std::nullopt;
  }
  return value;
}

std::vector<std::filesystem::path> sorted_files(const std::filesystem::path& folder,
                                                const std::string& extension) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    if (entry.is_regular_file() && entry.path().extension() == extension) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

void sort_dataset(BenchmarkDataset& dataset) {
  std::sort(dataset.tiles.begin(), dataset.tiles.end(),
            [](const BenchmarkTile& a, const BenchmarkTile& b) {
              return a.mpp != b.mpp ? a.mpp < b.mpp : a.tile_id < b.tile_id;
            });
  std::sort(dataset.mpps.begin(), dataset.mpps.end());
}

}  // namespace

std::string to_string(SplitRole role) {
  switch (role) {
    case SplitRole::kTrain:
      return "train";
    case SplitRole::kDev:
      return "dev";
    case SplitRole::kTest:
      return "test";
  }
  return "train";
}

SplitRole split_role_from_string(const std::string& text) {
  for (const auto role : {SplitRole::kTrain, SplitRole::kDev, SplitRole::kTest}) {
    if (text == to_string(role)) return role;
  }
  throw InputError("unknown fold role '" + text + "'; use train, dev or test");
}

std::vector<SlideLabel> read_labels_csv(const std::filesystem::path& path) {
  std::istringstream stream(read_text_file(path));
  std::string line;
  if (!std::getline(stream, line)) {
    throw InputError("'" + path.string() + "' is empty; expected a header "
                     "slide_uuid,label_id,fold_0,...");
  }
  const auto header = split_csv_line(line);
  int slide_column = -1;
  int label_column = -1;
  std::vector<std::pair<int, int>> fold_columns;  // (fold number, column)
  for (int column = 0; column < static_cast<int>(header.size()); ++column) {
    const std::string& name = header[column];
    if (name == "slide_uuid") slide_column = column;
    if (name == "label_id") label_column = column;
    if (name.rfind("fold_", 0) == 0) {
      const auto fold = parse_integer(name.substr(5));
      if (!fold || *fold < 0) {
        throw InputError("invalid column '" + name + "' in '" + path.string() +
                         "'; fold columns are named fold_0, fold_1, ...");
      }
      fold_columns.emplace_back(static_cast<int>(*fold), column);
    }
  }
  if (slide_column < 0 || label_column < 0) {
    throw InputError("'" + path.string() + "' lacks the slide_uuid or label_id column; "
                     "expected a header slide_uuid,label_id,fold_0,...");
  }
  std::sort(fold_columns.begin(), fold_columns.end());
  std::vector<SlideLabel> labels;
  std::set<std::string> seen;
  int line_number = 1;
  while (std::getline(stream, line)) {
    ++line_number;
    if (line.empty() || line == "\r") continue;
    const auto fields = split_csv_line(line);
    const std::string where = "'" + path.string() + "' line " + std::to_string(line_number);
    if (fields.size() != header.size()) {
      throw InputError(where + " has " + std::to_string(fields.size()) + " fields, the header " +
                       std::to_string(header.size()));
    }
    SlideLabel label;
    label.slide_id = fields[slide_column];
    const auto label_id = parse_integer(fields[label_column]);
    if (!label_id || *label_id < 0) {
      throw InputError(where + ": invalid label_id '" + fields[label_column] +
                       "'; use a non-negative integer");
    }
    label.label_id = static_cast<int>(*label_id);
    for (const auto& [fold, column] : fold_columns) {
      label.folds.push_back(split_role_from_string(fields[column]));
    }
    if (!seen.insert(label.slide_id).second) {
      throw InputError(where + ": slide '" + label.slide_id + "' appears twice");
    }
    labels.push_back(std::move(label));
  }
  return labels;
}

void write_labels_csv(const std::filesystem::path& path, const std::vector<SlideLabel>& labels) {
  const std::size_t num_folds = labels.empty() ? 0 : labels.front().folds.size();
  std::ostringstream out;
  out << "slide_uuid,label_id";
  for (std::size_t fold = 0; fold < num_folds; ++fold) out << ",fold_" << fold;
  out << '\n';
  for (const auto& label : labels) {
    if (label.folds.size() != num_folds) {
      throw InputError("slide '" + label.slide_id + "' has " +
                       std::to_string(label.folds.size()) + " folds, the first slide " +
                       std::to_string(num_folds));
    }
    out << label.slide_id << ',' << label.label_id;
    for (const auto role : label.folds) out << ',' << to_string(role);
    out << '\n';
  }
  write_file_atomically(path, out.str());
}

std::vector<std::vector<SplitRole>> assign_grouped_folds(const std::vector<int>& group_labels,
                                                         int num_folds, std::uint64_t seed) {
  constexpr int kMinFolds = 3;  // test, dev and a non-empty training part
  if (num_folds < kMinFolds) {
    throw InputError("invalid number of folds " + std::to_string(num_folds) + "; use at least " +
                     std::to_string(kMinFolds) + " (test, dev and train)");
  }
  if (static_cast<int>(group_labels.size()) < num_folds) {
    throw InputError("only " + std::to_string(group_labels.size()) + " slides for " +
                     std::to_string(num_folds) + " folds; use fewer folds or more slides");
  }
  std::map<int, std::vector<std::size_t>> by_label;
  for (std::size_t group = 0; group < group_labels.size(); ++group) {
    by_label[group_labels[group]].push_back(group);
  }
  RandomEngine engine(seed);
  std::vector<int> test_fold(group_labels.size(), 0);
  int next_fold = 0;
  for (auto& [label, groups] : by_label) {
    // Fisher-Yates shuffle with mgap's engine, for the same order on every platform.
    for (std::size_t i = groups.size(); i > 1; --i) {
      std::swap(groups[i - 1], groups[uniform_index(engine, i)]);
    }
    for (const std::size_t group : groups) {
      test_fold[group] = next_fold;
      next_fold = (next_fold + 1) % num_folds;
    }
  }
  std::vector<std::vector<SplitRole>> roles(group_labels.size(),
                                            std::vector<SplitRole>(num_folds, SplitRole::kTrain));
  for (std::size_t group = 0; group < group_labels.size(); ++group) {
    for (int fold = 0; fold < num_folds; ++fold) {
      if (test_fold[group] == fold) {
        roles[group][fold] = SplitRole::kTest;
      } else if (test_fold[group] == (fold + 1) % num_folds) {
        roles[group][fold] = SplitRole::kDev;
      }
    }
  }
  return roles;
}

BenchmarkDataset read_tcga_ms(const std::filesystem::path& root) {
  const auto labels_path = root / "labels.csv";
  if (!std::filesystem::is_regular_file(labels_path)) {
    throw InputError("TCGA-MS benchmark '" + root.string() + "' has no labels.csv; expected "
                     "ROOT/labels.csv and ROOT/mpp_{mpp}/{slide}_{x}_{y}.png");
  }
  BenchmarkDataset dataset;
  std::map<std::string, int> label_of;
  for (const auto& label : read_labels_csv(labels_path)) {
    label_of[label.slide_id] = label.label_id;
    dataset.folds[label.slide_id] = label.folds;
  }
  for (const auto& entry : std::filesystem::directory_iterator(root)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_directory() || name.rfind("mpp_", 0) != 0) continue;
    const auto mpp = parse_mpp(name.substr(4));
    if (!mpp) {
      spdlog::warn("skipping folder '{}': not mpp_{{number}}", entry.path().string());
      continue;
    }
    dataset.mpps.push_back(*mpp);
    for (const auto& file : sorted_files(entry.path(), ".png")) {
      const auto parsed = parse_tcga_tile_name(file.stem().string());
      if (!parsed || label_of.count(parsed->slide_id) == 0) {
        ++dataset.num_skipped_files;
        continue;
      }
      BenchmarkTile tile;
      tile.path = file;
      tile.mpp = *mpp;
      tile.tile_id = file.stem().string();
      tile.slide_id = parsed->slide_id;
      tile.group = parsed->slide_id;
      tile.label_id = label_of[parsed->slide_id];
      dataset.tiles.push_back(std::move(tile));
    }
  }
  if (dataset.mpps.empty()) {
    throw InputError("TCGA-MS benchmark '" + root.string() + "' has no mpp_{mpp} folder");
  }
  if (dataset.num_skipped_files > 0) {
    spdlog::warn("{}: skipped {} files whose name is not {{slide}}_{{x}}_{{y}}.png or whose "
                 "slide is not in labels.csv",
                 root.string(), dataset.num_skipped_files);
  }
  sort_dataset(dataset);
  return dataset;
}

BenchmarkDataset read_bracs_ms(const std::filesystem::path& root,
                               const std::optional<std::filesystem::path>& patient_csv) {
  std::map<std::string, std::string> patient_of;
  if (patient_csv) {
    patient_of = read_bracs_patient_table(*patient_csv);
  }
  BenchmarkDataset dataset;
  dataset.label_names = bracs_subtypes();
  for (const auto& entry : std::filesystem::directory_iterator(root)) {
    const std::string name = entry.path().filename().string();
    const std::string prefix = "BRACS_";
    const std::string suffix = "mpp";
    if (!entry.is_directory() || name.rfind(prefix, 0) != 0 || name.size() <= prefix.size() + 3 ||
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
      continue;
    }
    const auto mpp =
        parse_mpp(name.substr(prefix.size(), name.size() - prefix.size() - suffix.size()));
    if (!mpp) continue;
    dataset.mpps.push_back(*mpp);
    for (const auto& file : sorted_files(entry.path(), ".png")) {
      const std::string stem = file.stem().string();
      const auto parsed = parse_bracs_tile_name(stem);
      if (!parsed || parsed->label_id < 0) {
        ++dataset.num_skipped_files;
        continue;
      }
      BenchmarkTile tile;
      tile.path = file;
      tile.mpp = *mpp;
      tile.tile_id = stem;
      tile.slide_id = parsed->wsi_id;
      const auto patient = patient_of.find(parsed->wsi_id);
      tile.group = patient != patient_of.end() ? patient->second : parsed->wsi_id;
      tile.label_id = parsed->label_id;
      dataset.tiles.push_back(std::move(tile));
    }
  }
  if (dataset.mpps.empty()) {
    throw InputError("BRACS-MS benchmark '" + root.string() + "' has no BRACS_{mpp}mpp folder");
  }
  sort_dataset(dataset);
  return dataset;
}

}  // namespace mgap
