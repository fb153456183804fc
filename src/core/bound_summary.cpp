#include "mgap/bound_summary.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "mgap/atomic_file.hpp"

namespace mgap {

BoundSummary summarize_bound(const std::string& distribution, const BoundCurve& at_targets,
                             const std::vector<double>& target_weights,
                             const BoundCurve& at_test_mpps) {
  BoundSummary summary;
  summary.distribution = distribution;
  for (std::size_t t = 0; t < at_targets.bound.size(); ++t) {
    summary.average_bound += target_weights[t] * at_targets.bound[t];
  }
  summary.worst_bound = *std::max_element(at_targets.bound.begin(), at_targets.bound.end());
  summary.worst_coverage = *std::min_element(at_targets.coverage.begin(), at_targets.coverage.end());
  summary.test_mpps = at_test_mpps.target_mpps;
  summary.test_bound = at_test_mpps.bound;

  double standard_sum = 0.0;
  double intermediate_sum = 0.0;
  int standard_count = 0;
  int intermediate_count = 0;
  for (std::size_t i = 0; i < summary.test_mpps.size(); ++i) {
    if (is_standard_mpp(summary.test_mpps[i])) {
      standard_sum += summary.test_bound[i];
      ++standard_count;
    } else {
      intermediate_sum += summary.test_bound[i];
      ++intermediate_count;
    }
  }
  summary.intermediate_penalty = (standard_count > 0 && intermediate_count > 0)
                                     ? intermediate_sum / intermediate_count -
                                           standard_sum / standard_count
                                     : std::nan("");
  return summary;
}

std::string format_bound_table(const std::vector<BoundSummary>& summaries) {
  if (summaries.empty()) {
    return {};
  }
  std::string table = fmt::format("{:<12} {:>9} {:>9} {:>9}", "distribution", "avg bound",
                                  "max bound", "min cover");
  for (const double mpp : summaries.front().test_mpps) {
    table += fmt::format(" {:>8}", fmt::format("B@{}", format_mpp(mpp)));
  }
  table += fmt::format(" {:>9}\n", "gap");
  for (const BoundSummary& summary : summaries) {
    table += fmt::format("{:<12} {:>9.5f} {:>9.5f} {:>9.5f}", summary.distribution,
                         summary.average_bound, summary.worst_bound, summary.worst_coverage);
    for (const double value : summary.test_bound) {
      table += fmt::format(" {:>8.5f}", value);
    }
    table += fmt::format(" {:>+9.5f}\n", summary.intermediate_penalty);
  }
  table += "gap: mean bound at intermediate test mpps minus mean at standard mpps\n";
  return table;
}

void write_bound_curves_csv(const std::filesystem::path& path,
                            const std::vector<std::pair<std::string, BoundCurve>>& curves) {
  std::string text = "distribution,mpp,log2_mpp,bound,coverage,discrepancy_term\n";
  for (const auto& [name, curve] : curves) {
    for (std::size_t t = 0; t < curve.target_mpps.size(); ++t) {
      text += fmt::format("{},{:.17g},{:.17g},{:.17g},{:.17g},{:.17g}\n", name, curve.target_mpps[t],
                          std::log2(curve.target_mpps[t]), curve.bound[t], curve.coverage[t],
                          curve.discrepancy_term[t]);
    }
  }
  write_file_atomically(path, text);
}

}  // namespace mgap
