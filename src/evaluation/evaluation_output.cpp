#include "mgap/evaluation_output.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <map>
#include <set>

#include "mgap/atomic_file.hpp"
#include "mgap/csv_table.hpp"
#include "mgap/error.hpp"
#include "mgap/magnification.hpp"
#include "mgap/version.hpp"

namespace mgap {
namespace {

using nlohmann::json;

// Shortest text that reads back to the same double.
std::string number(double value) { return fmt::format("{}", value); }

std::string hyperparameter_name(ClassifierKind classifier) {
  return classifier == ClassifierKind::kKnn ? "k" : "C";
}

json metric_json(const MetricSummary& metric) { return {{"mean", metric.mean}, {"std", metric.std}}; }

json classifier_json(const ClassifierSummary& summary, const EvaluationReport& report) {
  json per_mpp = json::array();
  for (const MppSummary& row : summary.per_mpp) {
    per_mpp.push_back({{"test_mpp", row.test_mpp},
                       {"accuracy", metric_json(row.accuracy)},
                       {"balanced_accuracy", metric_json(row.balanced_accuracy)},
                       {"f1_macro", metric_json(row.f1_macro)},
                       {"f1_weighted", metric_json(row.f1_weighted)}});
  }
  json chosen = json::array();
  int unconverged = 0;
  for (const FoldSelection& selection : report.selections) {
    if (selection.classifier != summary.classifier) {
      continue;
    }
    chosen.push_back(selection.chosen);
    for (const auto& fit : selection.fit_reports) {
      unconverged += fit.converged() ? 0 : 1;
    }
  }
  json result = {{"hyperparameter", hyperparameter_name(summary.classifier)},
                 {"chosen_per_fold", chosen},
                 {"per_mpp", per_mpp},
                 {"mean_balanced_accuracy", summary.mean_balanced_accuracy},
                 {"min_balanced_accuracy", summary.min_balanced_accuracy},
                 {"intermediate_penalty", nullptr}};
  if (summary.has_intermediate_penalty) {
    result["intermediate_penalty"] = summary.intermediate_penalty;
  }
  if (summary.classifier == ClassifierKind::kLogisticRegression) {
    result["unconverged_fits"] = unconverged;
  }
  return result;
}

std::map<std::string, std::string> label_of_groups(const std::vector<MppEmbeddings>& sets,
                                                   const std::vector<std::string>& class_names) {
  std::map<std::string, std::set<int>> classes_of_group;
  for (const auto& set : sets) {
    for (std::size_t i = 0; i < set.groups.size(); ++i) {
      classes_of_group[set.groups[i]].insert(set.labels[i]);
    }
  }
  std::map<std::string, std::string> labels;
  for (const auto& [group, classes] : classes_of_group) {
    if (classes.size() != 1) {
      continue;
    }
    const int c = *classes.begin();
    labels[group] = static_cast<std::size_t>(c) < class_names.size()
                        ? class_names[static_cast<std::size_t>(c)]
                        : std::to_string(c);
  }
  return labels;
}

}  // namespace

const std::vector<std::string>& results_csv_columns() {
  static const std::vector<std::string> columns = {
      "Test_MPP",       "Avg_accuracy",    "Std_accuracy",    "Avg_balanced_accuracy",
      "Std_balanced_accuracy", "Avg_f1_macro", "Std_f1_macro", "Avg_f1_weighted",
      "Std_f1_weighted"};
  return columns;
}

std::string results_csv(const EvaluationReport& report, ClassifierKind classifier) {
  std::string out = fmt::format("{}\n", fmt::join(results_csv_columns(), ","));
  for (const ClassifierSummary& summary : report.summaries) {
    if (summary.classifier != classifier) {
      continue;
    }
    for (const MppSummary& row : summary.per_mpp) {
      out += fmt::format("{},{},{},{},{},{},{},{},{}\n", format_mpp(row.test_mpp),
                         number(row.accuracy.mean), number(row.accuracy.std),
                         number(row.balanced_accuracy.mean), number(row.balanced_accuracy.std),
                         number(row.f1_macro.mean), number(row.f1_macro.std),
                         number(row.f1_weighted.mean), number(row.f1_weighted.std));
    }
  }
  return out;
}

std::string per_fold_csv(const EvaluationReport& report) {
  std::string out =
      "classifier,fold,test_mpp,hyperparameter,value,accuracy,balanced_accuracy,f1_macro,"
      "f1_weighted,num_test_tiles,num_classes_in_test\n";
  for (const FoldResult& result : report.fold_results) {
    out += fmt::format("{},{},{},{},{},{},{},{},{},{},{}\n", to_string(result.classifier),
                       result.fold, format_mpp(result.test_mpp),
                       hyperparameter_name(result.classifier), number(result.hyperparameter),
                       number(result.metrics.accuracy), number(result.metrics.balanced_accuracy),
                       number(result.metrics.f1_macro), number(result.metrics.f1_weighted),
                       result.metrics.num_rows, result.metrics.num_classes_in_truth);
  }
  return out;
}

std::string selection_csv(const EvaluationReport& report) {
  std::string out =
      "classifier,fold,hyperparameter,value,validation_balanced_accuracy,chosen,num_train_tiles,"
      "num_validation_tiles,fit_status,fit_evaluations\n";
  for (const FoldSelection& selection : report.selections) {
    for (std::size_t i = 0; i < selection.grid.size(); ++i) {
      const bool has_fit = i < selection.fit_reports.size();
      out += fmt::format(
          "{},{},{},{},{},{},{},{},{},{}\n", to_string(selection.classifier), selection.fold,
          hyperparameter_name(selection.classifier), number(selection.grid[i]),
          number(selection.validation_balanced_accuracy[i]),
          selection.grid[i] == selection.chosen ? 1 : 0, selection.num_train_rows,
          selection.num_validation_rows,
          has_fit ? to_string(selection.fit_reports[i].status) : std::string(),
          has_fit ? std::to_string(selection.fit_reports[i].num_evaluations) : std::string());
    }
  }
  return out;
}

std::string rankme_csv(const EvaluationReport& report) {
  std::string out = "mpp,rankme,num_tiles,embedding_dim\n";
  for (const RankMeResult& row : report.rankme) {
    out += fmt::format("{},{},{},{}\n", format_mpp(row.mpp), number(row.rankme), row.num_tiles,
                       row.embedding_dim);
  }
  return out;
}

json summary_json(const EvaluationReport& report, const EvaluationOptions& options,
                  const EvaluationProvenance& provenance) {
  json classifiers = json::object();
  for (const ClassifierSummary& summary : report.summaries) {
    classifiers[to_string(summary.classifier)] = classifier_json(summary, report);
  }
  json rankme = json::array();
  for (const RankMeResult& row : report.rankme) {
    rankme.push_back({{"mpp", row.mpp},
                      {"rankme", row.rankme},
                      {"num_tiles", row.num_tiles},
                      {"embedding_dim", row.embedding_dim}});
  }
  const LogisticRegressionOptions& fit = options.logistic_regression;
  json settings = {
      {"train_mpps", report.train_mpps},
      {"test_mpps", report.test_mpps},
      {"num_folds", report.num_folds},
      {"folds_source", provenance.folds_source},
      {"shuffle_folds", options.folds.shuffle},
      {"inverse_regularization_grid", options.inverse_regularization_grid},
      {"num_neighbors_grid", options.num_neighbors_grid},
      {"standardize_linear_probe", options.standardize_linear_probe},
      {"class_weighting", to_string(options.class_weighting)},
      {"gradient_tolerance", fit.gradient_tolerance},
      {"relative_objective_tolerance", fit.relative_objective_tolerance},
      {"max_evaluations", fit.max_evaluations},
      {"knn_metric", "cosine"},
      {"std", "population (ddof = 0) over folds"},
  };
  return {
      {"schema", kEvaluationSchema},
      {"num_classes", report.num_classes},
      {"class_names", options.class_names},
      {"settings", settings},
      {"classifiers", classifiers},
      {"rankme", rankme},
      {"warnings", report.warnings},
      {"provenance",
       {{"program", provenance.program},
        {"version", kVersion},
        {"command_line", provenance.command_line},
        {"seed", provenance.seed},
        {"manifest", provenance.manifest_path},
        {"manifest_hash", provenance.manifest_hash},
        {"folds_hash", provenance.folds_hash}}},
  };
}

std::string format_evaluation_table(const EvaluationReport& report) {
  std::string out = fmt::format("{:>8}", "mpp");
  for (const ClassifierSummary& summary : report.summaries) {
    out += fmt::format("  {:>17}", to_string(summary.classifier) + " bal. acc.");
  }
  out += fmt::format("  {:>8}\n", "RankMe");
  for (std::size_t i = 0; i < report.test_mpps.size(); ++i) {
    out += fmt::format("{:>8}", format_mpp(report.test_mpps[i]));
    for (const ClassifierSummary& summary : report.summaries) {
      const MetricSummary& metric = summary.per_mpp[i].balanced_accuracy;
      out += fmt::format("  {:>9.4f} +- {:.4f}", metric.mean, metric.std);
    }
    out += fmt::format("  {:>8.2f}\n", report.rankme[i].rankme);
  }
  for (const ClassifierSummary& summary : report.summaries) {
    out += fmt::format("{}: mean {:.4f}, min {:.4f}, intermediate penalty {}\n",
                       to_string(summary.classifier), summary.mean_balanced_accuracy,
                       summary.min_balanced_accuracy,
                       summary.has_intermediate_penalty
                           ? fmt::format("{:+.4f}", summary.intermediate_penalty)
                           : std::string("n/a (needs standard and intermediate test mpps)"));
  }
  return out;
}

std::vector<std::filesystem::path> write_evaluation_outputs(
    const std::filesystem::path& folder, const EvaluationReport& report,
    const EvaluationOptions& options, const EvaluationProvenance& provenance,
    const std::vector<MppEmbeddings>& sets) {
  std::vector<std::pair<std::string, std::string>> files;
  for (const ClassifierSummary& summary : report.summaries) {
    files.emplace_back("results_" + to_string(summary.classifier) + ".csv",
                       results_csv(report, summary.classifier));
  }
  files.emplace_back("per_fold.csv", per_fold_csv(report));
  files.emplace_back("selection.csv", selection_csv(report));
  files.emplace_back("rankme.csv", rankme_csv(report));
  files.emplace_back("summary.json", summary_json(report, options, provenance).dump(2) + "\n");

  std::error_code error;
  std::filesystem::create_directories(folder, error);
  if (error) {
    throw InputError(fmt::format("failed to create the output folder {}: {}; check the path and its permissions", folder.string(),
                                 error.message()));
  }
  std::vector<std::filesystem::path> written;
  for (const auto& [name, contents] : files) {
    write_file_atomically(folder / name, contents);
    written.push_back(folder / name);
  }
  write_slide_fold_table(folder / "folds.csv", report.fold_plans, label_of_groups(sets, options.class_names));
  written.push_back(folder / "folds.csv");
  return written;
}

}  // namespace mgap
