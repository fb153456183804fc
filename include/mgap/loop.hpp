#pragma once

// The closed loop: train with a sampling density, embed and evaluate every test mpp, estimate the
// discrepancy between mpps, calibrate the bound to the measured errors, optimize the next density,
// and train with it.
//
// Round 0 trains two baselines, discrete uniform (DU) and continuous uniform (CU). Round r >= 1
// trains the density optimized at the end of round r - 1. After the runs of a round:
// 1. the discrepancy model is estimated from the embeddings of the round's last run (CU in
//    round 0, the optimized run later) and fitted with a power law;
// 2. the bound is calibrated to the balanced error of every run so far (calibration.hpp), with
//    that discrepancy model and, by default, one floor per test mpp;
// 3. the calibrated bound without its floors, which do not depend on the density, is minimized
//    over densities (optimizer.hpp). The result is the density of the next round.
// The last round still calibrates and optimizes, so the loop ends with a recommended density.
//
// Every run is evaluated with the same folds (those of the benchmark's labels.csv), so the runs'
// balanced accuracies are paired comparisons.
//
// Output folder layout (docs/loop.md lists every file):
//   loop_options.json                    the options, checked again by a resumed loop
//   history.csv                          one row per run and test mpp
//   loop_summary.json                    options, per-round calibration and optimization
//   round_R/runs/NAME/train/             mgap-train outputs (checkpoint.pt, encoder.pt, ...)
//   round_R/runs/NAME/embeddings/        embeddings bundle (manifest.json, one .npy per mpp)
//   round_R/runs/NAME/evaluation/        mgap-eval outputs
//   round_R/runs/NAME/run.json           density, hashes and balanced accuracy per test mpp
//   round_R/discrepancy.json, .csv       discrepancy of the round's last run
//   round_R/calibration_runs.csv         calibration input (run,density,test_mpp,balanced_error)
//   round_R/calibration.json             calibrated parameters, R^2, leave-one-run-out error
//   round_R/curves.csv                   calibrated bound curves of the next density, DU and CU
//   round_R/next_density.json            the density round R + 1 trains with
//
// LibTorch stays out of this header.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "mgap/calibration.hpp"
#include "mgap/discrepancy_matrix.hpp"
#include "mgap/evaluation_protocol.hpp"
#include "mgap/magnification.hpp"
#include "mgap/objective.hpp"
#include "mgap/optimizer.hpp"
#include "mgap/slide.hpp"
#include "mgap/train.hpp"

namespace mgap {

struct LoopOptions {
  int rounds = 1;  // optimized rounds after the baseline round 0
  // Training tiles: slide or image files; empty uses the procedural tissue of mgap-train.
  std::vector<std::filesystem::path> slides;
  SlideOpenOptions slide_open;
  std::filesystem::path benchmark_root;  // TCGA-MS layout with labels.csv (its folds are used)
  std::filesystem::path output_dir;
  bool resume = false;  // reuse the runs already completed in output_dir

  // Training of every run; output_dir, density_name, density_hash and resume are set per run.
  TrainOptions train;
  int embed_batch_size = 64;

  // Evaluation of every run; the classifier whose balanced error calibrates the bound.
  EvaluationOptions evaluation;
  ClassifierKind calibration_classifier = ClassifierKind::kLogisticRegression;

  // Discrepancy estimation from the round's last run.
  DiscrepancyOptions discrepancy;

  // Bound, calibration and optimization.
  MppDomain domain{0.25, 2.0};
  Coordinate coordinate = Coordinate::kLog2Mpp;
  int bins = 64;
  std::string targets = "test";  // see parse_targets: "test", "grid:N" or a list of mpps
  ObjectiveSpec objective;       // default: bound criterion, minmax objective
  CalibrationOptions calibration;
  OptimizerOptions optimizer;

  std::uint64_t seed = 0;

  LoopOptions();
  // Throws InputError naming the first invalid field and its fix.
  void validate() const;
};

// One trained, embedded and evaluated run.
struct LoopRun {
  int round = 0;
  std::string name;          // "du", "cu" or "optimized"
  std::string distribution;  // du, cu, or the density JSON path relative to output_dir
  std::string density_hash;
  std::vector<double> test_mpps;
  std::vector<double> balanced_accuracy;      // [test_mpps], calibration classifier, fold mean
  std::vector<double> balanced_accuracy_std;  // [test_mpps], population std over folds
  std::vector<double> bound_prediction;       // [test_mpps], see LoopRound
  bool prediction_is_forecast = false;        // fitted before this run was trained
  std::filesystem::path folder;               // relative to output_dir
  bool reused = false;                        // loaded from an earlier, interrupted loop
};

// Calibration and optimization at the end of one round.
struct LoopRound {
  int round = 0;
  CalibrationReport calibration;
  double discrepancy_a = 0.0;  // power-law amplitude of the round's discrepancy model
  double discrepancy_b = 0.0;  // power-law exponent
  double next_objective = 0.0;  // worst (minmax) or mean (maxavg) calibrated bound of next density
  std::filesystem::path next_density;  // relative to output_dir
};

struct LoopReport {
  std::vector<LoopRun> runs;  // in training order
  std::vector<LoopRound> rounds;
  std::filesystem::path history_path;
  std::filesystem::path summary_path;
};

// Runs the loop and writes the files listed above. Throws InputError for invalid options, a
// benchmark without labels.csv, or an output folder holding files of another loop (without
// `resume`).
LoopReport run_loop(const LoopOptions& options);

}  // namespace mgap
