#include "mgap/density_json.hpp"

#include <fmt/format.h>

#include "mgap/atomic_file.hpp"
#include "mgap/error.hpp"
#include "mgap/hash.hpp"
#include "mgap/json_schema.hpp"
#include "mgap/parse.hpp"

namespace mgap {

namespace {

nlohmann::json summary_to_json(const DensitySummary& summary) {
  nlohmann::json quantiles = nlohmann::json::array();
  for (std::size_t i = 0; i < summary.quantile_levels.size(); ++i) {
    quantiles.push_back({{"level", summary.quantile_levels[i]}, {"mpp", summary.quantiles_mpp[i]}});
  }
  auto bands_to_json = [](const std::vector<MppBandMass>& bands) {
    nlohmann::json array = nlohmann::json::array();
    for (const MppBandMass& band : bands) {
      array.push_back({{"lo_mpp", band.lo_mpp}, {"hi_mpp", band.hi_mpp}, {"mass", band.mass}});
    }
    return array;
  };
  return {{"mean_mpp", summary.mean_mpp},
          {"mean_log2_mpp", summary.mean_log2_mpp},
          {"quantiles", quantiles},
          {"octave_masses", bands_to_json(summary.octave_masses)},
          {"standard_mpp_masses", bands_to_json(summary.standard_mpp_masses)},
          {"mass_below_0.5_mpp", summary.mass_below_half_mpp},
          {"atom_mass", summary.atom_mass},
          {"entropy_nats", summary.has_entropy ? nlohmann::json(summary.entropy_nats)
                                               : nlohmann::json(nullptr)}};
}

template <typename T>
T required_field(const nlohmann::json& object, const std::string& key, const std::string& source) {
  return required_json_field<T>(object, key, source, "density");
}

}  // namespace

nlohmann::json density_to_json(const SamplingDensity& density, const nlohmann::json& provenance) {
  nlohmann::json atoms = nlohmann::json::array();
  for (const DensityAtom& atom : density.atoms()) {
    atoms.push_back({{"mpp", atom.mpp}, {"mass", atom.mass}});
  }
  return {{"schema", kDensitySchema},
          {"coordinate", to_string(density.coordinate())},
          {"domain_mpp", {density.domain().lo_mpp, density.domain().hi_mpp}},
          {"bins", {{"edges_mpp", density.edges_mpp()}, {"mass", density.bin_masses()}}},
          {"atoms", atoms},
          {"summary", summary_to_json(density.summary())},
          {"provenance", provenance.is_null() ? nlohmann::json::object() : provenance}};
}

DensityFile parse_density_json(const std::string& text, const std::string& source) {
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& error) {
    throw InputError(fmt::format("{}: not valid JSON ({})", source, error.what()));
  }
  check_json_schema(root, kDensitySchema, "density", source);

  Coordinate coordinate = Coordinate::kLog2Mpp;
  try {
    coordinate = coordinate_from_string(required_field<std::string>(root, "coordinate", source));
  } catch (const InputError& error) {
    throw InputError(fmt::format("{}: field 'coordinate': {}", source, error.what()));
  }
  const auto domain_values = required_field<std::vector<double>>(root, "domain_mpp", source);
  if (domain_values.size() != 2) {
    throw InputError(fmt::format("{}: domain_mpp must be [lo, hi], got {} values", source,
                                 domain_values.size()));
  }
  const MppDomain domain{domain_values[0], domain_values[1]};

  std::vector<double> edges;
  std::vector<double> masses;
  if (root.contains("bins") && !root.at("bins").is_null()) {
    const nlohmann::json& bins = root.at("bins");
    edges = required_field<std::vector<double>>(bins, "edges_mpp", source);
    masses = required_field<std::vector<double>>(bins, "mass", source);
  }
  std::vector<DensityAtom> atoms;
  if (root.contains("atoms")) {
    for (const nlohmann::json& atom : root.at("atoms")) {
      atoms.push_back({required_field<double>(atom, "mpp", source),
                       required_field<double>(atom, "mass", source)});
    }
  }

  try {
    SamplingDensity density(coordinate, domain, std::move(edges), std::move(masses),
                            std::move(atoms));
    nlohmann::json provenance =
        root.contains("provenance") ? root.at("provenance") : nlohmann::json::object();
    return {std::move(density), std::move(provenance), fnv1a_hex(text)};
  } catch (const InputError& error) {
    throw InputError(fmt::format("{}: {}", source, error.what()));
  }
}

DensityFile read_density_json(const std::filesystem::path& path) {
  return parse_density_json(read_text_file(path), path.string());
}

void write_density_json(const std::filesystem::path& path, const SamplingDensity& density,
                        const nlohmann::json& provenance) {
  write_file_atomically(path, density_to_json(density, provenance).dump(2) + "\n");
}

SamplingDensity resolve_density(const std::string& specification, const MppDomain& domain,
                                Coordinate coordinate, int num_bins) {
  if (specification == "du") {
    return make_discrete_uniform(domain, coordinate);
  }
  if (specification == "cu") {
    return make_continuous_uniform(domain, coordinate, num_bins);
  }
  const std::string point_prefix = "point:";
  if (specification.rfind(point_prefix, 0) == 0) {
    const std::vector<double> values =
        parse_double_list(specification.substr(point_prefix.size()), "point density");
    if (values.size() != 1) {
      throw InputError("invalid point density '" + specification + "'; write point:MPP, e.g. point:0.5");
    }
    return make_point(domain, coordinate, values.front());
  }
  if (!std::filesystem::exists(specification)) {
    throw InputError("density '" + specification +
                     "' is neither du, cu, point:MPP nor an existing JSON file");
  }
  return read_density_json(specification).density;
}

}  // namespace mgap
