#include "mgap/evaluation_protocol.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <optional>
#include <set>
#include <thread>

#include "mgap/error.hpp"
#include "mgap/magnification.hpp"
#include "mgap/rankme.hpp"
#include "mgap/blas.hpp"
#include "numpy_sum.hpp"
#include "protocol_folds.hpp"

namespace mgap {
namespace {

// Two mpps are the same magnification when they agree to this relative tolerance (the values come
// from file names and JSON, so they may differ in the last digits).
constexpr double kMppRelativeTolerance = 1e-9;

bool same_mpp(double a, double b) {
  return std::abs(a - b) <= kMppRelativeTolerance * std::max(std::abs(a), std::abs(b));
}

const MppEmbeddings* find_set(const std::vector<MppEmbeddings>& sets, double mpp,
                              const char* role) {
  for (const auto& set : sets) {
    if (same_mpp(set.mpp, mpp)) {
      return &set;
    }
  }
  std::string available;
  for (const auto& set : sets) {
    available += (available.empty() ? "" : ", ") + format_mpp(set.mpp);
  }
  throw InputError(fmt::format("{} mpp {} has no embeddings (available: {}); pick mpps from the "
                               "input or add embeddings at that mpp",
                               role, format_mpp(mpp), available));
}

// Checks shapes, labels and groups of every set and returns the number of classes.
int validate_sets(const std::vector<MppEmbeddings>& sets) {
  if (sets.empty()) {
    throw InputError("evaluation: no embeddings given; pass embeddings at one mpp or more");
  }
  const Eigen::Index dim = sets.front().embeddings.cols();
  int max_label = -1;
  std::set<double> seen_mpps;
  for (const auto& set : sets) {
    const std::string mpp = format_mpp(set.mpp);
    const auto num_rows = static_cast<std::size_t>(set.embeddings.rows());
    if (!(set.mpp > 0.0) || !std::isfinite(set.mpp)) {
      throw InputError(fmt::format("evaluation: mpp {} is invalid; use a finite mpp > 0", set.mpp));
    }
    for (const double other : seen_mpps) {
      if (same_mpp(other, set.mpp)) {
        throw InputError(fmt::format("evaluation: two embedding sets at {} mpp; pass one per mpp", mpp));
      }
    }
    seen_mpps.insert(set.mpp);
    if (set.embeddings.cols() != dim) {
      throw InputError(fmt::format(
          "evaluation: embeddings at {} mpp have dimension {} but those at {} mpp have {}; use one "
          "encoder for every mpp",
          mpp, set.embeddings.cols(), format_mpp(sets.front().mpp), dim));
    }
    if (num_rows == 0) {
      throw InputError(fmt::format("evaluation: no embeddings at {} mpp", mpp));
    }
    if (set.labels.size() != num_rows || set.groups.size() != num_rows) {
      throw InputError(fmt::format(
          "evaluation: at {} mpp there are {} embeddings, {} labels and {} group ids; pass one of "
          "each per tile",
          mpp, num_rows, set.labels.size(), set.groups.size()));
    }
    const auto missing = std::count_if(set.labels.begin(), set.labels.end(),
                                       [](int label) { return label < 0; });
    if (missing > 0) {
      throw InputError(fmt::format(
          "evaluation: {} of the {} tiles at {} mpp have no label; label every tile or leave the "
          "unlabelled ones out of the manifest",
          missing, num_rows, mpp));
    }
    const auto ungrouped = std::count_if(set.groups.begin(), set.groups.end(),
                                         [](const std::string& group) { return group.empty(); });
    if (ungrouped > 0) {
      throw InputError(fmt::format(
          "evaluation: {} of the {} tiles at {} mpp have no group (slide or patient) id; folds "
          "need one for every tile",
          ungrouped, num_rows, mpp));
    }
    if (!set.embeddings.allFinite()) {
      throw InputError(fmt::format("evaluation: the embeddings at {} mpp contain NaN or infinite "
                                   "values",
                                   mpp));
    }
    max_label = std::max(max_label, *std::max_element(set.labels.begin(), set.labels.end()));
  }
  if (max_label < 1) {
    throw InputError("evaluation: every tile has the same label; the protocol needs at least two "
                     "classes");
  }
  return max_label + 1;
}

std::vector<double> sorted_unique_mpps(std::vector<double> mpps) {
  std::sort(mpps.begin(), mpps.end());
  std::vector<double> unique;
  for (const double mpp : mpps) {
    if (unique.empty() || !same_mpp(unique.back(), mpp)) {
      unique.push_back(mpp);
    }
  }
  return unique;
}

MetricSummary summarize(const std::vector<double>& values) {
  return {detail::numpy_mean(values), detail::numpy_std(values)};
}

ClassifierSummary summarize_classifier(ClassifierKind classifier,
                                       const std::vector<FoldResult>& results,
                                       const std::vector<double>& test_mpps) {
  ClassifierSummary summary;
  summary.classifier = classifier;
  std::vector<double> balanced_means;
  std::vector<double> intermediate;
  std::vector<double> standard;
  for (const double mpp : test_mpps) {
    std::vector<double> accuracy;
    std::vector<double> balanced;
    std::vector<double> macro;
    std::vector<double> weighted;
    for (const FoldResult& result : results) {
      if (result.classifier == classifier && same_mpp(result.test_mpp, mpp)) {
        accuracy.push_back(result.metrics.accuracy);
        balanced.push_back(result.metrics.balanced_accuracy);
        macro.push_back(result.metrics.f1_macro);
        weighted.push_back(result.metrics.f1_weighted);
      }
    }
    MppSummary row;
    row.test_mpp = mpp;
    row.accuracy = summarize(accuracy);
    row.balanced_accuracy = summarize(balanced);
    row.f1_macro = summarize(macro);
    row.f1_weighted = summarize(weighted);
    summary.per_mpp.push_back(row);
    balanced_means.push_back(row.balanced_accuracy.mean);

    const auto& intermediates = intermediate_mpps();
    if (is_standard_mpp(mpp)) {
      standard.push_back(row.balanced_accuracy.mean);
    } else if (std::any_of(intermediates.begin(), intermediates.end(),
                           [mpp](double other) { return same_mpp(mpp, other); })) {
      intermediate.push_back(row.balanced_accuracy.mean);
    }
  }
  summary.mean_balanced_accuracy = detail::numpy_mean(balanced_means);
  summary.min_balanced_accuracy = *std::min_element(balanced_means.begin(), balanced_means.end());
  summary.has_intermediate_penalty = !intermediate.empty() && !standard.empty();
  if (summary.has_intermediate_penalty) {
    summary.intermediate_penalty = detail::numpy_mean(intermediate) - detail::numpy_mean(standard);
  }
  return summary;
}

// One unit of parallel work: one classifier on one fold.
struct Task {
  ClassifierKind classifier;
  int fold;
};

}  // namespace

std::string to_string(ClassifierKind kind) {
  return kind == ClassifierKind::kKnn ? "knn" : "logreg";
}

ClassifierKind classifier_kind_from_string(const std::string& text) {
  if (text == "logreg" || text == "logistic_regression" || text == "linear") {
    return ClassifierKind::kLogisticRegression;
  }
  if (text == "knn") {
    return ClassifierKind::kKnn;
  }
  throw InputError(fmt::format("unknown classifier '{}'; use logreg or knn", text));
}

std::vector<double> default_inverse_regularization_grid() {
  std::vector<double> grid;
  for (int exponent = -4; exponent <= 4; ++exponent) {
    grid.push_back(std::pow(10.0, exponent));
  }
  return grid;
}

std::vector<int> default_num_neighbors_grid() { return {1, 3, 5, 10, 20, 40, 80}; }

void EvaluationOptions::validate() const {
  if (classifiers.empty()) {
    throw InputError("evaluation: no classifier selected; use logreg, knn or both");
  }
  for (std::size_t i = 0; i < classifiers.size(); ++i) {
    if (std::count(classifiers.begin(), classifiers.end(), classifiers[i]) > 1) {
      throw InputError(fmt::format("evaluation: classifier {} is listed twice; list each once",
                                   to_string(classifiers[i])));
    }
  }
  folds.validate();
  for (const double c : inverse_regularization_grid) {
    if (!(c > 0.0) || !std::isfinite(c)) {
      throw InputError(fmt::format("evaluation: C = {} in the grid is invalid; use finite C > 0", c));
    }
  }
  for (const int k : num_neighbors_grid) {
    if (k < 1) {
      throw InputError(fmt::format("evaluation: k = {} in the grid is invalid; use k >= 1", k));
    }
  }
  const bool has_logreg = std::count(classifiers.begin(), classifiers.end(),
                                     ClassifierKind::kLogisticRegression) > 0;
  const bool has_knn = std::count(classifiers.begin(), classifiers.end(), ClassifierKind::kKnn) > 0;
  if ((has_logreg && inverse_regularization_grid.empty()) ||
      (has_knn && num_neighbors_grid.empty())) {
    throw InputError("evaluation: a selected classifier has an empty hyperparameter grid");
  }
  if (num_threads < 0) {
    throw InputError(fmt::format("evaluation: num_threads = {} is invalid; use 0 (all cores) or "
                                 "more",
                                 num_threads));
  }
  logistic_regression.validate();
}

std::vector<FoldPlan> make_fold_plans(const std::vector<MppEmbeddings>& sets,
                                      const FoldPlanOptions& options) {
  validate_sets(sets);
  std::vector<int> labels;
  std::vector<std::string> groups;
  for (const auto& set : sets) {
    labels.insert(labels.end(), set.labels.begin(), set.labels.end());
    groups.insert(groups.end(), set.groups.begin(), set.groups.end());
  }
  return make_fold_plans(labels, groups, options);
}

EvaluationReport run_evaluation(const std::vector<MppEmbeddings>& sets,
                                const EvaluationOptions& options,
                                const std::vector<FoldPlan>& plans) {
  options.validate();
  const int num_classes = validate_sets(sets);

  EvaluationReport report;
  report.num_classes = num_classes;
  report.train_mpps =
      sorted_unique_mpps(options.train_mpps.empty() ? standard_mpps() : options.train_mpps);
  std::vector<double> all_mpps;
  for (const auto& set : sets) {
    all_mpps.push_back(set.mpp);
  }
  report.test_mpps = sorted_unique_mpps(options.test_mpps.empty() ? all_mpps : options.test_mpps);
  std::vector<const MppEmbeddings*> train_sets;
  std::vector<const MppEmbeddings*> test_sets;
  for (const double mpp : report.train_mpps) {
    train_sets.push_back(find_set(sets, mpp, "training"));
  }
  for (const double mpp : report.test_mpps) {
    test_sets.push_back(find_set(sets, mpp, "test"));
  }

  const std::vector<FoldPlan> fold_plans = plans.empty() ? make_fold_plans(sets, options.folds) : plans;
  report.num_folds = static_cast<int>(fold_plans.size());
  report.fold_plans = fold_plans;
  spdlog::info("evaluation: {} folds, {} classes, training mpps {}, test mpps {}",
               report.num_folds, num_classes, fmt::join(report.train_mpps, ", "),
               fmt::join(report.test_mpps, ", "));

  // Gather every fold first (cheap, and errors in the plan surface before any fitting).
  std::vector<detail::FoldData> fold_data;
  for (int fold = 0; fold < report.num_folds; ++fold) {
    fold_data.push_back(detail::gather_fold(fold_plans[static_cast<std::size_t>(fold)], fold,
                                            train_sets, test_sets, num_classes,
                                            options.class_names));
    for (std::size_t t = 0; t < test_sets.size(); ++t) {
      std::set<int> present(fold_data.back().test_labels[t].begin(),
                            fold_data.back().test_labels[t].end());
      for (int c = 0; c < num_classes; ++c) {
        if (present.count(c) == 0) {
          report.warnings.push_back(fmt::format(
              "fold {}: class {} has no test tiles at {} mpp; balanced accuracy there averages "
              "the classes present",
              fold, detail::class_name(options.class_names, c), format_mpp(test_sets[t]->mpp)));
        }
      }
    }
  }

  std::vector<Task> tasks;
  for (const ClassifierKind classifier : options.classifiers) {
    for (int fold = 0; fold < report.num_folds; ++fold) {
      tasks.push_back({classifier, fold});
    }
  }
  std::vector<detail::ClassifierOutcome> outcomes(tasks.size());
  std::vector<std::exception_ptr> errors(tasks.size());
  std::atomic<std::size_t> next_task{0};
  std::atomic<std::size_t> num_done{0};
  auto worker = [&]() {
    for (std::size_t t = next_task++; t < tasks.size(); t = next_task++) {
      try {
        const auto& data = fold_data[static_cast<std::size_t>(tasks[t].fold)];
        outcomes[t] = tasks[t].classifier == ClassifierKind::kKnn
                          ? detail::run_knn_fold(data, options, num_classes)
                          : detail::run_logistic_regression_fold(data, options, num_classes);
        spdlog::info("evaluation: {} fold {} done ({}/{}), chose {}",
                     to_string(tasks[t].classifier), tasks[t].fold, ++num_done, tasks.size(),
                     outcomes[t].selection.chosen);
      } catch (...) {
        errors[t] = std::current_exception();
      }
    }
  };
  const unsigned hardware = std::max(1U, std::thread::hardware_concurrency());
  const std::size_t num_threads = std::min<std::size_t>(
      tasks.size(), options.num_threads > 0 ? static_cast<std::size_t>(options.num_threads) : hardware);
  // Parallelism comes from the folds, so each BLAS call stays on its worker thread.
  const std::optional<detail::SingleThreadedBlas> single_threaded_blas =
      num_threads > 1 ? std::make_optional<detail::SingleThreadedBlas>() : std::nullopt;
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < num_threads; ++i) {
    threads.emplace_back(worker);
  }
  worker();
  for (auto& thread : threads) {
    thread.join();
  }
  for (const auto& error : errors) {
    if (error) {
      std::rethrow_exception(error);
    }
  }

  for (auto& outcome : outcomes) {
    report.selections.push_back(std::move(outcome.selection));
    report.warnings.insert(report.warnings.end(), outcome.warnings.begin(), outcome.warnings.end());
    for (auto& result : outcome.results) {
      report.fold_results.push_back(std::move(result));
    }
  }
  for (const auto& warning : report.warnings) {
    spdlog::warn("{}", warning);
  }
  for (const ClassifierKind classifier : options.classifiers) {
    report.summaries.push_back(
        summarize_classifier(classifier, report.fold_results, report.test_mpps));
  }
  for (const MppEmbeddings* set : test_sets) {
    report.rankme.push_back({set->mpp, rankme(set->embeddings),
                             static_cast<int>(set->embeddings.rows()),
                             static_cast<int>(set->embeddings.cols())});
  }
  return report;
}

}  // namespace mgap
