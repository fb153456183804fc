#pragma once

// Reading and writing sampling densities as `mgap.density/v1` JSON (see docs/formats.md).

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "mgap/density.hpp"

namespace mgap {

inline constexpr const char* kDensitySchema = "mgap.density/v1";

struct DensityFile {
  SamplingDensity density;
  nlohmann::json provenance;  // as stored; an empty object when the file has none
  std::string content_hash;   // fnv1a_hex of the file's bytes
};

// Serializes the density, its summary statistics and `provenance` (stored verbatim).
nlohmann::json density_to_json(const SamplingDensity& density, const nlohmann::json& provenance);

// Parses `mgap.density/v1` JSON. `source` names the input in error messages. Throws InputError for
// an unknown schema or major version, missing fields, or an invalid distribution.
DensityFile parse_density_json(const std::string& text, const std::string& source);
DensityFile read_density_json(const std::filesystem::path& path);

// Writes the JSON atomically, pretty-printed.
void write_density_json(const std::filesystem::path& path, const SamplingDensity& density,
                        const nlohmann::json& provenance);

// Resolves a density named on a command line: "du" (the four standard mpps), "cu" (continuous
// uniform in `coordinate` on `num_bins` bins), "point:MPP", or the path of a density JSON file.
SamplingDensity resolve_density(const std::string& specification, const MppDomain& domain,
                                Coordinate coordinate, int num_bins);

}  // namespace mgap
