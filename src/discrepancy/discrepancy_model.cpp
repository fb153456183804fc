#include "mgap/discrepancy_model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "mgap/error.hpp"

namespace mgap {

namespace {

// Exponent bounds of the power law (power_law_fit.hpp repeats them for the fit).
constexpr double kMinExponent = 0.2;
constexpr double kMaxExponent = 3.0;

double power_law(const DiscrepancyModel& model, double log2_mpp_x, double log2_mpp_t) {
  return model.a * std::pow(std::abs(log2_mpp_x - log2_mpp_t), model.b);
}

// Index k of the grid cell [grid[k], grid[k + 1]] that contains `value` (inside the grid).
std::size_t cell_index(const std::vector<double>& grid, double value) {
  const auto upper = std::upper_bound(grid.begin(), grid.end(), value);
  const auto index = static_cast<std::size_t>(std::distance(grid.begin(), upper));
  return std::clamp<std::size_t>(index, 1, grid.size() - 1) - 1;
}

double table_model(const DiscrepancyModel& model, double x, double t) {
  const std::vector<double>& grid = model.log2_mpps;
  if (x < grid.front() || x > grid.back() || t < grid.front() || t > grid.back()) {
    return power_law(model, x, t);
  }
  const std::size_t size = grid.size();
  const std::size_t i = cell_index(grid, x);
  const std::size_t j = cell_index(grid, t);
  const double fx = (x - grid[i]) / (grid[i + 1] - grid[i]);
  const double ft = (t - grid[j]) / (grid[j + 1] - grid[j]);
  auto at = [&](std::size_t row, std::size_t col) { return model.table[row * size + col]; };
  return (1.0 - fx) * (1.0 - ft) * at(i, j) + fx * (1.0 - ft) * at(i + 1, j) +
         (1.0 - fx) * ft * at(i, j + 1) + fx * ft * at(i + 1, j + 1);
}

}  // namespace

std::string to_string(DiscrepancyModelKind kind) {
  return kind == DiscrepancyModelKind::kPowerLaw ? "power_law" : "table";
}

DiscrepancyModelKind discrepancy_model_kind_from_string(const std::string& text) {
  if (text == "power_law" || text == "power-law") {
    return DiscrepancyModelKind::kPowerLaw;
  }
  if (text == "table") {
    return DiscrepancyModelKind::kTable;
  }
  throw InputError(fmt::format("unknown discrepancy model '{}'; use power-law or table", text));
}

std::string to_string(NormalizationKind kind) {
  switch (kind) {
    case NormalizationKind::kOctave:
      return "d_octave";
    case NormalizationKind::kErrorUnits:
      return "error_units";
    case NormalizationKind::kUser:
      return "user";
  }
  return "unknown";
}

NormalizationKind normalization_kind_from_string(const std::string& text) {
  for (const NormalizationKind kind :
       {NormalizationKind::kOctave, NormalizationKind::kErrorUnits, NormalizationKind::kUser}) {
    if (text == to_string(kind)) {
      return kind;
    }
  }
  throw InputError(fmt::format("unknown normalization '{}'; use d_octave, error_units or user",
                               text));
}

void DiscrepancyModel::validate() const {
  if (!(a > 0.0) || !std::isfinite(a)) {
    throw InputError(fmt::format("power-law amplitude a = {} must be positive and finite", a));
  }
  if (!(b >= kMinExponent && b <= kMaxExponent)) {
    throw InputError(fmt::format("power-law exponent b = {} must lie in [{}, {}]", b,
                                 kMinExponent, kMaxExponent));
  }
  if (!(scale > 0.0) || !std::isfinite(scale)) {
    throw InputError(fmt::format("normalization scale {} must be positive and finite", scale));
  }
  if (kind != DiscrepancyModelKind::kTable) {
    return;
  }
  const std::size_t size = log2_mpps.size();
  if (size < 2 || table.size() != size * size) {
    throw InputError(fmt::format("a table model needs at least 2 mpps and a {} x {} matrix; got "
                                 "{} values",
                                 size, size, table.size()));
  }
  for (std::size_t k = 1; k < size; ++k) {
    if (!(log2_mpps[k] > log2_mpps[k - 1])) {
      throw InputError("the table model's mpps must be strictly increasing");
    }
  }
  for (const double value : table) {
    if (!std::isfinite(value) || value < 0.0) {
      throw InputError(fmt::format("table discrepancy {} must be finite and >= 0", value));
    }
  }
}

double model_discrepancy(const DiscrepancyModel& model, double log2_mpp_x, double log2_mpp_t) {
  if (log2_mpp_x == log2_mpp_t) {
    return 0.0;
  }
  if (model.kind == DiscrepancyModelKind::kTable) {
    return table_model(model, log2_mpp_x, log2_mpp_t);
  }
  return power_law(model, log2_mpp_x, log2_mpp_t);
}

NormalizedDiscrepancy to_normalized_discrepancy(const DiscrepancyModel& model,
                                                const std::string& source) {
  NormalizedDiscrepancy result;
  result.description = {{"model", to_string(model.kind)},
                        {"a", model.a},
                        {"b", model.b},
                        {"normalization", to_string(model.normalization)},
                        {"scale", model.scale},
                        {"estimator", model.estimator},
                        {"source", source},
                        {"source_hash", model.source_hash}};
  result.delta = [model](double u_x, double u_t) {
    return normalized_discrepancy(model, u_x, u_t);
  };
  return result;
}

double normalized_discrepancy(const DiscrepancyModel& model, double log2_mpp_x,
                              double log2_mpp_t) {
  return model_discrepancy(model, log2_mpp_x, log2_mpp_t) / model.scale;
}

}  // namespace mgap
