#pragma once

// Output files of the evaluation protocol (formats in docs/formats.md, "Evaluation outputs"):
//
// - results_{classifier}.csv: one row per test mpp with the columns of the published TCGA-MS and
//   BRACS-MS evaluation scripts, Test_MPP,Avg_accuracy,Std_accuracy,Avg_balanced_accuracy,
//   Std_balanced_accuracy,Avg_f1_macro,Std_f1_macro,Avg_f1_weighted,Std_f1_weighted, with the
//   population standard deviation over folds (numpy.std, ddof = 0);
// - per_fold.csv: tidy, one row per classifier, fold and test mpp;
// - selection.csv: tidy, one row per classifier, fold and hyperparameter value tried;
// - rankme.csv: one row per test mpp;
// - folds.csv: the fold plan used, as a TCGA-MS labels.csv;
// - summary.json: schema mgap.evaluation/v1 with settings, summaries and provenance.

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "mgap/evaluation_protocol.hpp"
#include "mgap/fold_plan.hpp"

namespace mgap {

inline constexpr const char* kEvaluationSchema = "mgap.evaluation/v1";

// Origin of a report (program, inputs and their hashes, seed), recorded in summary.json.
struct EvaluationProvenance {
  std::string program = "mgap-eval";
  std::string command_line;
  std::uint64_t seed = 0;
  std::string manifest_path;
  std::string manifest_hash;  // fnv1a_hex of the manifest's bytes
  std::string folds_source;   // "stratified_group_kfold" or the labels.csv path
  std::string folds_hash;     // fnv1a_hex of the labels.csv bytes; empty for built folds
};

// Column header of results_{classifier}.csv.
const std::vector<std::string>& results_csv_columns();

std::string results_csv(const EvaluationReport& report, ClassifierKind classifier);
std::string per_fold_csv(const EvaluationReport& report);
std::string selection_csv(const EvaluationReport& report);
std::string rankme_csv(const EvaluationReport& report);

// The summary document (schema kEvaluationSchema).
nlohmann::json summary_json(const EvaluationReport& report, const EvaluationOptions& options,
                            const EvaluationProvenance& provenance);

// The per-mpp table printed by mgap-eval: balanced accuracy mean +- std per classifier, RankMe,
// and the summary lines.
std::string format_evaluation_table(const EvaluationReport& report);

// Writes every file above into `folder` (created if missing), each atomically, after all contents
// are computed. `sets` and options.class_names give the label_id column of folds.csv (empty for a
// group with tiles of several classes). Returns the paths written.
std::vector<std::filesystem::path> write_evaluation_outputs(
    const std::filesystem::path& folder, const EvaluationReport& report,
    const EvaluationOptions& options, const EvaluationProvenance& provenance,
    const std::vector<MppEmbeddings>& sets);

}  // namespace mgap
