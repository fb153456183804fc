#pragma once

// Embeddings of a TCGA-MS or BRACS-MS benchmark that an external encoder wrote as a folder keyed
// by tile file name, turned into an embedding bundle with labels and groups.
//
// Folder form (every mpp has both files; documented in docs/formats.md):
//   DIR/embeddings_mpp_{mpp}.npy  float32 or float64 [num_tiles, embedding_dim]
//   DIR/tiles_mpp_{mpp}.txt       one tile file name per line, in the row order of the .npy
// A line may hold a bare file name (`TCGA-X_512_1024.png`) or a path (`mpp_0.5/TCGA-X_...png`).
// The file name without an image extension (.png, .jpg, .jpeg, .tif, .tiff) is the tile id, the
// same at every mpp.
//
// Per layout, each tile id is parsed with benchmark_names.hpp:
// - TCGA-MS `{slide}_{x}_{y}`: the label is the slide's label_id in labels.csv, the group is the
//   slide.
// - BRACS-MS `BRACS_{wsi}_{subtype}_{n}`: the label is the subtype's label id (N = 0 ... IC = 6,
//   written as a decimal string), the group is the patient from the slide-to-patient table, or
//   the WSI when the table lacks it (with a warning).
// Rows are paired across mpps by tile id and reordered so that row r is the same tile at every
// mpp (tiles sorted by id). Cost: O(M n log n) for M mpps of n tiles, plus reading the files.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "mgap/embedding_bundle.hpp"
#include "mgap/npy.hpp"

namespace mgap {

enum class BenchmarkLayout {
  kTcgaMs,   // "tcga-ms"
  kBracsMs,  // "bracs-ms"
};
std::string to_string(BenchmarkLayout layout);
// Accepts "tcga-ms" and "bracs-ms"; throws InputError naming the value otherwise.
BenchmarkLayout benchmark_layout_from_string(const std::string& text);

struct BenchmarkEmbeddingsOptions {
  std::filesystem::path folder;
  BenchmarkLayout layout = BenchmarkLayout::kTcgaMs;
  // TCGA-MS labels.csv (slide_uuid,label_id,fold_0,...); required for TCGA-MS, unused for BRACS-MS.
  std::optional<std::filesystem::path> labels_csv;
  // BRACS-MS slide-to-patient table (wsi,patient); optional, unused for TCGA-MS.
  std::optional<std::filesystem::path> patients_csv;

  // Throws InputError for a missing folder, TCGA-MS without labels_csv, or a table given for the
  // other layout.
  void validate() const;
};

struct BenchmarkEmbeddings {
  EmbeddingBundle bundle;  // tile_ids, labels and groups set; same tile order at every mpp
  // float64 when any input file is float64, so that a written bundle keeps the precision.
  NpyDtype storage_dtype = NpyDtype::kFloat32;
  std::vector<std::string> warnings;  // also copied into bundle.warnings
};

// Reads the folder. `bundle.manifest_path` is the folder and `bundle.manifest_hash` the FNV-1a hash
// of every input file's bytes, in mpp order (embeddings, then tile names). Throws InputError
// naming the file and the value for: a folder without embeddings_mpp_*.npy, an .npy without its
// tiles file or the reverse, a tiles file whose line count differs from the .npy row count, a
// tile name that does not follow the layout, an unknown BRACS subtype, a slide absent from
// labels.csv, a tile listed twice at one mpp, and a tile present at one mpp and missing at
// another.
BenchmarkEmbeddings read_benchmark_embeddings(const BenchmarkEmbeddingsOptions& options);

}  // namespace mgap
