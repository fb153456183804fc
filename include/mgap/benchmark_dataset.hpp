#pragma once

// Multi-magnification benchmarks: building one from labelled regions, and reading the TCGA-MS
// and BRACS-MS layouts.
//
// TCGA-MS layout: `ROOT/mpp_{mpp}/{slide}_{x}_{y}.png`, one folder per mpp with the same tiles
// (same slide, x, y) in each, and `ROOT/labels.csv` with columns `slide_uuid,label_id,fold_0,...`
// whose fold values are `train`, `dev` or `test`.
// BRACS-MS layout: `ROOT/BRACS_{mpp}mpp/BRACS_{wsi}_{subtype}_{n}.png` with subtypes N, PB, UDH,
// FEA, ADH, DCIS, IC (label ids 0 to 6 in that order), grouped by slide or by patient.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mgap/benchmark_names.hpp"

namespace mgap {

enum class SplitRole {
  kTrain,
  kDev,
  kTest,
};
std::string to_string(SplitRole role);
// Accepts "train", "dev" and "test"; throws InputError naming the value otherwise.
SplitRole split_role_from_string(const std::string& text);

// One row of labels.csv.
struct SlideLabel {
  std::string slide_id;
  int label_id = 0;
  std::vector<SplitRole> folds;  // [num_folds]
};

// Reads labels.csv. Throws InputError for a missing column, an unknown role, a duplicate slide or
// a non-integer label.
std::vector<SlideLabel> read_labels_csv(const std::filesystem::path& path);
// Writes labels.csv atomically; every row must have the same number of folds.
void write_labels_csv(const std::filesystem::path& path, const std::vector<SlideLabel>& labels);

// Grouped, stratified folds. Groups (slides or patients) are split by label. Within each label
// the groups are shuffled with `seed` and dealt round-robin to the folds. Each label starts where
// the previous one stopped, so fold sizes differ by at most one group. Fold k tests fold k,
// validates on fold (k + 1) mod num_folds and trains on the rest.
// Returns [num_groups][num_folds] roles in the order of `group_labels`. Throws InputError for
// fewer than 3 folds or fewer groups than folds.
std::vector<std::vector<SplitRole>> assign_grouped_folds(const std::vector<int>& group_labels,
                                                         int num_folds, std::uint64_t seed);

struct BenchmarkTile {
  std::filesystem::path path;
  double mpp = 0.0;
  std::string tile_id;   // the same at every mpp: "{slide}_{x}_{y}" or the BRACS file stem
  std::string slide_id;  // TCGA-MS slide uuid or BRACS wsi id
  std::string group;     // the unit kept within one fold (slide, or patient when known)
  int label_id = 0;
};

struct BenchmarkDataset {
  std::vector<double> mpps;  // ascending
  std::vector<BenchmarkTile> tiles;  // sorted by mpp, then tile_id
  std::vector<std::string> label_names;  // BRACS subtypes; empty for TCGA-MS
  // Roles per group (slide), from labels.csv; empty for BRACS-MS.
  std::map<std::string, std::vector<SplitRole>> folds;
  int num_skipped_files = 0;  // files whose name does not match the layout or slide is unlabelled
};

// Reads a TCGA-MS benchmark. Throws InputError if ROOT has no mpp_* folder or no labels.csv.
BenchmarkDataset read_tcga_ms(const std::filesystem::path& root);
// Reads a BRACS-MS benchmark. `patient_csv` (optional) maps slides to patients with columns
// `wsi,patient` so that folds group by patient.
BenchmarkDataset read_bracs_ms(const std::filesystem::path& root,
                               const std::optional<std::filesystem::path>& patient_csv = {});

struct BuildBenchmarkOptions {
  std::filesystem::path input_dir;   // INPUT/{class}/{image}; classes sorted by name -> label id
  std::filesystem::path output_dir;  // must not exist, or be empty
  std::optional<double> input_mpp;   // pixel size of the inputs when their metadata has none
  std::vector<double> target_mpps = {0.25, 0.375, 0.5, 0.75, 1.0, 1.5, 2.0};
  int tile_size_px = 224;
  int num_folds = 5;
  std::uint64_t seed = 0;

  void validate() const;
};

struct BuildBenchmarkReport {
  std::vector<std::string> class_names;  // label id -> class folder name
  int num_regions = 0;           // images found
  int num_written = 0;           // regions written at every target mpp
  int num_skipped_too_small = 0;  // smaller than the tile at the largest target mpp
  int num_skipped_too_coarse = 0;  // pixels coarser than the smallest target mpp
  int num_slides = 0;
};

// Builds a TCGA-MS benchmark: for each region and target mpp, the centre crop of
// tile_size_px * mpp microns is downsampled to tile_size_px in steps of at most 2x. Regions that
// are too small or too coarse are skipped and counted. Writes into a staging folder that is
// renamed to output_dir when complete. A region's slide is the `{slide}` part of a
// `{slide}_{x}_{y}` file name, otherwise the whole file stem.
BuildBenchmarkReport build_benchmark(const BuildBenchmarkOptions& options);

}  // namespace mgap
