#pragma once

// The stages of one loop round, used by loop.cpp. Private to the loop module.

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "mgap/density.hpp"
#include "mgap/discrepancy_model.hpp"
#include "mgap/embedding_bundle.hpp"
#include "mgap/fold_plan.hpp"
#include "mgap/loop.hpp"

namespace mgap::loop {

// A run to train: its name, the density and how the history names it.
struct RunPlan {
  int round = 0;
  std::string name;          // "du", "cu" or "optimized"
  std::string distribution;  // du, cu, or the density JSON path relative to output_dir
  SamplingDensity density;
  std::filesystem::path folder;  // relative to output_dir
};

// The benchmark's folds and slide labels, shared by every run's evaluation.
struct BenchmarkFolds {
  SlideFoldTable table;
  std::filesystem::path labels_path;
  std::string labels_hash;
};
BenchmarkFolds read_benchmark_folds(const std::filesystem::path& benchmark_root);

// fnv1a_hex of the density's JSON without provenance: equal distributions get equal hashes.
std::string density_hash(const SamplingDensity& density);

// Trains, embeds and evaluates one run and writes its run.json last. Returns the run with its
// balanced accuracy per test mpp.
LoopRun execute_run(const LoopOptions& options, const RunPlan& plan,
                    const TrainingTileSource& tiles, const BenchmarkFolds& folds);

// Reads run.json of a completed run; returns false when it is missing. Throws InputError when it
// exists but was made with another density.
bool load_completed_run(const LoopOptions& options, const RunPlan& plan, LoopRun& run);

// Path of a run's embeddings manifest.
std::filesystem::path run_manifest(const LoopOptions& options, const LoopRun& run);

// Discrepancy of the embeddings in `manifest`, written to round_R/discrepancy.{json,csv}, and
// its power-law model (normalized one octave apart).
DiscrepancyModel estimate_round_discrepancy(const LoopOptions& options, int round,
                                            const std::filesystem::path& manifest);

// The history CSV: one row per run and test mpp.
std::string history_csv(const std::vector<LoopRun>& runs);

// Folder of round `round`, relative to output_dir.
std::filesystem::path round_folder(int round);

}  // namespace mgap::loop
