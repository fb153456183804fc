// One run of the loop: train with a density, embed the benchmark, evaluate every test mpp.

#include <spdlog/spdlog.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "loop_stages.hpp"
#include "mgap/atomic_file.hpp"
#include "mgap/density_json.hpp"
#include "mgap/embed.hpp"
#include "mgap/error.hpp"
#include "mgap/evaluation_input.hpp"
#include "mgap/evaluation_output.hpp"
#include "mgap/hash.hpp"
#include "mgap/version.hpp"

namespace mgap::loop {

namespace {

namespace fs = std::filesystem;

constexpr const char* kRunSchema = "mgap.loop_run/v1";

fs::path run_folder(const LoopOptions& options, const RunPlan& plan) {
  return options.output_dir / plan.folder;
}

TrainReport train_run(const LoopOptions& options, const RunPlan& plan,
                      const TrainingTileSource& tiles) {
  TrainOptions train = options.train;
  train.output_dir = run_folder(options, plan) / "train";
  train.density_name = plan.distribution;
  train.density_hash = density_hash(plan.density);
  // Every run starts from the same weights and draws its augmentations from the same seed, so
  // the runs differ only in the mpps their tiles are drawn at.
  train.seed = options.seed;
  train.resume = false;
  train.validate();
  spdlog::info("round {}: training '{}' for {} steps", plan.round, plan.name, train.steps);
  const SamplingDensity& density = plan.density;
  return train_encoder(train, tiles,
                       [&density](RandomEngine& engine) { return density.sample(engine); });
}

EmbedReport embed_run(const LoopOptions& options, const RunPlan& plan,
                      const TrainReport& trained) {
  EmbedOptions embed;
  embed.benchmark_root = options.benchmark_root;
  embed.encoder_path = trained.checkpoint_path;
  embed.output_dir = run_folder(options, plan) / "embeddings";
  embed.mpps = options.evaluation.test_mpps;
  embed.batch_size = options.embed_batch_size;
  embed.threads = options.train.threads;
  embed.device = options.train.device;
  embed.progress_bar = options.train.progress_bar;
  spdlog::info("round {}: embedding the benchmark with '{}'", plan.round, plan.name);
  return embed_benchmark(embed);
}

EvaluationReport evaluate_run(const LoopOptions& options, const RunPlan& plan,
                              const BenchmarkFolds& folds, const fs::path& manifest) {
  const EmbeddingBundle bundle = read_embedding_bundle(manifest);
  EvaluationInput input = evaluation_input_from_bundle(bundle, folds.table.label_of_slide);
  EvaluationOptions evaluation = options.evaluation;
  evaluation.class_names = input.class_names;
  evaluation.validate();
  spdlog::info("round {}: evaluating '{}' on {} mpps", plan.round, plan.name, input.sets.size());
  EvaluationReport report = run_evaluation(input.sets, evaluation, folds.table.folds);
  report.warnings.insert(report.warnings.begin(), input.warnings.begin(), input.warnings.end());

  EvaluationProvenance provenance;
  provenance.program = "mgap-loop";
  provenance.seed = options.seed;
  provenance.manifest_path = manifest.string();
  provenance.manifest_hash = bundle.manifest_hash;
  provenance.folds_source = folds.labels_path.string();
  provenance.folds_hash = folds.labels_hash;
  write_evaluation_outputs(run_folder(options, plan) / "evaluation", report, evaluation,
                           provenance, input.sets);
  return report;
}

// Balanced accuracy per test mpp of the calibration classifier.
void copy_balanced_accuracy(const EvaluationReport& report, ClassifierKind classifier,
                            LoopRun& run) {
  for (const ClassifierSummary& summary : report.summaries) {
    if (summary.classifier != classifier) {
      continue;
    }
    for (const MppSummary& mpp : summary.per_mpp) {
      run.test_mpps.push_back(mpp.test_mpp);
      run.balanced_accuracy.push_back(mpp.balanced_accuracy.mean);
      run.balanced_accuracy_std.push_back(mpp.balanced_accuracy.std);
    }
    return;
  }
  throw InputError("the loop calibrates with the " + to_string(classifier) +
                   " classifier, which the evaluation did not run; add it to --classifier");
}

nlohmann::json run_to_json(const LoopRun& run, const TrainReport& trained,
                           const EmbedReport& embedded) {
  return {{"schema", kRunSchema},
          {"program", "mgap-loop"},
          {"program_version", kVersion},
          {"round", run.round},
          {"name", run.name},
          {"distribution", run.distribution},
          {"density_hash", run.density_hash},
          {"encoder_hash", embedded.encoder_hash},
          {"final_rankme", trained.final_rankme},
          {"collapse_warning", trained.collapse_warning},
          {"test_mpps", run.test_mpps},
          {"balanced_accuracy", run.balanced_accuracy},
          {"balanced_accuracy_std", run.balanced_accuracy_std}};
}

}  // namespace

std::string density_hash(const SamplingDensity& density) {
  return fnv1a_hex(density_to_json(density, nlohmann::json::object()).dump());
}

BenchmarkFolds read_benchmark_folds(const fs::path& benchmark_root) {
  BenchmarkFolds folds;
  folds.labels_path = benchmark_root / "labels.csv";
  folds.table = read_slide_fold_table(folds.labels_path);
  folds.labels_hash = fnv1a_hex(read_text_file(folds.labels_path));
  return folds;
}

fs::path run_manifest(const LoopOptions& options, const LoopRun& run) {
  return options.output_dir / run.folder / "embeddings" / "manifest.json";
}

LoopRun execute_run(const LoopOptions& options, const RunPlan& plan,
                    const TrainingTileSource& tiles, const BenchmarkFolds& folds) {
  LoopRun run;
  run.round = plan.round;
  run.name = plan.name;
  run.distribution = plan.distribution;
  run.density_hash = density_hash(plan.density);
  run.folder = plan.folder;

  const TrainReport trained = train_run(options, plan, tiles);
  if (trained.collapse_warning) {
    spdlog::warn("round {}: run '{}' ended with RankMe {:.2f}, below the collapse threshold",
                 plan.round, plan.name, trained.final_rankme);
  }
  const EmbedReport embedded = embed_run(options, plan, trained);
  const EvaluationReport evaluated =
      evaluate_run(options, plan, folds, embedded.manifest_path);
  copy_balanced_accuracy(evaluated, options.calibration_classifier, run);

  // run.json is written last: its presence marks the run as complete for --resume.
  write_file_atomically(run_folder(options, plan) / "run.json",
                        run_to_json(run, trained, embedded).dump(2) + "\n");
  return run;
}

bool load_completed_run(const LoopOptions& options, const RunPlan& plan, LoopRun& run) {
  const fs::path path = run_folder(options, plan) / "run.json";
  if (!fs::is_regular_file(path)) {
    return false;
  }
  const nlohmann::json document = nlohmann::json::parse(read_text_file(path), nullptr, false);
  if (document.is_discarded() || document.value("schema", "") != kRunSchema) {
    throw InputError("'" + path.string() + "' is not a loop run file (" + kRunSchema +
                     "); delete the run's folder to train it again");
  }
  const std::string expected = density_hash(plan.density);
  if (document.value("density_hash", "") != expected) {
    throw InputError("'" + path.string() + "' was trained with another density (hash " +
                     document.value("density_hash", "") + ", expected " + expected +
                     "); use a new --output-dir, or delete the round's folders to redo them");
  }
  run.round = plan.round;
  run.name = plan.name;
  run.distribution = plan.distribution;
  run.density_hash = expected;
  run.folder = plan.folder;
  run.test_mpps = document.at("test_mpps").get<std::vector<double>>();
  run.balanced_accuracy = document.at("balanced_accuracy").get<std::vector<double>>();
  run.balanced_accuracy_std = document.at("balanced_accuracy_std").get<std::vector<double>>();
  run.reused = true;
  spdlog::info("round {}: reusing the completed run '{}' from {}", plan.round, plan.name,
               path.string());
  return true;
}

}  // namespace mgap::loop
