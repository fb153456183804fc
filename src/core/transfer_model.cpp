#include "mgap/transfer_model.hpp"

#include <fmt/format.h>

#include <cmath>

#include "mgap/error.hpp"

namespace mgap {

namespace {
// Bounds of the power-law exponent b: below 0.2 the model is nearly a step, above 3 it is flat
// for nearby mpps and explodes across the domain; neither describes measured discrepancies.
constexpr double kMinPowerLawExponent = 0.2;
constexpr double kMaxPowerLawExponent = 3.0;
}  // namespace

std::string to_string(KernelKind kind) {
  return kind == KernelKind::kRatio ? "ratio" : "discrepancy";
}

KernelKind kernel_kind_from_string(const std::string& text) {
  if (text == "ratio") {
    return KernelKind::kRatio;
  }
  if (text == "discrepancy") {
    return KernelKind::kDiscrepancy;
  }
  throw InputError("unknown kernel '" + text + "'; use ratio or discrepancy");
}

NormalizedDiscrepancy NormalizedDiscrepancy::power_law(double a, double b, double scale) {
  if (!std::isfinite(a) || a <= 0.0) {
    throw InputError(fmt::format("invalid power-law amplitude a = {}; it must be > 0", a));
  }
  if (!std::isfinite(b) || b < kMinPowerLawExponent || b > kMaxPowerLawExponent) {
    throw InputError(fmt::format("invalid power-law exponent b = {}; it must lie in [{}, {}]", b,
                                 kMinPowerLawExponent, kMaxPowerLawExponent));
  }
  if (!std::isfinite(scale) || scale < 0.0) {
    throw InputError(fmt::format("invalid discrepancy scale {}; it must be > 0", scale));
  }
  const bool octave_normalized = scale == 0.0;
  const double used_scale = octave_normalized ? a : scale;
  NormalizedDiscrepancy result;
  result.delta = [a, b, used_scale](double u_x, double u_t) {
    return a * std::pow(std::abs(u_x - u_t), b) / used_scale;
  };
  result.description = {{"model", "power_law"},
                        {"a", a},
                        {"b", b},
                        {"normalization", octave_normalized ? "octave" : "user_scale"},
                        {"scale", used_scale}};
  return result;
}

void TransferModelOptions::validate() const {
  if (!std::isfinite(ratio_exponent) || ratio_exponent <= 0.0) {
    throw InputError(
        fmt::format("invalid ratio exponent q = {}; it must be a finite number > 0", ratio_exponent));
  }
  if (std::isnan(transfer_length) || transfer_length <= 0.0) {
    throw InputError(
        fmt::format("invalid transfer length {}; it must be > 0 (inf is allowed)", transfer_length));
  }
}

TransferModel::TransferModel(TransferModelOptions options, NormalizedDiscrepancy discrepancy)
    : options_(options), discrepancy_(std::move(discrepancy)) {
  options_.validate();
  if (options_.kernel == KernelKind::kDiscrepancy && !discrepancy_.delta) {
    throw InputError("the discrepancy kernel needs a discrepancy model; give --power-law A,B");
  }
}

double TransferModel::discrepancy(double x_mpp, double t_mpp) const {
  const double u_x = std::log2(x_mpp);
  const double u_t = std::log2(t_mpp);
  if (options_.kernel == KernelKind::kRatio) {
    return std::abs(u_x - u_t);
  }
  return discrepancy_.delta(u_x, u_t);
}

double TransferModel::kernel(double x_mpp, double t_mpp) const {
  if (options_.kernel == KernelKind::kRatio) {
    return std::pow(std::min(x_mpp, t_mpp) / std::max(x_mpp, t_mpp), options_.ratio_exponent);
  }
  if (std::isinf(options_.transfer_length)) {
    return 1.0;
  }
  return std::exp(-discrepancy(x_mpp, t_mpp) / options_.transfer_length);
}

nlohmann::json TransferModel::describe() const {
  nlohmann::json description = {{"kernel", to_string(options_.kernel)}};
  if (options_.kernel == KernelKind::kRatio) {
    description["ratio_exponent"] = options_.ratio_exponent;
    description["discrepancy"] = {{"model", "log2_distance"}};
  } else {
    description["transfer_length"] =
        std::isinf(options_.transfer_length) ? nlohmann::json("inf")
                                             : nlohmann::json(options_.transfer_length);
    description["discrepancy"] = discrepancy_.description;
  }
  return description;
}

}  // namespace mgap
