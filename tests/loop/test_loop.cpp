// The closed loop end to end on a tiny synthetic cohort: real slides read with OpenSlide, real
// LibTorch training, real NLopt calibration and optimization.

#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "../core/program_runner.hpp"
#include "mgap/atomic_file.hpp"
#include "mgap/benchmark_dataset.hpp"
#include "mgap/csv_table.hpp"
#include "mgap/embedding_bundle.hpp"
#include "mgap/error.hpp"
#include "mgap/loop.hpp"
#include "mgap/synthetic_tissue.hpp"

namespace fs = std::filesystem;

namespace {

// The results CSV writes balanced accuracy with at least 12 significant digits.
constexpr double kCsvDigits = 1e-12;
// The loop and mgap-optimize compute the same calibrated bound from the same numbers; only the
// order of floating-point sums may differ.
constexpr double kSameBound = 1e-9;

struct Fixture {
  fs::path cohort;
  fs::path benchmark;
};

// Twelve 1024 px slides (three per class) and a benchmark of 32 px tiles at the seven test mpps
// with three folds, so that every fold's training part contains every class.
const Fixture& fixture() {
  static const Fixture built = [] {
    Fixture result;
    const fs::path root = mgap::test::fresh_folder("loop_fixture");
    result.cohort = root / "cohort";
    result.benchmark = root / "benchmark";
    mgap::SyntheticCohortOptions synth;
    synth.output_dir = result.cohort;
    synth.num_slides = 12;
    synth.slide_size_px = 1024;
    synth.region_size_px = 256;
    synth.seed = 3;
    mgap::write_synthetic_cohort(synth);
    mgap::BuildBenchmarkOptions build;
    build.input_dir = result.cohort / "regions";
    build.output_dir = result.benchmark;
    build.tile_size_px = 32;
    build.num_folds = 3;
    build.seed = 3;
    mgap::build_benchmark(build);
    return result;
  }();
  return built;
}

mgap::LoopOptions tiny_loop(const fs::path& output) {
  mgap::LoopOptions options;
  options.rounds = 1;
  for (const auto& entry : fs::directory_iterator(fixture().cohort / "slides")) {
    options.slides.push_back(entry.path());
  }
  std::sort(options.slides.begin(), options.slides.end());
  options.benchmark_root = fixture().benchmark;
  options.output_dir = output;

  options.train.steps = 3;
  options.train.warmup_steps = 1;
  options.train.batch_size = 4;
  options.train.tile_size = 16;
  options.train.encoder.base_channels = 2;
  options.train.encoder.num_prototypes = 8;
  options.train.encoder.head_hidden_dim = 16;
  options.train.heldout_tiles = 8;
  options.train.log_every = 1;
  options.train.threads = 1;
  options.train.workers = 1;
  options.train.progress_bar = false;

  options.embed_batch_size = 32;
  options.evaluation.inverse_regularization_grid = {0.1, 1.0};
  options.evaluation.num_neighbors_grid = {1, 3};
  options.evaluation.num_threads = 1;

  options.optimizer.num_starts = 2;
  options.optimizer.num_threads = 1;
  // mgap-optimize calibrates with one shared floor, and a test compares the two.
  options.calibration.floor_per_mpp = false;
  options.seed = 7;
  return options;
}

std::vector<std::string> lines_of(const fs::path& path) {
  std::istringstream stream(mgap::read_text_file(path));
  std::vector<std::string> lines;
  for (std::string line; std::getline(stream, line);) {
    lines.push_back(line);
  }
  return lines;
}

// Column `name` of a CSV file, as text, one entry per data row.
std::vector<std::string> column(const fs::path& path, const std::string& name) {
  const mgap::CsvTable table = mgap::read_csv_table(path);
  std::vector<std::string> values;
  const int index = table.column_index(name);
  REQUIRE_MESSAGE(index >= 0, name);
  for (const auto& row : table.rows) {
    values.push_back(row.at(static_cast<std::size_t>(index)));
  }
  return values;
}

// The loop of one optimized round, run once and shared by the test cases.
const mgap::LoopReport& tiny_report() {
  static const mgap::LoopReport report =
      mgap::run_loop(tiny_loop(mgap::test::fresh_folder("loop_tiny") / "out"));
  return report;
}

fs::path tiny_output() { return tiny_report().history_path.parent_path(); }

}  // namespace

TEST_CASE("tiny loop writes every file") {
  const fs::path out = tiny_output();
  for (const char* name :
       {"history.csv", "loop_summary.json", "round_0/discrepancy.json", "round_0/discrepancy.csv",
        "round_0/calibration_runs.csv", "round_0/calibration.json", "round_0/curves.csv",
        "round_0/next_density.json", "round_1/calibration.json", "round_1/next_density.json"}) {
    CHECK_MESSAGE(fs::is_regular_file(out / name), name);
  }
  for (const char* run : {"round_0/runs/du", "round_0/runs/cu", "round_1/runs/optimized"}) {
    for (const char* name : {"run.json", "train/checkpoint.pt", "train/encoder.pt",
                             "train/metrics.csv", "embeddings/manifest.json",
                             "evaluation/summary.json"}) {
      const std::string path = std::string(run) + "/" + name;
      CHECK_MESSAGE(fs::is_regular_file(out / path), path);
    }
  }
}

TEST_CASE("history has one row per run and mpp") {
  const mgap::LoopReport& report = tiny_report();
  REQUIRE(report.runs.size() == 3);
  const std::vector<std::string> lines = lines_of(report.history_path);
  CHECK(lines.front().rfind("round,distribution,test_mpp,balanced_accuracy,bound_prediction", 0) ==
        0);
  CHECK(lines.size() == 1 + 3 * 7);
  CHECK(report.runs[0].distribution == "du");
  CHECK(report.runs[1].distribution == "cu");
  CHECK(report.runs[2].distribution == "round_0/next_density.json");
  CHECK_FALSE(report.runs[0].prediction_is_forecast);
  CHECK(report.runs[2].prediction_is_forecast);
  for (const mgap::LoopRun& run : report.runs) {
    REQUIRE(run.bound_prediction.size() == run.test_mpps.size());
    for (std::size_t t = 0; t < run.test_mpps.size(); ++t) {
      CHECK(run.balanced_accuracy[t] >= 0.0);
      CHECK(run.balanced_accuracy[t] <= 1.0);
      CHECK(std::isfinite(run.bound_prediction[t]));
      CHECK(run.bound_prediction[t] >= 0.0);
    }
  }
}

TEST_CASE("runs embed differently") {
  // The runs start from the same weights with the same seed. Only the mpps of their training
  // tiles differ, so their embeddings of the same benchmark tiles must differ.
  std::vector<mgap::EmbeddingBundle> bundles;
  for (const mgap::LoopRun& run : tiny_report().runs) {
    bundles.push_back(
        mgap::read_embedding_bundle(tiny_output() / run.folder / "embeddings" / "manifest.json"));
  }
  REQUIRE(bundles.size() == 3);
  for (std::size_t i = 0; i < bundles.size(); ++i) {
    REQUIRE(bundles[i].sets.size() == 7);
    const Eigen::MatrixXd& first = bundles[i].at_mpp(0.5).embeddings;
    const Eigen::MatrixXd& second = bundles[(i + 1) % bundles.size()].at_mpp(0.5).embeddings;
    REQUIRE(first.rows() == second.rows());
    CHECK((first - second).cwiseAbs().maxCoeff() > 0.0);
  }
}

TEST_CASE("history matches evaluation results") {
  // The history's balanced accuracy is the linear probe's mean over folds in mgap-eval's results.
  const fs::path out = tiny_output();
  for (const mgap::LoopRun& run : tiny_report().runs) {
    const fs::path results = out / run.folder / "evaluation" / "results_logreg.csv";
    REQUIRE(fs::is_regular_file(results));
    const std::vector<std::string> accuracy = column(results, "Avg_balanced_accuracy");
    REQUIRE(accuracy.size() == run.balanced_accuracy.size());
    for (std::size_t t = 0; t < accuracy.size(); ++t) {
      CHECK(std::stod(accuracy[t]) == doctest::Approx(run.balanced_accuracy[t]).epsilon(kCsvDigits));
    }
  }
}

TEST_CASE("forecast equals mgap-optimize evaluation") {
  // mgap-optimize, given the round's calibration input and discrepancy file, must compute the
  // same calibrated bound for the next density as the loop forecast for round 1.
  const fs::path out = tiny_output();
  const fs::path curves = mgap::test::fresh_folder("loop_forecast") / "curves.csv";
  const auto run = mgap::test::run_program(
      "mgap-optimize",
      "--kernel discrepancy --discrepancy " + (out / "round_0/discrepancy.json").string() +
          " --calibrate " + (out / "round_0/calibration_runs.csv").string() +
          " --bins 64 --targets test --seed 7 --evaluate " +
          (out / "round_0/next_density.json").string() + " --output " +
          (curves.parent_path() / "evaluated.json").string() + " --curves " + curves.string());
  REQUIRE_MESSAGE(run.exit_status == 0, run.output);
  const std::vector<std::string> distribution = column(curves, "distribution");
  const std::vector<std::string> bound = column(curves, "bound");
  std::vector<double> evaluated;
  for (std::size_t row = 0; row < distribution.size(); ++row) {
    if (distribution[row] == "evaluated") {
      evaluated.push_back(std::stod(bound[row]));
    }
  }
  const mgap::LoopRun& optimized = tiny_report().runs.at(2);
  REQUIRE(evaluated.size() == optimized.bound_prediction.size());
  for (std::size_t t = 0; t < evaluated.size(); ++t) {
    CHECK(evaluated[t] == doctest::Approx(optimized.bound_prediction[t]).epsilon(kSameBound));
  }
}

TEST_CASE("per-mpp floors fit every mpp") {
  // With a floor per test mpp profiled out, the fitted bound's residuals average to zero over the
  // runs at every test mpp whose floor is not clamped to [0, 1].
  mgap::LoopOptions options = tiny_loop(mgap::test::fresh_folder("loop_floors") / "out");
  options.rounds = 0;
  options.calibration.floor_per_mpp = true;
  const mgap::LoopReport report = mgap::run_loop(options);
  REQUIRE(report.runs.size() == 2);
  REQUIRE(report.rounds.size() == 1);
  const mgap::CalibratedParameters& fitted = report.rounds[0].calibration.parameters;
  REQUIRE(fitted.floors.size() == 7);
  CHECK(fitted.bound.floor == 0.0);
  for (std::size_t t = 0; t < fitted.floors.size(); ++t) {
    CAPTURE(fitted.floor_mpps[t]);
    double mean_residual = 0.0;
    for (const mgap::LoopRun& run : report.runs) {
      mean_residual += (1.0 - run.balanced_accuracy[t]) - run.bound_prediction[t];
    }
    mean_residual /= 2.0;
    if (fitted.floors[t] > 0.0 && fitted.floors[t] < 1.0) {
      CHECK(std::abs(mean_residual) < 1e-12);
    }
  }
  CHECK(fs::is_regular_file(report.history_path.parent_path() / "round_0/next_density.json"));
}

TEST_CASE("loop reuses an equal density") {
  // With A = 0 and gamma = 0 the calibrated bound ignores the density, every density is optimal,
  // and the optimizer returns its first start, CU, which round 0 trained already.
  mgap::LoopOptions options = tiny_loop(mgap::test::fresh_folder("loop_twin") / "out");
  options.calibration.floor_per_mpp = true;
  options.calibration.initial.bound.amplitude = 0.0;
  options.calibration.upper.bound.amplitude = 0.0;
  options.calibration.initial.bound.discrepancy_weight = 0.0;
  options.calibration.upper.bound.discrepancy_weight = 0.0;
  const mgap::LoopReport report = mgap::run_loop(options);
  REQUIRE(report.runs.size() == 3);
  const mgap::LoopRun& cu = report.runs[1];
  const mgap::LoopRun& optimized = report.runs[2];
  CHECK(optimized.reused);
  CHECK(optimized.folder == cu.folder);
  CHECK(optimized.distribution == "round_0/next_density.json");
  CHECK(optimized.balanced_accuracy == cu.balanced_accuracy);
  CHECK_FALSE(fs::exists(report.history_path.parent_path() / "round_1" / "runs"));
  CHECK(fs::is_regular_file(report.history_path.parent_path() / "round_1" / "discrepancy.json"));
  CHECK(fs::is_regular_file(report.history_path.parent_path() / "round_1" / "next_density.json"));
}

TEST_CASE("resume reuses runs bit for bit") {
  const mgap::LoopReport& first = tiny_report();
  const std::string history = mgap::read_text_file(first.history_path);
  mgap::LoopOptions options = tiny_loop(tiny_output());
  options.resume = true;
  const mgap::LoopReport second = mgap::run_loop(options);
  for (const mgap::LoopRun& run : second.runs) {
    CHECK(run.reused);
  }
  CHECK(mgap::read_text_file(second.history_path) == history);

  // Runs trained with other options must not be reused: the loop names the option and writes
  // nothing.
  options.train.steps = 4;
  CHECK_THROWS_WITH_AS(mgap::run_loop(options), doctest::Contains("option 'steps' is 4"),
                       mgap::InputError);
  CHECK(mgap::read_text_file(second.history_path) == history);
}

TEST_CASE("loop refuses a used folder") {
  mgap::LoopOptions options = tiny_loop(tiny_output());
  CHECK_THROWS_AS(mgap::run_loop(options), mgap::InputError);
}

TEST_CASE("mgap-loop rejects bad input") {
  const fs::path folder = mgap::test::fresh_folder("loop_bad");
  const std::string benchmark = fixture().benchmark.string();
  SUBCASE("negative rounds") {
    const auto run = mgap::test::run_program(
        "mgap-loop", "--rounds -1 --benchmark " + benchmark + " --output-dir " +
                         (folder / "a").string());
    CHECK(run.exit_status == 2);
    CHECK(run.output.find("--rounds -1") != std::string::npos);
  }
  SUBCASE("benchmark without labels") {
    const auto run = mgap::test::run_program(
        "mgap-loop", "--benchmark " + folder.string() + " --output-dir " + (folder / "b").string());
    CHECK(run.exit_status == 2);
    CHECK(run.output.find("labels.csv") != std::string::npos);
  }
  SUBCASE("test mpp outside the domain") {
    const auto run = mgap::test::run_program(
        "mgap-loop", "--benchmark " + benchmark + " --test-mpps 0.5,4 --output-dir " +
                         (folder / "c").string());
    CHECK(run.exit_status == 2);
    CHECK(run.output.find("test mpp 4") != std::string::npos);
  }
  SUBCASE("test mpp missing from the benchmark") {
    const auto run = mgap::test::run_program(
        "mgap-loop", "--benchmark " + benchmark + " --test-mpps 0.5,0.3 --output-dir " +
                         (folder / "e").string());
    CHECK(run.exit_status == 2);
    CHECK(run.output.find("no tiles at test mpp 0.3") != std::string::npos);
  }
  SUBCASE("calibration classifier left out") {
    const auto run = mgap::test::run_program(
        "mgap-loop", "--benchmark " + benchmark + " --classifier knn --output-dir " +
                         (folder / "f").string());
    CHECK(run.exit_status == 2);
    CHECK(run.output.find("--calibrate-with logreg") != std::string::npos);
  }
  SUBCASE("unknown device") {
    const auto run = mgap::test::run_program(
        "mgap-loop", "--benchmark " + benchmark + " --device gpu --output-dir " +
                         (folder / "g").string());
    CHECK(run.exit_status == 2);
    CHECK(run.output.find("invalid --device 'gpu'") != std::string::npos);
  }
  SUBCASE("missing slide") {
    const auto run = mgap::test::run_program(
        "mgap-loop", "--benchmark " + benchmark + " --slides /nonexistent/slide.tif --output-dir " +
                         (folder / "d").string());
    CHECK(run.exit_status == 2);
  }
  CHECK_FALSE(fs::exists(folder / "a"));
  CHECK_FALSE(fs::exists(folder / "b"));
  CHECK_FALSE(fs::exists(folder / "c"));
  CHECK_FALSE(fs::exists(folder / "d"));
  CHECK_FALSE(fs::exists(folder / "e"));
  CHECK_FALSE(fs::exists(folder / "f"));
  CHECK_FALSE(fs::exists(folder / "g"));
}
