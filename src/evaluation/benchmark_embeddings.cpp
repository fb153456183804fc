#include "mgap/benchmark_embeddings.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <set>
#include <sstream>
#include <unordered_map>

#include "mgap/atomic_file.hpp"
#include "mgap/benchmark_names.hpp"
#include "mgap/error.hpp"
#include "mgap/fold_plan.hpp"
#include "mgap/hash.hpp"
#include "mgap/magnification.hpp"

namespace mgap {
namespace {

constexpr const char* kEmbeddingsPrefix = "embeddings_mpp_";
constexpr const char* kTilesPrefix = "tiles_mpp_";
// How many slide ids a warning lists before "...".
constexpr std::size_t kMaxListedSlides = 5;

// One mpp's pair of files, found by the mpp text in their names.
struct MppFiles {
  double mpp = 0.0;
  std::filesystem::path embeddings;
  std::filesystem::path tiles;
};

// One tile name line: the tile id and where it came from, for messages.
struct TileLine {
  std::string tile_id;
  std::size_t line = 0;
};

// Reads the mpp of "{prefix}{mpp}{extension}"; nullopt for other names.
std::optional<std::string> mpp_text_of(const std::string& name, const std::string& prefix,
                                       const std::string& extension) {
  if (name.size() <= prefix.size() + extension.size() || name.rfind(prefix, 0) != 0 ||
      name.compare(name.size() - extension.size(), extension.size(), extension) != 0) {
    return std::nullopt;
  }
  return name.substr(prefix.size(), name.size() - prefix.size() - extension.size());
}

double parse_mpp_text(const std::string& text, const std::filesystem::path& file) {
  double value = 0.0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || !(value > 0.0)) {
    throw InputError(fmt::format("'{}': '{}' is not a positive mpp; name the files "
                                 "embeddings_mpp_{{mpp}}.npy and tiles_mpp_{{mpp}}.txt, for "
                                 "example embeddings_mpp_0.5.npy",
                                 file.string(), text));
  }
  return value;
}

std::vector<MppFiles> find_mpp_files(const std::filesystem::path& folder) {
  std::map<std::string, std::filesystem::path> embeddings_of;
  std::map<std::string, std::filesystem::path> tiles_of;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    if (!entry.is_regular_file()) {
      continue;
    }
    const std::string name = entry.path().filename().string();
    if (const auto text = mpp_text_of(name, kEmbeddingsPrefix, ".npy")) {
      embeddings_of[*text] = entry.path();
    } else if (const auto tiles_text = mpp_text_of(name, kTilesPrefix, ".txt")) {
      tiles_of[*tiles_text] = entry.path();
    }
  }
  if (embeddings_of.empty()) {
    throw InputError(fmt::format("'{}' has no embeddings_mpp_{{mpp}}.npy file; write one .npy and "
                                 "one tiles_mpp_{{mpp}}.txt per mpp",
                                 folder.string()));
  }
  std::vector<MppFiles> files;
  for (const auto& [text, path] : embeddings_of) {
    const auto tiles = tiles_of.find(text);
    if (tiles == tiles_of.end()) {
      throw InputError(fmt::format("'{}' has no tile names: expected '{}' with one tile file name "
                                   "per row",
                                   path.string(), (folder / (kTilesPrefix + text + ".txt")).string()));
    }
    files.push_back({parse_mpp_text(text, path), path, tiles->second});
  }
  for (const auto& [text, path] : tiles_of) {
    if (embeddings_of.count(text) == 0) {
      throw InputError(fmt::format("'{}' has no embeddings: expected '{}' next to it",
                                   path.string(),
                                   (folder / (kEmbeddingsPrefix + text + ".npy")).string()));
    }
  }
  std::sort(files.begin(), files.end(),
            [](const MppFiles& a, const MppFiles& b) { return a.mpp < b.mpp; });
  return files;
}

// The file name of `line` without its image extension.
std::string tile_id_of(const std::string& line) {
  const std::filesystem::path path(line);
  std::string extension = path.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const std::set<std::string> image_extensions = {".png", ".jpg", ".jpeg", ".tif", ".tiff"};
  return image_extensions.count(extension) != 0 ? path.stem().string()
                                                : path.filename().string();
}

// Reads one tile name per line; trailing blank lines are ignored, other blank lines rejected.
std::vector<TileLine> read_tile_lines(const std::filesystem::path& path) {
  std::istringstream stream(read_text_file(path));
  std::vector<TileLine> tiles;
  std::size_t blank_line = 0;
  std::size_t number = 0;
  for (std::string line; std::getline(stream, line);) {
    ++number;
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (line.empty()) {
      blank_line = blank_line == 0 ? number : blank_line;
      continue;
    }
    if (blank_line != 0) {
      throw InputError(fmt::format("{}:{}: blank line between tile names; write one tile file "
                                   "name per row",
                                   path.string(), blank_line));
    }
    const std::string tile_id = tile_id_of(line);
    if (tile_id.empty()) {
      throw InputError(fmt::format("{}:{}: '{}' has no file name", path.string(), number, line));
    }
    tiles.push_back({tile_id, number});
  }
  return tiles;
}

// Label and group of every tile, from the layout's naming rule.
struct TileLabeler {
  BenchmarkLayout layout = BenchmarkLayout::kTcgaMs;
  std::map<std::string, std::string> label_of_slide;  // TCGA-MS
  std::filesystem::path labels_path;
  std::map<std::string, std::string> patient_of_wsi;  // BRACS-MS
  std::set<std::string> wsis_without_patient;

  // Returns (label, group) for `tile`, read from line `tile.line` of `source`.
  std::pair<std::string, std::string> label_and_group(const TileLine& tile,
                                                      const std::filesystem::path& source) {
    const std::string where = fmt::format("{}:{}", source.string(), tile.line);
    if (layout == BenchmarkLayout::kTcgaMs) {
      const auto name = parse_tcga_tile_name(tile.tile_id);
      if (!name) {
        throw InputError(fmt::format("{}: tile '{}' does not follow the TCGA-MS name "
                                     "{{slide}}_{{x}}_{{y}}.png",
                                     where, tile.tile_id));
      }
      const auto label = label_of_slide.find(name->slide_id);
      if (label == label_of_slide.end()) {
        throw InputError(fmt::format("{}: slide '{}' of tile '{}' is not in {}; add a row for it",
                                     where, name->slide_id, tile.tile_id, labels_path.string()));
      }
      if (label->second.empty()) {
        throw InputError(fmt::format("{}: slide '{}' has an empty label_id; fill it in",
                                     labels_path.string(), name->slide_id));
      }
      return {label->second, name->slide_id};
    }

    const auto name = parse_bracs_tile_name(tile.tile_id);
    if (!name) {
      throw InputError(fmt::format("{}: tile '{}' does not follow the BRACS-MS name "
                                   "BRACS_{{wsi}}_{{subtype}}_{{n}}.png",
                                   where, tile.tile_id));
    }
    if (name->label_id < 0) {
      throw InputError(fmt::format("{}: tile '{}' has the unknown subtype '{}'; use one of {}",
                                   where, tile.tile_id, name->subtype,
                                   fmt::join(bracs_subtypes(), ", ")));
    }
    const auto patient = patient_of_wsi.find(name->wsi_id);
    if (patient == patient_of_wsi.end()) {
      wsis_without_patient.insert(name->wsi_id);
      return {std::to_string(name->label_id), name->wsi_id};
    }
    return {std::to_string(name->label_id), patient->second};
  }
};

TileLabeler make_labeler(const BenchmarkEmbeddingsOptions& options) {
  TileLabeler labeler;
  labeler.layout = options.layout;
  if (options.layout == BenchmarkLayout::kTcgaMs) {
    labeler.labels_path = *options.labels_csv;
    labeler.label_of_slide = read_slide_fold_table(*options.labels_csv).label_of_slide;
  } else if (options.patients_csv) {
    labeler.patient_of_wsi = read_bracs_patient_table(*options.patients_csv);
  }
  return labeler;
}

// Row of every tile id at one mpp; throws for a tile listed twice.
std::unordered_map<std::string, Eigen::Index> rows_by_tile(const std::vector<TileLine>& tiles,
                                                           const std::filesystem::path& source) {
  std::unordered_map<std::string, Eigen::Index> rows;
  rows.reserve(tiles.size());
  for (std::size_t row = 0; row < tiles.size(); ++row) {
    const auto [entry, inserted] = rows.emplace(tiles[row].tile_id, static_cast<Eigen::Index>(row));
    if (!inserted) {
      throw InputError(fmt::format("{}:{}: tile '{}' is listed twice (first on line {}); list each "
                                   "tile once per mpp",
                                   source.string(), tiles[row].line, tiles[row].tile_id,
                                   tiles[static_cast<std::size_t>(entry->second)].line));
    }
  }
  return rows;
}

// Throws unless the tiles at `files` are exactly those of `reference` (both keyed by tile id).
void check_same_tiles(const std::unordered_map<std::string, Eigen::Index>& reference_rows,
                      const MppFiles& reference, const std::vector<TileLine>& tiles,
                      const std::unordered_map<std::string, Eigen::Index>& rows,
                      const MppFiles& files, const std::vector<std::string>& reference_ids) {
  for (const std::string& tile_id : reference_ids) {
    if (rows.count(tile_id) == 0) {
      throw InputError(fmt::format(
          "tile '{}' is in {} ({} mpp) but missing from {} ({} mpp); embed every tile at every "
          "mpp, or remove it from all tile lists",
          tile_id, reference.tiles.string(), format_mpp(reference.mpp), files.tiles.string(),
          format_mpp(files.mpp)));
    }
  }
  for (const TileLine& tile : tiles) {
    if (reference_rows.count(tile.tile_id) == 0) {
      throw InputError(fmt::format(
          "{}:{}: tile '{}' ({} mpp) is missing from {} ({} mpp); embed every tile at every mpp, "
          "or remove it from all tile lists",
          files.tiles.string(), tile.line, tile.tile_id, format_mpp(files.mpp),
          reference.tiles.string(), format_mpp(reference.mpp)));
    }
  }
}

bool is_float64(const std::filesystem::path& npy_path, const std::string& bytes) {
  return parse_npy_header(bytes, npy_path.string()).descr.substr(1) == "f8";
}

}  // namespace

std::string to_string(BenchmarkLayout layout) {
  switch (layout) {
    case BenchmarkLayout::kTcgaMs:
      return "tcga-ms";
    case BenchmarkLayout::kBracsMs:
      return "bracs-ms";
  }
  return "tcga-ms";
}

BenchmarkLayout benchmark_layout_from_string(const std::string& text) {
  for (const auto layout : {BenchmarkLayout::kTcgaMs, BenchmarkLayout::kBracsMs}) {
    if (text == to_string(layout)) {
      return layout;
    }
  }
  throw InputError(fmt::format("unknown benchmark layout '{}'; use tcga-ms or bracs-ms", text));
}

void BenchmarkEmbeddingsOptions::validate() const {
  if (!std::filesystem::is_directory(folder)) {
    throw InputError(fmt::format("embeddings folder '{}' does not exist or is not a folder",
                                 folder.string()));
  }
  if (layout == BenchmarkLayout::kTcgaMs && !labels_csv) {
    throw InputError("the tcga-ms layout needs the benchmark's labels.csv (slide_uuid,label_id,"
                     "fold_0,...) for the label of each slide; pass it with --labels");
  }
  if (layout == BenchmarkLayout::kTcgaMs && patients_csv) {
    throw InputError("a patient table is read only for the bracs-ms layout; TCGA-MS groups tiles "
                     "by slide");
  }
}

BenchmarkEmbeddings read_benchmark_embeddings(const BenchmarkEmbeddingsOptions& options) {
  options.validate();
  TileLabeler labeler = make_labeler(options);
  const std::vector<MppFiles> files = find_mpp_files(options.folder);

  BenchmarkEmbeddings result;
  result.bundle.manifest_path = options.folder;
  std::string hashed_bytes;
  std::vector<Eigen::MatrixXd> matrices;
  std::vector<std::vector<TileLine>> tiles_per_mpp;
  for (const MppFiles& mpp_files : files) {
    const std::string npy_bytes = read_text_file(mpp_files.embeddings);
    if (is_float64(mpp_files.embeddings, npy_bytes)) {
      result.storage_dtype = NpyDtype::kFloat64;
    }
    matrices.push_back(read_npy_matrix(mpp_files.embeddings));
    tiles_per_mpp.push_back(read_tile_lines(mpp_files.tiles));
    hashed_bytes += npy_bytes + read_text_file(mpp_files.tiles);
    const auto num_rows = static_cast<std::size_t>(matrices.back().rows());
    if (tiles_per_mpp.back().size() != num_rows) {
      throw InputError(fmt::format("{} lists {} tiles but {} has {} rows; write one tile file name "
                                   "per embedding row",
                                   mpp_files.tiles.string(), tiles_per_mpp.back().size(),
                                   mpp_files.embeddings.string(), num_rows));
    }
  }
  result.bundle.manifest_hash = fnv1a_hex(hashed_bytes);

  // Tiles sorted by id, from the smallest mpp; every other mpp must list the same tiles.
  const auto reference_rows = rows_by_tile(tiles_per_mpp.front(), files.front().tiles);
  std::vector<std::string> tile_ids;
  for (const TileLine& tile : tiles_per_mpp.front()) {
    tile_ids.push_back(tile.tile_id);
  }
  std::sort(tile_ids.begin(), tile_ids.end());

  std::vector<std::string> labels;
  std::vector<std::string> groups;
  for (const std::string& tile_id : tile_ids) {
    const TileLine& tile = tiles_per_mpp.front()[static_cast<std::size_t>(reference_rows.at(tile_id))];
    auto [label, group] = labeler.label_and_group(tile, files.front().tiles);
    labels.push_back(std::move(label));
    groups.push_back(std::move(group));
  }

  for (std::size_t m = 0; m < files.size(); ++m) {
    const auto rows = rows_by_tile(tiles_per_mpp[m], files[m].tiles);
    check_same_tiles(reference_rows, files.front(), tiles_per_mpp[m], rows, files[m], tile_ids);
    EmbeddingSet set;
    set.mpp = files[m].mpp;
    set.source = files[m].embeddings;
    set.embeddings.resize(static_cast<Eigen::Index>(tile_ids.size()), matrices[m].cols());
    for (std::size_t r = 0; r < tile_ids.size(); ++r) {
      set.embeddings.row(static_cast<Eigen::Index>(r)) = matrices[m].row(rows.at(tile_ids[r]));
    }
    set.tile_ids = tile_ids;
    set.labels = labels;
    set.groups = groups;
    result.bundle.sets.push_back(std::move(set));
  }

  if (options.layout == BenchmarkLayout::kBracsMs && !labeler.wsis_without_patient.empty()) {
    const auto& missing = labeler.wsis_without_patient;
    std::vector<std::string> listed(missing.begin(),
                                    std::next(missing.begin(),
                                              static_cast<long>(std::min(missing.size(),
                                                                         kMaxListedSlides))));
    result.warnings.push_back(fmt::format(
        "{} of the BRACS slides have no patient{}, so their tiles are grouped by slide ({}{}); "
        "pass the slide-to-patient table with --patients to keep each patient in one fold",
        missing.size(),
        options.patients_csv ? " in " + options.patients_csv->string() : std::string(),
        fmt::join(listed, ", "), missing.size() > listed.size() ? ", ..." : ""));
  }
  result.bundle.warnings = result.warnings;
  validate_embedding_bundle(result.bundle);
  spdlog::debug("read {} tiles at {} mpps from {}", tile_ids.size(), files.size(),
                options.folder.string());
  return result;
}

}  // namespace mgap
