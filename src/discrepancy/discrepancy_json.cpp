#include "mgap/discrepancy_json.hpp"

#include <fmt/format.h>

#include <cmath>

#include "mgap/atomic_file.hpp"
#include "mgap/error.hpp"
#include "mgap/hash.hpp"
#include "mgap/json_schema.hpp"
#include "mgap/version.hpp"

namespace mgap {

namespace {

nlohmann::json matrix_to_json(const Eigen::MatrixXd& matrix) {
  nlohmann::json rows = nlohmann::json::array();
  for (Eigen::Index i = 0; i < matrix.rows(); ++i) {
    nlohmann::json row = nlohmann::json::array();
    for (Eigen::Index j = 0; j < matrix.cols(); ++j) {
      row.push_back(matrix(i, j));
    }
    rows.push_back(row);
  }
  return rows;
}

nlohmann::json fit_to_json(const PowerLawFit& fit) {
  nlohmann::json residuals = nlohmann::json::array();
  for (const PowerLawResidual& residual : fit.residuals) {
    residuals.push_back({{"mpp_a", residual.mpp_a},
                         {"mpp_b", residual.mpp_b},
                         {"separation_octaves", residual.separation},
                         {"observed", residual.observed},
                         {"fitted", residual.fitted},
                         {"residual", residual.observed - residual.fitted},
                         {"weight", residual.weight}});
  }
  return {{"a", fit.a},
          {"b", fit.b},
          {"a_std_error", fit.a_std_error},
          {"b_std_error", fit.b_std_error},
          {"a_interval", {fit.a_ci_low, fit.a_ci_high}},
          {"b_interval", {fit.b_ci_low, fit.b_ci_high}},
          {"r_squared", fit.r_squared},
          {"b_at_bound", fit.b_at_bound},
          {"initial_a", fit.initial_a},
          {"initial_b", fit.initial_b},
          {"solver", {{"algorithm", "nlopt LD_LBFGS"},
                      {"status", fit.solver_status},
                      {"converged", fit.converged},
                      {"evaluations", fit.num_evaluations}}},
          {"residuals", residuals}};
}

template <typename T>
T required_field(const nlohmann::json& object, const std::string& key, const std::string& source) {
  return required_json_field<T>(object, key, source, "discrepancy");
}

}  // namespace

nlohmann::json discrepancy_to_json(const DiscrepancyReport& report, const PowerLawFit& fit,
                                   const DiscrepancyModel& model,
                                   const nlohmann::json& provenance) {
  nlohmann::json log2_mpps = nlohmann::json::array();
  for (const double mpp : report.mpps) {
    log2_mpps.push_back(std::log2(mpp));
  }
  nlohmann::json details = nlohmann::json::object();
  if (report.bandwidths.size() > 0) {
    details["bandwidths"] = matrix_to_json(report.bandwidths);
    details["bandwidth_fallbacks"] = report.num_bandwidth_fallbacks;
  }
  if (report.estimator == DiscrepancyEstimator::kFrechet) {
    details["clamped_eigenvalues"] = report.num_clamped_eigenvalues;
  }
  if (is_error_units(report.estimator)) {
    details["unconverged_fits"] = report.num_unconverged_fits;
  }

  nlohmann::json model_json = fit_to_json(fit);
  model_json["kind"] = to_string(model.kind);
  nlohmann::json root = {
      {"schema", kDiscrepancySchema},
      {"estimator", to_string(report.estimator)},
      {"units", is_error_units(report.estimator) ? "error" : "estimator"},
      {"mpps", report.mpps},
      {"log2_mpps", log2_mpps},
      {"matrix", matrix_to_json(report.matrix)},
      {"ci_low", matrix_to_json(report.ci_low)},
      {"ci_high", matrix_to_json(report.ci_high)},
      {"confidence_level", report.confidence_level},
      {"sample_counts", report.sample_counts},
      {"pair_counts", matrix_to_json(report.pair_counts)},
      {"embedding_dim", report.embedding_dim},
      {"estimator_details", details},
      {"normalization", {{"kind", to_string(model.normalization)}, {"scale", model.scale}}},
      {"model", model_json},
      {"warnings", report.warnings}};
  if (report.asymmetric_matrix.size() > 0) {
    root["asymmetric_matrix"] = matrix_to_json(report.asymmetric_matrix);
  }
  nlohmann::json provenance_json = {{"program_version", kVersion},
                                    {"seed", report.seed},
                                    {"bootstrap", report.num_bootstrap},
                                    {"manifest", report.manifest_path},
                                    {"manifest_hash", report.manifest_hash}};
  for (const auto& item : provenance.items()) {
    provenance_json[item.key()] = item.value();
  }
  root["provenance"] = provenance_json;
  return root;
}

void write_discrepancy_json(const std::filesystem::path& path, const DiscrepancyReport& report,
                            const PowerLawFit& fit, const DiscrepancyModel& model,
                            const nlohmann::json& provenance) {
  write_file_atomically(path, discrepancy_to_json(report, fit, model, provenance).dump(2) + "\n");
}

std::string discrepancy_csv(const DiscrepancyReport& report) {
  std::string text = "mpp_a,mpp_b,estimator,value,ci_low,ci_high\n";
  const std::string estimator = to_string(report.estimator);
  const auto size = static_cast<Eigen::Index>(report.mpps.size());
  for (Eigen::Index i = 0; i < size; ++i) {
    for (Eigen::Index j = i + 1; j < size; ++j) {
      text += fmt::format("{},{},{},{},{},{}\n", report.mpps[static_cast<std::size_t>(i)],
                          report.mpps[static_cast<std::size_t>(j)], estimator, report.matrix(i, j),
                          report.ci_low(i, j), report.ci_high(i, j));
    }
  }
  return text;
}

void write_discrepancy_csv(const std::filesystem::path& path, const DiscrepancyReport& report) {
  write_file_atomically(path, discrepancy_csv(report));
}

DiscrepancyModel parse_discrepancy_json(const std::string& text, const std::string& source) {
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& error) {
    throw InputError(fmt::format("{}: not valid JSON ({})", source, error.what()));
  }
  check_json_schema(root, kDiscrepancySchema, "discrepancy", source);
  const nlohmann::json model_json = required_field<nlohmann::json>(root, "model", source);
  const nlohmann::json normalization = required_field<nlohmann::json>(root, "normalization", source);

  DiscrepancyModel model;
  model.kind = discrepancy_model_kind_from_string(
      required_field<std::string>(model_json, "kind", source));
  model.a = required_field<double>(model_json, "a", source);
  model.b = required_field<double>(model_json, "b", source);
  model.normalization = normalization_kind_from_string(
      required_field<std::string>(normalization, "kind", source));
  model.scale = required_field<double>(normalization, "scale", source);
  model.estimator = required_field<std::string>(root, "estimator", source);
  model.source_hash = fnv1a_hex(text);
  if (model.kind == DiscrepancyModelKind::kTable) {
    const auto mpps = required_field<std::vector<double>>(root, "mpps", source);
    const auto matrix = required_field<std::vector<std::vector<double>>>(root, "matrix", source);
    for (const double mpp : mpps) {
      if (!(mpp > 0.0)) {
        throw InputError(fmt::format("{}: mpp {} in 'mpps' must be positive", source, mpp));
      }
      model.log2_mpps.push_back(std::log2(mpp));
    }
    for (const auto& row : matrix) {
      if (row.size() != mpps.size()) {
        throw InputError(fmt::format("{}: 'matrix' rows must have {} entries, one per mpp",
                                     source, mpps.size()));
      }
      model.table.insert(model.table.end(), row.begin(), row.end());
    }
  }
  try {
    model.validate();
  } catch (const InputError& error) {
    throw InputError(fmt::format("{}: {}", source, error.what()));
  }
  return model;
}

DiscrepancyModel read_discrepancy_json(const std::filesystem::path& path) {
  return parse_discrepancy_json(read_text_file(path), path.string());
}

}  // namespace mgap
