#pragma once

// Summaries of bound curves for tables and CSV: what a researcher compares between DU, CU and an
// optimized distribution.

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "mgap/bound.hpp"

namespace mgap {

struct BoundSummary {
  std::string distribution;
  double average_bound = 0.0;  // sum_t w_t B(t) over the targets
  double worst_bound = 0.0;    // max_t B(t) over the targets
  double worst_coverage = 0.0;  // min_t n(t) over the targets
  std::vector<double> test_mpps;
  std::vector<double> test_bound;  // B at each test mpp inside the domain
  // mean of B at the intermediate test mpps minus mean at the standard ones (positive = a gap)
  double intermediate_penalty = 0.0;
};

BoundSummary summarize_bound(const std::string& distribution, const BoundCurve& at_targets,
                             const std::vector<double>& target_weights,
                             const BoundCurve& at_test_mpps);

// Formats summaries as a fixed-width text table, one row per distribution.
std::string format_bound_table(const std::vector<BoundSummary>& summaries);

// Writes the tidy curves CSV `distribution,mpp,log2_mpp,bound,coverage,discrepancy_term`, one row
// per distribution and target, atomically.
void write_bound_curves_csv(const std::filesystem::path& path,
                            const std::vector<std::pair<std::string, BoundCurve>>& curves);

}  // namespace mgap
