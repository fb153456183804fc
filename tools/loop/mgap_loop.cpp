// mgap-loop: the closed loop of magnification sampling. Trains DU and CU, then, round after round,
// calibrates the bound to the measured balanced errors, optimizes the next density and trains it.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <iostream>
#include <string>
#include <vector>

#include "../train/slide_list.hpp"
#include "mgap/cli.hpp"
#include "mgap/error.hpp"
#include "mgap/loop.hpp"

namespace {

struct ProgramOptions {
  std::string slides = "procedural";
  double slide_mpp = 0.0;
  std::string benchmark;
  std::string output_dir;
  std::string domain = "0.25,2.0";
  std::string coordinate = "log2_mpp";
  std::string objective = "minmax";
  std::string test_mpps;
  std::string classifiers = "logreg,knn";
  std::string calibrate_with = "logreg";
  std::string estimator = "mmd";
  bool no_progress = false;
  bool shared_floor = false;
};

// --slides: "procedural", or a comma-separated list whose items are slide files or folders.
std::vector<std::filesystem::path> expand_slides(const std::string& text) {
  if (text == "procedural") {
    return {};
  }
  std::vector<std::filesystem::path> paths;
  for (const std::string& item : mgap::split_list(text)) {
    for (const auto& path : mgap::tools::expand_slide_list(item)) {
      paths.push_back(path);
    }
  }
  if (paths.empty()) {
    throw mgap::InputError("empty --slides; give folders or slide files, or 'procedural'");
  }
  return paths;
}

mgap::LoopOptions loop_options(const ProgramOptions& program, mgap::LoopOptions options,
                               const mgap::cli::CommonOptions& common) {
  options.slides = expand_slides(program.slides);
  if (!(program.slide_mpp >= 0.0)) {
    throw mgap::InputError(fmt::format("invalid --slide-mpp {}; give the pixel size in mpp (> 0), "
                                       "or 0 to read it from the slides' metadata",
                                       program.slide_mpp));
  }
  if (program.slide_mpp > 0.0) {
    options.slide_open.mpp.override_mpp = program.slide_mpp;
  }
  options.slide_open.validate();
  options.benchmark_root = program.benchmark;
  options.output_dir = program.output_dir;
  const std::vector<double> bounds = mgap::parse_double_list(program.domain, "--domain");
  if (bounds.size() != 2) {
    throw mgap::InputError("invalid --domain '" + program.domain + "'; give LO,HI in mpp");
  }
  options.domain = {bounds[0], bounds[1]};
  options.coordinate = mgap::coordinate_from_string(program.coordinate);
  options.objective.objective = mgap::objective_from_string(program.objective);
  if (!program.test_mpps.empty()) {
    options.evaluation.test_mpps = mgap::parse_double_list(program.test_mpps, "--test-mpps");
  }
  options.evaluation.classifiers.clear();
  for (const std::string& name : mgap::split_list(program.classifiers)) {
    options.evaluation.classifiers.push_back(mgap::classifier_kind_from_string(name));
  }
  options.calibration_classifier = mgap::classifier_kind_from_string(program.calibrate_with);
  options.calibration.floor_per_mpp = !program.shared_floor;
  options.discrepancy.estimator = mgap::discrepancy_estimator_from_string(program.estimator);
  options.train.progress_bar = !program.no_progress;
  options.seed = common.seed;
  options.evaluation.folds.seed = common.seed;
  options.validate();
  return options;
}

void print_report(const mgap::LoopReport& report) {
  // Balanced accuracy measured, and predicted by the calibrated bound (1 - bound).
  std::cout << "balanced accuracy, measured and predicted by the calibrated bound (1 - bound):\n";
  std::cout << fmt::format("{:<6} {:<34} {:>8} {:>9} {:>9} {}\n", "round", "distribution",
                           "test_mpp", "measured", "predicted", "prediction");
  for (const mgap::LoopRun& run : report.runs) {
    for (std::size_t t = 0; t < run.test_mpps.size(); ++t) {
      std::cout << fmt::format("{:<6} {:<34} {:>8.4g} {:>9.4f} {:>9.4f} {}\n", run.round,
                               run.distribution, run.test_mpps[t], run.balanced_accuracy[t],
                               1.0 - run.bound_prediction[t],
                               run.prediction_is_forecast ? "forecast" : "fitted");
    }
  }
  for (const mgap::LoopRound& round : report.rounds) {
    std::cout << fmt::format(
        "round {}: calibration R^2 {:.3f}, RMS residual {:.4f}, leave-one-run-out RMS {:.4f}; "
        "next density {}\n",
        round.round, round.calibration.r_squared, round.calibration.rms_residual,
        round.calibration.leave_one_out_rms, round.next_density.generic_string());
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "The closed loop of magnification sampling. Round 0 trains with discrete uniform (DU) and "
      "continuous uniform (CU) sampling; every round then embeds and evaluates the benchmark at "
      "each test mpp, estimates the discrepancy between mpps, calibrates the bound to the "
      "measured balanced errors, optimizes the next density and (in the next round) trains with "
      "it. Writes history.csv, loop_summary.json and every run's files into --output-dir."};
  app.name("mgap-loop");
  ProgramOptions program;
  mgap::LoopOptions options;
  mgap::cli::CommonOptions common;

  app.add_option("--rounds", options.rounds, "Optimized rounds after the DU/CU round 0")
      ->capture_default_str();
  app.add_option("--slides", program.slides,
                 "Training tissue: 'procedural', or a comma-separated list of slide or image "
                 "files and folders of them")
      ->capture_default_str();
  app.add_option("--slide-mpp", program.slide_mpp,
                 "Pixel size in mpp of slides whose metadata has none (0: require metadata)")
      ->capture_default_str();
  app.add_option("--benchmark", program.benchmark,
                 "TCGA-MS benchmark folder (mpp_{mpp}/ tiles and labels.csv with the folds)")
      ->required();
  app.add_option("--output-dir", program.output_dir, "Folder for the loop's files")->required();
  app.add_flag("--resume", options.resume,
               "Continue a loop in --output-dir, reusing its completed runs");

  app.add_option("--steps", options.train.steps, "Training steps of every run")
      ->capture_default_str()
      ->group("Training");
  app.add_option("--batch-size", options.train.batch_size, "Tiles per step (two views each)")
      ->capture_default_str()
      ->group("Training");
  app.add_option("--tile-size", options.train.tile_size, "Training tile side in pixels")
      ->capture_default_str()
      ->group("Training");
  app.add_option("--width", options.train.encoder.base_channels,
                 "Channels of the first encoder stage; the embedding has 8x as many")
      ->capture_default_str()
      ->group("Training");
  app.add_option("--lr", options.train.learning_rate, "Peak AdamW learning rate")
      ->capture_default_str()
      ->group("Training");
  app.add_option("--warmup-steps", options.train.warmup_steps, "Steps of learning-rate warm-up")
      ->capture_default_str()
      ->group("Training");
  app.add_option("--teacher-momentum", options.train.teacher_momentum,
                 "Initial EMA momentum of the teacher, which embeds (rises to 1)")
      ->capture_default_str()
      ->group("Training");
  app.add_option("--threads", options.train.threads,
                 "LibTorch intra-op threads (0: number of cores)")
      ->capture_default_str()
      ->group("Training");
  app.add_option("--workers", options.train.workers, "Data-loading threads")
      ->capture_default_str()
      ->group("Training");
  app.add_option("--device", options.train.device.name, "Device: cpu or cuda:N")
      ->capture_default_str()
      ->group("Training");

  app.add_option("--test-mpps", program.test_mpps,
                 "Test mpps to embed and evaluate (default: every mpp of the benchmark)")
      ->group("Evaluation");
  app.add_option("--classifier", program.classifiers, "Classifiers: logreg, knn or both")
      ->capture_default_str()
      ->group("Evaluation");
  app.add_option("--calibrate-with", program.calibrate_with,
                 "Classifier whose balanced error calibrates the bound: logreg or knn")
      ->capture_default_str()
      ->group("Evaluation");
  app.add_option("--estimator", program.estimator,
                 "Discrepancy estimator: mmd, mean-distance, frechet, paired-cosine, proxy-a or "
                 "transfer-gap")
      ->capture_default_str()
      ->group("Bound");
  app.add_option("--domain", program.domain, "Sampling domain LO,HI in mpp")
      ->capture_default_str()
      ->group("Bound");
  app.add_option("--coordinate", program.coordinate, "Coordinate of the bins: log2_mpp or mpp")
      ->capture_default_str()
      ->group("Bound");
  app.add_option("--bins", options.bins, "Bins of the optimized density")
      ->capture_default_str()
      ->group("Bound");
  app.add_option("--targets", options.targets,
                 "Target mpps of the bound: test, grid:N or a list of mpps")
      ->capture_default_str()
      ->group("Bound");
  app.add_flag("--shared-floor", program.shared_floor,
               "Fit one floor lambda for every test mpp instead of one per test mpp")
      ->group("Bound");
  app.add_option("--objective", program.objective,
                 "minmax (worst target) or maxavg (mean over targets) of the calibrated bound")
      ->capture_default_str()
      ->group("Bound");
  app.add_flag("--no-progress", program.no_progress, "Draw no progress bars even on a terminal");
  mgap::cli::add_common_options(app, common);

  return mgap::cli::run_program(app, argc, argv, common, [&]() {
    const mgap::LoopReport report = mgap::run_loop(loop_options(program, options, common));
    print_report(report);
    std::cout << "history: " << report.history_path.string()
              << "\nsummary: " << report.summary_path.string() << "\n";
    return 0;
  });
}
