// mgap-eval: runs the per-magnification evaluation protocol (linear probe and kNN, grouped folds,
// RankMe) on an embeddings bundle, or on a benchmark folder of embeddings keyed by tile file name.
// Writes the results CSVs, a tidy per-fold CSV, RankMe and a JSON summary, then prints the per-mpp
// table.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <iostream>

#include "mgap/atomic_file.hpp"
#include "mgap/benchmark_embeddings.hpp"
#include "mgap/cli.hpp"
#include "mgap/embedding_bundle.hpp"
#include "mgap/error.hpp"
#include "mgap/evaluation_input.hpp"
#include "mgap/evaluation_output.hpp"
#include "mgap/evaluation_protocol.hpp"
#include "mgap/fold_plan.hpp"
#include "mgap/hash.hpp"

namespace {

struct ProgramOptions {
  std::string manifest;
  std::string from_folder;
  std::string layout;
  std::string patients;
  std::string write_manifest;
  std::string labels;
  std::string train_mpps = "0.25,0.5,1.0,2.0";
  std::string test_mpps;
  int folds = 5;
  bool shuffle_folds = false;
  std::string classifiers = "logreg,knn";
  std::string c_grid;
  std::string k_grid;
  bool no_standardize = false;
  std::string class_weight = "balanced";
  double tolerance = 1e-4;
  double objective_tolerance = 2.220446049250313e-09;
  int max_evaluations = 2000;
  int threads = 0;
  bool drop_nonfinite = false;
  std::string output_dir;
};

void add_options(CLI::App& app, ProgramOptions& options) {
  auto* manifest = app.add_option(
      "--manifest", options.manifest,
      "Embeddings bundle manifest.json (mgap.embeddings/v1) with labels and group ids");
  auto* from_folder = app.add_option(
      "--from-folder", options.from_folder,
      "Folder of benchmark embeddings keyed by tile file name: embeddings_mpp_{mpp}.npy and "
      "tiles_mpp_{mpp}.txt per mpp (needs --layout)");
  manifest->excludes(from_folder);
  app.add_option("--layout", options.layout,
                 "Tile naming of --from-folder: tcga-ms ({slide}_{x}_{y}.png, labels from "
                 "--labels) or bracs-ms (BRACS_{wsi}_{subtype}_{n}.png)")
      ->needs(from_folder);
  app.add_option("--patients", options.patients,
                 "BRACS-MS slide-to-patient CSV (wsi,patient) so that folds group by patient; "
                 "slides it lacks are grouped by slide")
      ->needs(from_folder);
  app.add_option("--write-manifest", options.write_manifest,
                 "With --from-folder, also write the paired embeddings as a bundle "
                 "(manifest.json, .npy and rows CSV per mpp) into this folder")
      ->needs(from_folder);
  app.add_option("--labels", options.labels,
                 "TCGA-MS labels.csv (slide_uuid,label_id,fold_0,...) whose train/dev/test folds "
                 "replace the built ones; its label_id labels tiles without a label column");
  app.add_option("--train-mpps", options.train_mpps,
                 "Training mpps, comma-separated; probes train on the union of their tiles")
      ->capture_default_str();
  app.add_option("--test-mpps", options.test_mpps,
                 "Test mpps, comma-separated (default: every mpp of the bundle)");
  app.add_option("--folds", options.folds,
                 "Number of outer folds, grouped by slide or patient and stratified by label; the "
                 "first inner split of each training part is the validation part")
      ->capture_default_str();
  app.add_flag("--shuffle-folds", options.shuffle_folds,
               "Shuffle the group order with --seed before assigning folds (default: the order of "
               "scikit-learn's StratifiedGroupKFold(shuffle=False))");
  app.add_option("--classifier", options.classifiers, "Classifiers to run: logreg, knn or both")
      ->capture_default_str();
  app.add_option("--c-grid", options.c_grid,
                 "Inverse regularization values C of the linear probe (default 1e-4,...,1e4, nine "
                 "values)");
  app.add_option("--k-grid", options.k_grid, "Neighbour counts k of kNN (default 1,3,5,10,20,40,80)");
  app.add_flag("--no-standardize", options.no_standardize,
               "Fit the linear probe on raw embeddings instead of standardized features");
  app.add_option("--class-weight", options.class_weight,
                 "Class weights of the linear probe: balanced (n / (K n_c)) or uniform")
      ->capture_default_str();
  app.add_option("--tolerance", options.tolerance,
                 "Linear probe stops when the largest absolute gradient entry is below this "
                 "(scikit-learn's tol)")
      ->capture_default_str();
  app.add_option("--objective-tolerance", options.objective_tolerance,
                 "Linear probe also stops when the objective changes by less than this fraction "
                 "(SciPy L-BFGS-B's default ftol, which scikit-learn keeps)")
      ->capture_default_str();
  app.add_option("--max-evaluations", options.max_evaluations,
                 "Maximum objective evaluations per linear-probe fit")
      ->capture_default_str();
  app.add_option("--threads", options.threads, "Worker threads over folds; 0 uses every core")
      ->capture_default_str();
  app.add_flag("--drop-nonfinite", options.drop_nonfinite,
               "Drop embedding rows that contain NaN or infinity instead of rejecting the bundle");
  app.add_option("--output-dir", options.output_dir,
                 "Folder for results_{classifier}.csv, per_fold.csv, selection.csv, rankme.csv, "
                 "folds.csv and summary.json (created if missing)")
      ->required();
}

std::vector<int> parse_int_list(const std::string& text, const std::string& option) {
  std::vector<int> values;
  for (const double value : mgap::cli::parse_double_list(text, option)) {
    if (value != static_cast<double>(static_cast<int>(value))) {
      throw mgap::InputError(fmt::format("invalid {} value {}; use whole numbers", option, value));
    }
    values.push_back(static_cast<int>(value));
  }
  return values;
}

mgap::EvaluationOptions evaluation_options(const ProgramOptions& program, std::uint64_t seed) {
  mgap::EvaluationOptions options;
  options.train_mpps = mgap::cli::parse_double_list(program.train_mpps, "--train-mpps");
  if (!program.test_mpps.empty()) {
    options.test_mpps = mgap::cli::parse_double_list(program.test_mpps, "--test-mpps");
  }
  options.classifiers.clear();
  for (const auto& name : mgap::cli::split_list(program.classifiers)) {
    options.classifiers.push_back(mgap::classifier_kind_from_string(name));
  }
  options.folds.num_folds = program.folds;
  options.folds.shuffle = program.shuffle_folds;
  options.folds.seed = seed;
  if (!program.c_grid.empty()) {
    options.inverse_regularization_grid = mgap::cli::parse_double_list(program.c_grid, "--c-grid");
  }
  if (!program.k_grid.empty()) {
    options.num_neighbors_grid = parse_int_list(program.k_grid, "--k-grid");
  }
  options.standardize_linear_probe = !program.no_standardize;
  options.class_weighting = mgap::class_weighting_from_string(program.class_weight);
  options.logistic_regression.gradient_tolerance = program.tolerance;
  options.logistic_regression.relative_objective_tolerance = program.objective_tolerance;
  options.logistic_regression.max_evaluations = program.max_evaluations;
  options.num_threads = program.threads;
  options.validate();
  return options;
}

std::string joined_command_line(int argc, char** argv) {
  std::string text;
  for (int i = 0; i < argc; ++i) {
    text += (i == 0 ? "" : " ") + std::string(argv[i]);
  }
  return text;
}

// The bundle to evaluate and the .npy dtype in which --write-manifest stores it.
struct InputBundle {
  mgap::EmbeddingBundle bundle;
  mgap::NpyDtype storage_dtype = mgap::NpyDtype::kFloat32;
};

InputBundle bundle_from_folder(const ProgramOptions& program) {
  if (program.layout.empty()) {
    throw mgap::InputError("--from-folder needs --layout tcga-ms or --layout bracs-ms to parse "
                           "the tile file names");
  }
  if (program.drop_nonfinite) {
    throw mgap::InputError("--drop-nonfinite applies to --manifest only; a benchmark folder must "
                           "have the same tiles at every mpp");
  }
  mgap::BenchmarkEmbeddingsOptions folder_options;
  folder_options.folder = program.from_folder;
  folder_options.layout = mgap::benchmark_layout_from_string(program.layout);
  if (!program.labels.empty()) {
    folder_options.labels_csv = program.labels;
  }
  if (!program.patients.empty()) {
    folder_options.patients_csv = program.patients;
  }
  mgap::BenchmarkEmbeddings folder = mgap::read_benchmark_embeddings(folder_options);
  spdlog::info("paired {} tiles across {} mpps from {} ({} layout)",
               folder.bundle.sets.front().num_tiles(), folder.bundle.sets.size(),
               program.from_folder, program.layout);
  return {std::move(folder.bundle), folder.storage_dtype};
}

InputBundle read_input_bundle(const ProgramOptions& program) {
  if (!program.from_folder.empty()) {
    return bundle_from_folder(program);
  }
  if (program.manifest.empty()) {
    throw mgap::InputError("no input: pass --manifest BUNDLE/manifest.json or --from-folder DIR "
                           "--layout tcga-ms|bracs-ms");
  }
  mgap::BundleReadOptions read_options;
  read_options.drop_nonfinite = program.drop_nonfinite;
  return {mgap::read_embedding_bundle(program.manifest, read_options), mgap::NpyDtype::kFloat32};
}

int run(const ProgramOptions& program, const mgap::cli::CommonOptions& common,
        const std::string& command_line) {
  const auto start = std::chrono::steady_clock::now();
  mgap::EvaluationOptions options = evaluation_options(program, common.seed);

  const InputBundle input_bundle = read_input_bundle(program);
  const mgap::EmbeddingBundle& bundle = input_bundle.bundle;
  for (const auto& warning : bundle.warnings) {
    spdlog::warn("{}", warning);
  }
  const std::string input_path =
      program.from_folder.empty() ? program.manifest : program.from_folder;

  mgap::EvaluationProvenance provenance;
  provenance.command_line = command_line;
  provenance.seed = common.seed;
  provenance.manifest_path = input_path;
  provenance.manifest_hash = bundle.manifest_hash;
  provenance.folds_source = "stratified_group_kfold";
  std::vector<mgap::FoldPlan> plans;
  std::map<std::string, std::string> label_of_slide;
  if (!program.labels.empty()) {
    const mgap::SlideFoldTable table = mgap::read_slide_fold_table(program.labels);
    plans = table.folds;
    label_of_slide = table.label_of_slide;
    provenance.folds_source = program.labels;
    provenance.folds_hash = mgap::fnv1a_hex(mgap::read_text_file(program.labels));
    spdlog::info("read {} folds for {} slides from {}", plans.size(), label_of_slide.size(),
                 program.labels);
  }

  mgap::EvaluationInput input = mgap::evaluation_input_from_bundle(bundle, label_of_slide);
  for (const auto& warning : input.warnings) {
    spdlog::warn("{}", warning);
  }
  options.class_names = input.class_names;
  spdlog::info("read {} mpps of {}-dimensional embeddings, {} classes from {}", input.sets.size(),
               bundle.embedding_dim(), input.class_names.size(), input_path);

  mgap::EvaluationReport report = mgap::run_evaluation(input.sets, options, plans);
  report.warnings.insert(report.warnings.begin(), input.warnings.begin(), input.warnings.end());
  const auto written = mgap::write_evaluation_outputs(program.output_dir, report, options,
                                                      provenance, input.sets);
  if (!program.write_manifest.empty()) {
    // Written after the evaluation so that rejected input leaves no bundle behind.
    mgap::write_embedding_bundle(program.write_manifest, bundle, input_bundle.storage_dtype);
    spdlog::info("wrote the bundle {}/manifest.json", program.write_manifest);
  }
  std::cout << mgap::format_evaluation_table(report);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  spdlog::info("wrote {} files to {} in {:.2f} s", written.size(), program.output_dir, seconds);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Evaluates embeddings per test mpp: linear probe (logistic regression) and cosine kNN "
      "trained on the training mpps, grouped stratified folds, balanced accuracy and F1 mean and "
      "std over folds, and RankMe per mpp."};
  app.name("mgap-eval");
  ProgramOptions program;
  mgap::cli::CommonOptions common;
  add_options(app, program);
  mgap::cli::add_common_options(app, common);
  const std::string command_line = joined_command_line(argc, argv);
  return mgap::cli::run_program(app, argc, argv, common,
                                [&]() { return run(program, common, command_line); });
}
