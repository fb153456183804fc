#pragma once

// The discrepancy model that the optimizer uses: d(u, v) between log2 mpps u and v, and its
// normalized form delta = d / scale. Read from an `mgap.discrepancy/v1` file. This header is kept
// free of Eigen and JSON includes so the optimizer can include it cheaply.
//
// - power_law: d(u, v) = a |u - v|^b.
// - table: the measured matrix, interpolated bilinearly in (u, v) inside the measured range of
//   log2 mpps and extended by the fitted power law outside it. d(u, u) = 0 exactly.
//   NOTE: inside a grid cell that straddles the diagonal, bilinear interpolation between the
//   zero diagonal corners and the off-diagonal corners gives d > 0 at u = v (off the nodes);
//   only u == v exactly returns 0.
// Normalization: d_octave (scale = a, the power law's value one octave apart), error_units
// (scale = 1, for proxy-a and transfer-gap) or user (a scale given on the command line).

#include <filesystem>
#include <string>
#include <vector>

#include "mgap/transfer_model.hpp"

namespace mgap {

enum class DiscrepancyModelKind { kPowerLaw, kTable };

std::string to_string(DiscrepancyModelKind kind);
// Accepts "power_law" (or "power-law") and "table"; throws InputError otherwise.
DiscrepancyModelKind discrepancy_model_kind_from_string(const std::string& text);

enum class NormalizationKind {
  kOctave,      // "d_octave": scale = model value at |u - v| = 1
  kErrorUnits,  // "error_units": scale = 1, the estimator is already an error rate
  kUser,        // "user": scale set explicitly
};

std::string to_string(NormalizationKind kind);
// Accepts "d_octave", "error_units" and "user"; throws InputError otherwise.
NormalizationKind normalization_kind_from_string(const std::string& text);

struct DiscrepancyModel {
  DiscrepancyModelKind kind = DiscrepancyModelKind::kPowerLaw;
  double a = 1.0;  // power-law amplitude, in the estimator's units
  double b = 1.0;  // power-law exponent, in [0.2, 3]
  NormalizationKind normalization = NormalizationKind::kOctave;
  double scale = 1.0;  // delta = d / scale, > 0

  // Table model only: grid of log2 mpps [J], increasing, and d at the grid points, row-major
  // [J * J] (entry i * J + j is d(log2_mpps[i], log2_mpps[j])).
  std::vector<double> log2_mpps;
  std::vector<double> table;

  std::string estimator;    // for provenance, e.g. "mmd"
  std::string source_hash;  // fnv1a_hex of the JSON file it was read from; empty otherwise

  // Throws InputError naming the first invalid field.
  void validate() const;
};

// d(u_x, u_t) in the estimator's units. Symmetric, >= 0, 0 at u_x == u_t.
double model_discrepancy(const DiscrepancyModel& model, double log2_mpp_x, double log2_mpp_t);

// delta(u_x, u_t) = d(u_x, u_t) / scale.
double normalized_discrepancy(const DiscrepancyModel& model, double log2_mpp_x,
                              double log2_mpp_t);

// delta of the transfer kernel from `model`, with the model's parameters, normalization and
// `source` (a file name, for provenance) in its description.
NormalizedDiscrepancy to_normalized_discrepancy(const DiscrepancyModel& model,
                                                const std::string& source);

// Reads the model of an `mgap.discrepancy/v1` file: model kind, a, b, normalization and scale,
// and for the table model the matrix with its mpps. Throws InputError for an unknown schema
// major version, missing fields or invalid values, naming the file.
DiscrepancyModel read_discrepancy_json(const std::filesystem::path& path);
DiscrepancyModel parse_discrepancy_json(const std::string& text, const std::string& source);

}  // namespace mgap
