#include "mgap/embedding_bundle.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

#include "mgap/atomic_file.hpp"
#include "mgap/json_schema.hpp"
#include "mgap/csv_table.hpp"
#include "mgap/error.hpp"
#include "mgap/hash.hpp"
#include "mgap/magnification.hpp"
#include "mgap/npy.hpp"

namespace mgap {

namespace {

// Two mpps closer than this relative difference are the same magnification.
constexpr double kMppRelativeTolerance = 1e-9;

const char* const kTileIdColumn = "tile_id";
const char* const kLabelColumn = "label";
const char* const kGroupColumn = "group";

bool same_mpp(double first, double second) {
  return std::abs(first - second) <= kMppRelativeTolerance * std::max(first, second);
}

bool is_metadata_column(const std::string& name) {
  return name == kTileIdColumn || name == kLabelColumn || name == kGroupColumn;
}

double parse_cell(const std::string& cell, const CsvTable& table, std::size_t row,
                  std::size_t column) {
  double value = 0.0;
  const char* begin = cell.data();
  const char* end = cell.data() + cell.size();
  while (begin < end && *begin == ' ') {
    ++begin;
  }
  while (end > begin && *(end - 1) == ' ') {
    --end;
  }
  const auto result = std::from_chars(begin, end, value);
  if (begin == end || result.ec != std::errc() || result.ptr != end) {
    throw InputError(fmt::format("{}:{}: cell '{}' in column '{}' is not a number; embedding "
                                 "columns hold numbers only",
                                 table.source.string(), table.line_numbers[row], cell,
                                 table.header[column]));
  }
  return value;
}

// Copies column `name` of `table` into `out` when present, rejecting empty cells.
void take_metadata_column(const CsvTable& table, const std::string& name,
                          std::vector<std::string>& out) {
  const int column = table.column_index(name);
  if (column < 0) {
    return;
  }
  out.clear();
  out.reserve(table.rows.size());
  for (std::size_t row = 0; row < table.rows.size(); ++row) {
    const std::string& cell = table.rows[row][static_cast<std::size_t>(column)];
    if (cell.empty()) {
      throw InputError(fmt::format("{}:{}: empty '{}' cell; every row needs a value",
                                   table.source.string(), table.line_numbers[row], name));
    }
    out.push_back(cell);
  }
}

bool has_metadata(const EmbeddingSet& set) {
  return !set.tile_ids.empty() || !set.labels.empty() || !set.groups.empty();
}

// Reads embeddings from a CSV with a header; tile_id, label and group columns become metadata.
void read_csv_embeddings(const std::filesystem::path& path, EmbeddingSet& set) {
  const CsvTable table = read_csv_table(path);
  std::vector<std::size_t> value_columns;
  for (std::size_t column = 0; column < table.header.size(); ++column) {
    if (!is_metadata_column(table.header[column])) {
      value_columns.push_back(column);
    }
  }
  set.embeddings.resize(static_cast<Eigen::Index>(table.rows.size()),
                        static_cast<Eigen::Index>(value_columns.size()));
  for (std::size_t row = 0; row < table.rows.size(); ++row) {
    for (std::size_t k = 0; k < value_columns.size(); ++k) {
      set.embeddings(static_cast<Eigen::Index>(row), static_cast<Eigen::Index>(k)) =
          parse_cell(table.rows[row][value_columns[k]], table, row, value_columns[k]);
    }
  }
  take_metadata_column(table, kTileIdColumn, set.tile_ids);
  take_metadata_column(table, kLabelColumn, set.labels);
  take_metadata_column(table, kGroupColumn, set.groups);
}

void read_side_csv(const std::filesystem::path& path, EmbeddingSet& set) {
  const CsvTable table = read_csv_table(path);
  if (table.column_index(kTileIdColumn) < 0 && table.column_index(kLabelColumn) < 0 &&
      table.column_index(kGroupColumn) < 0) {
    throw InputError(fmt::format("{}: the rows CSV has none of the columns tile_id, label, group; "
                                 "name its columns in the header",
                                 path.string()));
  }
  if (static_cast<Eigen::Index>(table.rows.size()) != set.num_tiles()) {
    throw InputError(fmt::format("{}: {} rows, but '{}' has {} embeddings; the rows CSV needs one "
                                 "row per embedding, in the same order",
                                 path.string(), table.rows.size(), set.source.string(),
                                 set.num_tiles()));
  }
  take_metadata_column(table, kTileIdColumn, set.tile_ids);
  take_metadata_column(table, kLabelColumn, set.labels);
  take_metadata_column(table, kGroupColumn, set.groups);
}

template <typename T>
void keep_rows(std::vector<T>& values, const std::vector<Eigen::Index>& rows) {
  if (values.empty()) {
    return;
  }
  std::vector<T> kept;
  kept.reserve(rows.size());
  for (const Eigen::Index row : rows) {
    kept.push_back(std::move(values[static_cast<std::size_t>(row)]));
  }
  values = std::move(kept);
}

// Rejects or drops rows with NaN or infinity, then reports all-zero rows.
void screen_rows(EmbeddingSet& set, const BundleReadOptions& options,
                 std::vector<std::string>& warnings) {
  std::vector<Eigen::Index> finite_rows;
  finite_rows.reserve(static_cast<std::size_t>(set.num_tiles()));
  for (Eigen::Index row = 0; row < set.num_tiles(); ++row) {
    if (set.embeddings.row(row).allFinite()) {
      finite_rows.push_back(row);
      continue;
    }
    if (!options.drop_nonfinite) {
      Eigen::Index column = 0;
      while (std::isfinite(set.embeddings(row, column))) {
        ++column;
      }
      throw InputError(fmt::format("{}: row {} (0-based) has a non-finite value ({}) in column "
                                   "{}; remove the row or drop such rows with --drop-nonfinite",
                                   set.source.string(), row, set.embeddings(row, column), column));
    }
  }
  const auto num_dropped = set.num_tiles() - static_cast<Eigen::Index>(finite_rows.size());
  if (num_dropped > 0) {
    Eigen::MatrixXd kept(static_cast<Eigen::Index>(finite_rows.size()), set.embeddings.cols());
    for (std::size_t k = 0; k < finite_rows.size(); ++k) {
      kept.row(static_cast<Eigen::Index>(k)) = set.embeddings.row(finite_rows[k]);
    }
    warnings.push_back(fmt::format("{}: dropped {} of {} rows with NaN or infinity",
                                   set.source.string(), num_dropped, set.num_tiles()));
    set.embeddings = std::move(kept);
    keep_rows(set.tile_ids, finite_rows);
    keep_rows(set.labels, finite_rows);
    keep_rows(set.groups, finite_rows);
  }

  Eigen::Index num_zero = 0;
  Eigen::Index first_zero = -1;
  for (Eigen::Index row = 0; row < set.num_tiles(); ++row) {
    if ((set.embeddings.row(row).array() == 0.0).all()) {
      first_zero = num_zero == 0 ? row : first_zero;
      ++num_zero;
    }
  }
  if (num_zero > 0) {
    warnings.push_back(fmt::format("{}: {} all-zero rows (first at row {}); cosine measures are "
                                   "undefined for them",
                                   set.source.string(), num_zero, first_zero));
  }
}

void check_unique_tile_ids(const EmbeddingSet& set) {
  std::unordered_map<std::string, std::size_t> first_row;
  for (std::size_t row = 0; row < set.tile_ids.size(); ++row) {
    const auto [where, inserted] = first_row.emplace(set.tile_ids[row], row);
    if (!inserted) {
      throw InputError(fmt::format("{}: tile id '{}' appears at rows {} and {}; tile ids must be "
                                   "unique within one mpp",
                                   set.source.string(), set.tile_ids[row], where->second, row));
    }
  }
}

const std::set<std::string>& known_entry_keys() {
  static const std::set<std::string> keys = {"mpp", "file", "rows"};
  return keys;
}

std::filesystem::path resolve(const std::filesystem::path& folder, const std::string& name) {
  const std::filesystem::path path(name);
  return path.is_absolute() ? path : folder / path;
}

EmbeddingSet read_entry(const nlohmann::json& entry, std::size_t index,
                        const std::filesystem::path& folder, const std::string& source,
                        const BundleReadOptions& options, std::vector<std::string>& warnings) {
  if (!entry.is_object() || !entry.contains("mpp") || !entry.at("mpp").is_number() ||
      !entry.contains("file") || !entry.at("file").is_string()) {
    throw InputError(fmt::format("{}: sets[{}] needs a number 'mpp' and a string 'file'", source,
                                 index));
  }
  for (const auto& item : entry.items()) {
    if (known_entry_keys().count(item.key()) == 0) {
      warnings.push_back(fmt::format("{}: sets[{}] has unknown key '{}', ignored (known: mpp, "
                                     "file, rows)",
                                     source, index, item.key()));
    }
  }
  EmbeddingSet set;
  set.mpp = entry.at("mpp").get<double>();
  if (!std::isfinite(set.mpp) || set.mpp <= 0.0) {
    throw InputError(fmt::format("{}: sets[{}] has mpp {}; an mpp must be a positive number",
                                 source, index, set.mpp));
  }
  set.source = resolve(folder, entry.at("file").get<std::string>());
  const std::string extension = set.source.extension().string();
  if (extension == ".npy") {
    set.embeddings = read_npy_matrix(set.source);
  } else if (extension == ".csv") {
    read_csv_embeddings(set.source, set);
  } else {
    throw InputError(fmt::format("{}: sets[{}] file '{}' is neither .npy nor .csv", source, index,
                                 set.source.string()));
  }
  if (set.num_tiles() == 0 || set.embeddings.cols() == 0) {
    throw InputError(fmt::format("{}: empty embeddings ({} rows, {} columns); each mpp needs at "
                                 "least one row and one dimension",
                                 set.source.string(), set.num_tiles(), set.embeddings.cols()));
  }
  if (entry.contains("rows")) {
    if (!entry.at("rows").is_string()) {
      throw InputError(fmt::format("{}: sets[{}] 'rows' must be a file name", source, index));
    }
    if (has_metadata(set)) {
      throw InputError(fmt::format("{}: sets[{}] gives tile ids, labels or groups both in '{}' "
                                   "and in 'rows'; keep one",
                                   source, index, set.source.string()));
    }
    read_side_csv(resolve(folder, entry.at("rows").get<std::string>()), set);
  }
  screen_rows(set, options, warnings);
  check_unique_tile_ids(set);
  return set;
}

}  // namespace

const EmbeddingSet& EmbeddingBundle::at_mpp(double mpp) const {
  for (const EmbeddingSet& set : sets) {
    if (same_mpp(set.mpp, mpp)) {
      return set;
    }
  }
  std::string available;
  for (const EmbeddingSet& set : sets) {
    available += (available.empty() ? "" : ", ") + format_mpp(set.mpp);
  }
  throw InputError(fmt::format("no embeddings at {} mpp in '{}'; the bundle has {}", mpp,
                               manifest_path.string(), available.empty() ? "none" : available));
}

Eigen::Index EmbeddingBundle::embedding_dim() const {
  return sets.empty() ? 0 : sets.front().embeddings.cols();
}

std::vector<double> EmbeddingBundle::mpps() const {
  std::vector<double> values;
  for (const EmbeddingSet& set : sets) {
    values.push_back(set.mpp);
  }
  return values;
}

void validate_embedding_bundle(const EmbeddingBundle& bundle) {
  const std::string source = bundle.manifest_path.string();
  if (bundle.sets.empty()) {
    throw InputError(fmt::format("{}: the bundle lists no mpps; add at least one set", source));
  }
  for (std::size_t i = 0; i < bundle.sets.size(); ++i) {
    const EmbeddingSet& set = bundle.sets[i];
    if (!std::isfinite(set.mpp) || set.mpp <= 0.0) {
      throw InputError(fmt::format("{}: mpp {} is not a positive number", source, set.mpp));
    }
    if (set.num_tiles() == 0 || set.embeddings.cols() == 0) {
      throw InputError(fmt::format("{}: the set at {} mpp is empty", source, set.mpp));
    }
    if (set.embeddings.cols() != bundle.sets.front().embeddings.cols()) {
      throw InputError(fmt::format(
          "{}: embedding dimension {} at {} mpp ('{}') differs from {} at {} mpp ('{}'); all mpps "
          "need embeddings from the same model",
          source, set.embeddings.cols(), set.mpp, set.source.string(),
          bundle.sets.front().embeddings.cols(), bundle.sets.front().mpp,
          bundle.sets.front().source.string()));
    }
    for (const auto* column : {&set.tile_ids, &set.labels, &set.groups}) {
      if (!column->empty() && static_cast<Eigen::Index>(column->size()) != set.num_tiles()) {
        throw InputError(fmt::format("{}: the set at {} mpp has {} rows but {} ids, labels or "
                                     "groups",
                                     source, set.mpp, set.num_tiles(), column->size()));
      }
    }
    if (i > 0 && bundle.sets[i - 1].mpp >= set.mpp) {
      if (same_mpp(bundle.sets[i - 1].mpp, set.mpp)) {
        throw InputError(fmt::format("{}: mpp {} is listed twice ('{}' and '{}'); give each mpp "
                                     "once",
                                     source, set.mpp, bundle.sets[i - 1].source.string(),
                                     set.source.string()));
      }
      throw InputError(fmt::format("{}: sets are not sorted by mpp", source));
    }
  }
}

EmbeddingBundle read_embedding_bundle(const std::filesystem::path& manifest,
                                      const BundleReadOptions& options) {
  const std::string source = manifest.string();
  const std::string text = read_text_file(manifest);
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& error) {
    throw InputError(fmt::format("{}: not valid JSON ({})", source, error.what()));
  }
  check_json_schema(root, kEmbeddingsSchema, "embeddings", source);
  if (!root.contains("sets") || !root.at("sets").is_array() || root.at("sets").empty()) {
    throw InputError(fmt::format("{}: 'sets' must be a non-empty array of {{\"mpp\", \"file\"}} "
                                 "entries",
                                 source));
  }

  EmbeddingBundle bundle;
  bundle.manifest_path = manifest;
  bundle.manifest_hash = fnv1a_hex(text);
  const std::filesystem::path folder = manifest.parent_path();
  const nlohmann::json& entries = root.at("sets");
  for (std::size_t index = 0; index < entries.size(); ++index) {
    bundle.sets.push_back(
        read_entry(entries[index], index, folder, source, options, bundle.warnings));
  }
  std::stable_sort(bundle.sets.begin(), bundle.sets.end(),
                   [](const EmbeddingSet& a, const EmbeddingSet& b) { return a.mpp < b.mpp; });
  validate_embedding_bundle(bundle);
  for (const std::string& warning : bundle.warnings) {
    spdlog::warn("{}", warning);
  }
  spdlog::debug("read {} mpps of {}-dimensional embeddings from {}", bundle.sets.size(),
                bundle.embedding_dim(), source);
  return bundle;
}

void write_embedding_bundle(const std::filesystem::path& folder, const EmbeddingBundle& bundle,
                            NpyDtype dtype) {
  validate_embedding_bundle(bundle);
  std::error_code error;
  std::filesystem::create_directories(folder, error);
  if (error) {
    throw InputError(fmt::format("cannot create the bundle folder '{}' ({}); check the path",
                                 folder.string(), error.message()));
  }

  nlohmann::json entries = nlohmann::json::array();
  for (const EmbeddingSet& set : bundle.sets) {
    const std::string name = format_mpp(set.mpp);
    const std::string embeddings_file = "embeddings_mpp_" + name + ".npy";
    write_npy(folder / embeddings_file, set.embeddings, dtype);
    nlohmann::json entry = {{"mpp", set.mpp}, {"file", embeddings_file}};

    if (has_metadata(set)) {
      const std::string rows_file = "rows_mpp_" + name + ".csv";
      std::vector<std::pair<std::string, const std::vector<std::string>*>> columns;
      for (const auto& [column, values] :
           {std::pair{kTileIdColumn, &set.tile_ids}, std::pair{kLabelColumn, &set.labels},
            std::pair{kGroupColumn, &set.groups}}) {
        if (!values->empty()) {
          columns.emplace_back(column, values);
        }
      }
      std::string text;
      for (std::size_t c = 0; c < columns.size(); ++c) {
        text += (c > 0 ? "," : "") + columns[c].first;
      }
      text += "\n";
      for (Eigen::Index row = 0; row < set.num_tiles(); ++row) {
        for (std::size_t c = 0; c < columns.size(); ++c) {
          text += (c > 0 ? "," : "") + csv_escape((*columns[c].second)[static_cast<std::size_t>(row)]);
        }
        text += "\n";
      }
      write_file_atomically(folder / rows_file, text);
      entry["rows"] = rows_file;
    }
    entries.push_back(entry);
  }
  const nlohmann::json root = {{"schema", kEmbeddingsSchema}, {"sets", entries}};
  write_file_atomically(folder / "manifest.json", root.dump(2) + "\n");
}

std::vector<std::pair<Eigen::Index, Eigen::Index>> pair_tiles(const EmbeddingSet& first,
                                                              const EmbeddingSet& second) {
  for (const EmbeddingSet* set : {&first, &second}) {
    if (set->tile_ids.empty()) {
      throw InputError(fmt::format("'{}' ({} mpp) has no tile ids, so its tiles cannot be paired "
                                   "across mpps; add a tile_id column",
                                   set->source.string(), set->mpp));
    }
  }
  std::unordered_map<std::string, Eigen::Index> second_rows;
  second_rows.reserve(second.tile_ids.size());
  for (std::size_t row = 0; row < second.tile_ids.size(); ++row) {
    second_rows.emplace(second.tile_ids[row], static_cast<Eigen::Index>(row));
  }
  std::vector<std::pair<Eigen::Index, Eigen::Index>> pairs;
  for (std::size_t row = 0; row < first.tile_ids.size(); ++row) {
    const auto found = second_rows.find(first.tile_ids[row]);
    if (found != second_rows.end()) {
      pairs.emplace_back(static_cast<Eigen::Index>(row), found->second);
    }
  }
  return pairs;
}

}  // namespace mgap
