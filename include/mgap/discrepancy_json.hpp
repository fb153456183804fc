#pragma once

// Writing discrepancy results: `mgap.discrepancy/v1` JSON and a tidy CSV. The reader of the model
// part is in discrepancy_model.hpp, which stays light for the optimizer.
//
// JSON fields: schema, estimator, mpps, log2_mpps, matrix, ci_low, ci_high (row-major nested
// arrays, [J][J]), confidence_level, sample_counts [J], pair_counts [J][J], embedding_dim,
// asymmetric_matrix (transfer-gap only), estimator_details, normalization {kind, scale},
// model {kind, a, b, intervals, r_squared, residuals, solver}, fit, warnings and provenance
// (program, version, seed, bootstrap count, manifest path and fnv1a hash). docs/discrepancy.md
// lists every field.

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "mgap/discrepancy_matrix.hpp"
#include "mgap/discrepancy_model.hpp"
#include "mgap/power_law_fit.hpp"

namespace mgap {

inline constexpr const char* kDiscrepancySchema = "mgap.discrepancy/v1";

// Serializes the report, the power-law fit and the model; `provenance` entries (for example the
// program name and options) are merged into the provenance object.
nlohmann::json discrepancy_to_json(const DiscrepancyReport& report, const PowerLawFit& fit,
                                   const DiscrepancyModel& model,
                                   const nlohmann::json& provenance = nlohmann::json::object());

void write_discrepancy_json(const std::filesystem::path& path, const DiscrepancyReport& report,
                            const PowerLawFit& fit, const DiscrepancyModel& model,
                            const nlohmann::json& provenance = nlohmann::json::object());

// Tidy CSV, one row per pair i < j: mpp_a,mpp_b,estimator,value,ci_low,ci_high.
std::string discrepancy_csv(const DiscrepancyReport& report);
void write_discrepancy_csv(const std::filesystem::path& path, const DiscrepancyReport& report);

}  // namespace mgap
