// The closed loop over rounds: baselines, then trained optimized densities.

#include "mgap/loop.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>

#include "loop_bound.hpp"
#include "loop_stages.hpp"
#include "mgap/atomic_file.hpp"
#include "mgap/benchmark_dataset.hpp"
#include "mgap/density.hpp"
#include "mgap/error.hpp"
#include "mgap/targets.hpp"
#include "mgap/version.hpp"

namespace mgap {

namespace {

namespace fs = std::filesystem;

constexpr const char* kOptionsFile = "loop_options.json";

// Rejects a folder that already contains files unless the loop resumes in it.
void check_output_folder(const LoopOptions& options) {
  const fs::path& folder = options.output_dir;
  if (fs::exists(folder) && !fs::is_directory(folder)) {
    throw InputError("--output-dir '" + folder.string() + "' is a file; name a folder");
  }
  if (fs::is_directory(folder) && !fs::is_empty(folder) && !options.resume) {
    throw InputError("--output-dir '" + folder.string() +
                     "' is not empty; pass --resume to continue the loop in it, or name a new "
                     "folder");
  }
}

// A resumed loop must use the options its runs were trained and evaluated with. Compares the
// options with those the loop stored when it started, and names the first one that differs.
void check_resumed_options(const LoopOptions& options, const nlohmann::json& current) {
  const fs::path path = options.output_dir / kOptionsFile;
  if (!fs::is_regular_file(path)) {
    if (!fs::is_empty(options.output_dir)) {
      throw InputError("--output-dir '" + options.output_dir.string() + "' has no " +
                       kOptionsFile + ", so it was not made by mgap-loop; name a new folder");
    }
    return;
  }
  const nlohmann::json stored = nlohmann::json::parse(read_text_file(path), nullptr, false);
  if (stored.is_discarded()) {
    throw InputError("'" + path.string() + "' is not valid JSON; name a new --output-dir");
  }
  for (const auto& [key, value] : current.items()) {
    if (key == "rounds") {
      continue;  // a resumed loop may run more (or fewer) rounds
    }
    if (!stored.contains(key) || stored.at(key) != value) {
      throw InputError(fmt::format(
          "--resume: option '{}' is {} but the loop in '{}' was started with {}; resume with the "
          "same options, or name a new --output-dir",
          key, value.dump(), options.output_dir.string(),
          stored.contains(key) ? stored.at(key).dump() : "nothing"));
    }
  }
}

// Checks, before anything is trained, what would otherwise fail after the first runs.
void check_before_training(const LoopOptions& options) {
  // The benchmark reader rejects a folder without mpp_{mpp} folders or labels.csv.
  const std::vector<double> available = read_tcga_ms(options.benchmark_root).mpps;
  for (const double mpp : options.evaluation.test_mpps) {
    const bool found = std::any_of(available.begin(), available.end(), [mpp](double other) {
      return std::abs(other - mpp) <= 1e-9 * mpp;
    });
    if (!found) {
      throw InputError(fmt::format("the benchmark has no tiles at test mpp {}; choose --test-mpps "
                                   "among its mpps {}",
                                   mpp, fmt::join(available, ", ")));
    }
  }
  for (const double mpp : available) {
    if (options.evaluation.test_mpps.empty() && !options.domain.contains(mpp)) {
      throw InputError(fmt::format("the benchmark's mpp {} lies outside the domain [{}, {}]; "
                                   "widen --domain or choose --test-mpps inside it",
                                   mpp, options.domain.lo_mpp, options.domain.hi_mpp));
    }
  }
  const auto& classifiers = options.evaluation.classifiers;
  if (std::find(classifiers.begin(), classifiers.end(), options.calibration_classifier) ==
      classifiers.end()) {
    throw InputError("--calibrate-with " + to_string(options.calibration_classifier) +
                     " names a classifier that --classifier leaves out; add it to --classifier");
  }
  parse_targets(options.targets, "", options.domain, options.coordinate);

  // TrainOptions::validate also requires an output folder, which each run sets later.
  TrainOptions train = options.train;
  train.output_dir = options.output_dir / "round_0";
  train.validate();
}

std::unique_ptr<TrainingTileSource> open_tiles(const LoopOptions& options) {
  if (options.slides.empty()) {
    return make_procedural_tile_source(options.seed);
  }
  return make_slide_tile_source(options.slides, options.slide_open);
}

std::vector<loop::RunPlan> baseline_plans(const LoopOptions& options) {
  const fs::path runs = loop::round_folder(0) / "runs";
  return {loop::RunPlan{0, "du", "du", make_discrete_uniform(options.domain, options.coordinate),
                        runs / "du"},
          loop::RunPlan{0, "cu", "cu",
                        make_continuous_uniform(options.domain, options.coordinate, options.bins),
                        runs / "cu"}};
}

// Whether two densities draw the same mpps: same coordinate, bins and atoms, and masses equal up
// to the optimizer's rounding.
bool same_distribution(const SamplingDensity& a, const SamplingDensity& b) {
  constexpr double kMassTolerance = 1e-12;
  if (a.coordinate() != b.coordinate() || a.edges_mpp().size() != b.edges_mpp().size() ||
      a.atoms().size() != b.atoms().size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.edges_mpp().size(); ++i) {
    if (std::abs(a.edges_mpp()[i] - b.edges_mpp()[i]) > 1e-12 * a.edges_mpp()[i]) {
      return false;
    }
  }
  for (std::size_t k = 0; k < a.bin_masses().size(); ++k) {
    if (std::abs(a.bin_masses()[k] - b.bin_masses()[k]) > kMassTolerance) {
      return false;
    }
  }
  for (std::size_t i = 0; i < a.atoms().size(); ++i) {
    if (a.atoms()[i].mpp != b.atoms()[i].mpp ||
        std::abs(a.atoms()[i].mass - b.atoms()[i].mass) > kMassTolerance) {
      return false;
    }
  }
  return true;
}

// The earlier run trained with the same distribution as `plan`, if any: training it again with
// the same seed would give the same encoder.
const LoopRun* earlier_equivalent_run(const loop::RunPlan& plan, const std::vector<LoopRun>& runs,
                                      const std::vector<SamplingDensity>& densities) {
  for (std::size_t i = 0; i < runs.size(); ++i) {
    if (same_distribution(plan.density, densities[i])) {
      return &runs[i];
    }
  }
  return nullptr;
}

loop::RunPlan optimized_plan(int round, const loop::RoundBound& previous) {
  return loop::RunPlan{round, "optimized", previous.round.next_density.generic_string(),
                       *previous.next_density, loop::round_folder(round) / "runs" / "optimized"};
}

nlohmann::json options_to_json(const LoopOptions& options) {
  std::vector<std::string> slides;
  for (const fs::path& slide : options.slides) {
    slides.push_back(slide.string());
  }
  const TrainOptions& train = options.train;
  std::vector<std::string> classifiers;
  for (const ClassifierKind kind : options.evaluation.classifiers) {
    classifiers.push_back(to_string(kind));
  }
  return {{"rounds", options.rounds},
          {"slides", slides.empty() ? nlohmann::json("procedural") : nlohmann::json(slides)},
          {"slide_mpp_override", options.slide_open.mpp.override_mpp.value_or(0.0)},
          {"benchmark", options.benchmark_root.string()},
          {"steps", train.steps},
          {"batch_size", train.batch_size},
          {"tile_size", train.tile_size},
          {"embedding_dim", train.encoder.embedding_dim()},
          {"encoder", {{"base_channels", train.encoder.base_channels},
                       {"head_hidden_dim", train.encoder.head_hidden_dim},
                       {"head_bottleneck_dim", train.encoder.head_bottleneck_dim},
                       {"num_prototypes", train.encoder.num_prototypes}}},
          {"learning_rate", train.learning_rate},
          {"min_learning_rate", train.min_learning_rate},
          {"weight_decay", train.weight_decay},
          {"warmup_steps", train.warmup_steps},
          {"teacher_momentum", train.teacher_momentum},
          {"teacher_temperature", train.teacher_temperature},
          {"student_temperature", train.student_temperature},
          {"center_momentum", train.center_momentum},
          {"test_mpps", options.evaluation.test_mpps},
          {"classifiers", classifiers},
          {"floor_per_mpp", options.calibration.floor_per_mpp},
          {"domain_mpp", {options.domain.lo_mpp, options.domain.hi_mpp}},
          {"coordinate", to_string(options.coordinate)},
          {"bins", options.bins},
          {"targets", options.targets},
          {"objective", to_string(options.objective.objective)},
          {"estimator", to_string(options.discrepancy.estimator)},
          {"calibration_classifier", to_string(options.calibration_classifier)},
          {"seed", options.seed}};
}

nlohmann::json report_to_json(const LoopOptions& options, const LoopReport& report,
                              double wall_seconds) {
  nlohmann::json runs = nlohmann::json::array();
  for (const LoopRun& run : report.runs) {
    runs.push_back({{"round", run.round},
                    {"name", run.name},
                    {"distribution", run.distribution},
                    {"folder", run.folder.generic_string()},
                    {"test_mpps", run.test_mpps},
                    {"balanced_accuracy", run.balanced_accuracy},
                    {"bound_prediction", run.bound_prediction},
                    {"prediction", run.prediction_is_forecast ? "forecast" : "fitted"},
                    {"reused", run.reused}});
  }
  nlohmann::json rounds = nlohmann::json::array();
  for (const LoopRound& round : report.rounds) {
    rounds.push_back({{"round", round.round},
                      {"calibration", round.calibration.to_json()},
                      {"discrepancy_power_law", {{"a", round.discrepancy_a},
                                                 {"b", round.discrepancy_b}}},
                      {"next_density", round.next_density.generic_string()},
                      {"next_objective", round.next_objective}});
  }
  return {{"schema", "mgap.loop/v1"},
          {"program", "mgap-loop"},
          {"program_version", kVersion},
          {"options", options_to_json(options)},
          {"runs", runs},
          {"rounds", rounds},
          {"history", report.history_path.filename().string()},
          {"wall_seconds", wall_seconds}};
}

}  // namespace

namespace loop {

std::string history_csv(const std::vector<LoopRun>& runs) {
  std::string text =
      "round,distribution,test_mpp,balanced_accuracy,bound_prediction,balanced_accuracy_std,"
      "prediction,run\n";
  for (const LoopRun& run : runs) {
    for (std::size_t t = 0; t < run.test_mpps.size(); ++t) {
      const std::string prediction =
          t < run.bound_prediction.size() ? fmt::format("{:.17g}", run.bound_prediction[t]) : "";
      text += fmt::format("{},{},{},{:.17g},{},{:.17g},{},{}\n", run.round, run.distribution,
                          run.test_mpps[t], run.balanced_accuracy[t], prediction,
                          run.balanced_accuracy_std[t],
                          run.prediction_is_forecast ? "forecast" : "fitted",
                          run.folder.generic_string());
    }
  }
  return text;
}

}  // namespace loop

LoopReport run_loop(const LoopOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  options.validate();
  check_output_folder(options);
  check_before_training(options);
  const loop::BenchmarkFolds folds = loop::read_benchmark_folds(options.benchmark_root);
  const std::unique_ptr<TrainingTileSource> tiles = open_tiles(options);
  const nlohmann::json run_options = options_to_json(options);
  if (options.resume && fs::is_directory(options.output_dir)) {
    check_resumed_options(options, run_options);
  }
  fs::create_directories(options.output_dir);
  write_file_atomically(options.output_dir / kOptionsFile, run_options.dump(2) + "\n");

  LoopReport report;
  report.history_path = options.output_dir / "history.csv";
  report.summary_path = options.output_dir / "loop_summary.json";
  std::vector<SamplingDensity> densities;  // of report.runs, same order
  loop::RoundBound previous;
  for (int round = 0; round <= options.rounds; ++round) {
    fs::create_directories(options.output_dir / loop::round_folder(round));
    const std::size_t first_run = report.runs.size();
    const std::vector<loop::RunPlan> plans =
        round == 0 ? baseline_plans(options) : std::vector{optimized_plan(round, previous)};
    for (const loop::RunPlan& plan : plans) {
      LoopRun run;
      if (const LoopRun* twin = earlier_equivalent_run(plan, report.runs, densities)) {
        spdlog::warn("round {}: the {} density equals the density of {}, so its results are "
                     "reused instead of training the same encoder again",
                     round, plan.name, twin->folder.generic_string());
        run = *twin;
        run.round = plan.round;
        run.name = plan.name;
        run.distribution = plan.distribution;
        run.reused = true;
      } else if (!(options.resume && loop::load_completed_run(options, plan, run))) {
        run = loop::execute_run(options, plan, *tiles, folds);
      }
      if (round > 0) {
        run.bound_prediction = previous.next_forecast;
        run.prediction_is_forecast = true;
      }
      report.runs.push_back(std::move(run));
      densities.push_back(plan.density);
    }

    const DiscrepancyModel discrepancy = loop::estimate_round_discrepancy(
        options, round, loop::run_manifest(options, report.runs.back()));
    previous = loop::calibrate_and_optimize(options, round, discrepancy, report.runs, densities);
    // Round 0 has no earlier fit, so its runs get the values of the fit they took part in.
    for (std::size_t i = first_run; i < report.runs.size(); ++i) {
      if (report.runs[i].bound_prediction.empty()) {
        report.runs[i].bound_prediction = previous.fitted[i];
      }
    }
    report.rounds.push_back(previous.round);
    write_file_atomically(report.history_path, loop::history_csv(report.runs));
  }

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  write_file_atomically(report.summary_path, report_to_json(options, report, seconds).dump(2) + "\n");
  spdlog::info("loop finished in {:.0f} s: {} runs, history in {}", seconds, report.runs.size(),
               report.history_path.string());
  return report;
}

}  // namespace mgap
