#pragma once

// The transfer kernel kappa(x, t) and the normalized discrepancy delta(x, t) between a training
// mpp x and a target mpp t.
//
// kappa in (0, 1], kappa(t, t) = 1, measures how much training at x serves t. delta >= 0 with
// delta(t, t) = 0 is the discrepancy in error units (or normalized so that one octave apart has
// delta = 1).
//
// Kernels:
// - ratio: kappa = (min(x, t) / max(x, t))^q = 2^(-q |log2 x - log2 t|), the ratio of tissue areas
//   seen per pixel for q = 2; its discrepancy is delta = |log2 x - log2 t|.
// - discrepancy: kappa = exp(-delta(x, t) / transfer_length) with delta from a discrepancy model
//   measured from embeddings. The ratio kernel is the special case delta = |u_x - u_t| with
//   transfer_length = 1 / (q ln 2).

#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

namespace mgap {

enum class KernelKind { kRatio, kDiscrepancy };

std::string to_string(KernelKind kind);
// Accepts "ratio" and "discrepancy"; throws InputError otherwise.
KernelKind kernel_kind_from_string(const std::string& text);

// delta(u_x, u_t) as a function of the two log2 mpps, already normalized.
struct NormalizedDiscrepancy {
  std::function<double(double, double)> delta;
  nlohmann::json description;  // recorded in provenance: kind, parameters, normalization

  // delta = a |u_x - u_t|^b / scale. Without a scale, the scale is the model's value one octave
  // apart (a), so delta = |u_x - u_t|^b. Throws InputError unless a > 0, b in [0.2, 3], scale > 0.
  static NormalizedDiscrepancy power_law(double a, double b, double scale = 0.0);
};

struct TransferModelOptions {
  KernelKind kernel = KernelKind::kDiscrepancy;
  double ratio_exponent = 2.0;   // q of the ratio kernel
  double transfer_length = 0.5;  // l of the discrepancy kernel, in units of delta; +infinity allowed

  void validate() const;
};

class TransferModel {
 public:
  // The ratio kernel ignores `discrepancy` and uses delta = |log2 x - log2 t|.
  TransferModel(TransferModelOptions options, NormalizedDiscrepancy discrepancy);

  double kernel(double x_mpp, double t_mpp) const;
  double discrepancy(double x_mpp, double t_mpp) const;

  const TransferModelOptions& options() const { return options_; }
  nlohmann::json describe() const;

 private:
  TransferModelOptions options_;
  NormalizedDiscrepancy discrepancy_;
};

}  // namespace mgap
