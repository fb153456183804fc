#pragma once

// Embedding bundles: embeddings of the same tissue at several mpps, described by a manifest.
//
// A bundle is a `manifest.json` with schema `mgap.embeddings/v1` (documented in docs/formats.md).
// Per mpp it lists a float32 or float64 .npy file or a CSV file of embeddings
// [num_tiles, embedding_dim], and optionally a CSV of per-row tile ids, labels and group ids.
// Rows are tiles and columns are embedding dimensions everywhere in mgap.

#include <Eigen/Core>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "mgap/npy.hpp"

namespace mgap {

inline constexpr const char* kEmbeddingsSchema = "mgap.embeddings/v1";

// Embeddings of tiles at one mpp. Rows are tiles, columns embedding dimensions.
struct EmbeddingSet {
  double mpp = 0.0;
  Eigen::MatrixXd embeddings;          // [num_tiles, embedding_dim]
  std::vector<std::string> tile_ids;   // empty when the manifest gives none; unique within a set
  std::vector<std::string> labels;     // class names; empty when absent
  std::vector<std::string> groups;     // slide or patient ids for grouped folds; empty when absent
  std::filesystem::path source;        // file the embeddings came from

  Eigen::Index num_tiles() const { return embeddings.rows(); }
};

struct BundleReadOptions {
  // Whether rows that contain NaN or infinity are dropped (with their ids, labels and groups)
  // instead of rejected. The bundle's warnings then report how many rows each file lost.
  bool drop_nonfinite = false;
};

struct EmbeddingBundle {
  std::filesystem::path manifest_path;
  std::string manifest_hash;           // fnv1a_hex of the manifest's bytes; empty when not read
  std::vector<EmbeddingSet> sets;      // sorted by mpp, unique mpps, equal embedding_dim
  std::vector<std::string> warnings;   // e.g. dropped non-finite rows, all-zero rows

  // The set at `mpp` (relative tolerance 1e-9). Throws InputError listing the bundle's mpps if
  // there is none.
  const EmbeddingSet& at_mpp(double mpp) const;
  // Embedding dimension shared by all sets; 0 for an empty bundle.
  Eigen::Index embedding_dim() const;
  std::vector<double> mpps() const;
};

// Reads a bundle. Relative file names resolve against the manifest's folder. Throws InputError
// naming the file, and the row where one is at fault. The rejected cases are an unknown schema
// major version, missing or unreadable files, unsupported .npy dtypes, empty files, and NaN or
// infinity in a row (unless `options.drop_nonfinite`). So are a side CSV whose row count differs
// from the embeddings', duplicate tile ids within one mpp, duplicate mpps, and embedding
// dimensions that differ between mpps.
// All-zero rows are kept and reported in `warnings`, because cosine measures are undefined on them.
EmbeddingBundle read_embedding_bundle(const std::filesystem::path& manifest,
                                      const BundleReadOptions& options = {});

// Writes `bundle` into `folder` (created if missing): one .npy of `dtype` per mpp named
// `embeddings_mpp_{mpp}.npy`, a side CSV `rows_mpp_{mpp}.csv` with columns tile_id,label,group
// (those present) when a set has any of them, and `manifest.json` last. Each file is written
// atomically, so a reader never sees a partial file. Throws InputError for an invalid bundle.
void write_embedding_bundle(const std::filesystem::path& folder, const EmbeddingBundle& bundle,
                            NpyDtype dtype = NpyDtype::kFloat32);

// Checks the invariants of a bundle built in memory (sorted unique positive mpps, equal nonzero
// dimensions, non-empty sets, metadata vectors empty or one entry per row). Throws InputError.
void validate_embedding_bundle(const EmbeddingBundle& bundle);

// Row pairs (row in `first`, row in `second`) of tiles present in both sets, matched by tile id,
// in the row order of `first`. Throws InputError if either set has no tile ids.
// Complexity O(n_first + n_second) expected (hash map).
std::vector<std::pair<Eigen::Index, Eigen::Index>> pair_tiles(const EmbeddingSet& first,
                                                              const EmbeddingSet& second);

}  // namespace mgap
