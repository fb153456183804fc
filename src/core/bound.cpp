#include "mgap/bound.hpp"

#include <fmt/format.h>

#include <boost/math/quadrature/gauss.hpp>
#include <cmath>

#include "mgap/error.hpp"

namespace mgap {

namespace {

// Gauss-Legendre nodes per bin (or per half bin when the target splits it). The integrands are
// smooth on each piece, so 8 nodes integrate them to near machine precision for bins up to an
// octave wide.
constexpr int kQuadratureNodes = 8;
using Quadrature = boost::math::quadrature::gauss<double, kQuadratureNodes>;

void check_parameter(double value, const char* name, const char* symbol) {
  if (!std::isfinite(value) || value < 0.0) {
    throw InputError(fmt::format("invalid {} ({}) = {}; it must be a finite number >= 0", name,
                                 symbol, value));
  }
}

// Appends the Gauss-Legendre nodes of [lo, hi] in the coordinate, weights divided by `width`.
void append_nodes(Coordinate coordinate, double lo, double hi, double width,
                  std::vector<QuadratureNode>& nodes) {
  const double half = 0.5 * (hi - lo);
  const double middle = 0.5 * (hi + lo);
  const auto& abscissas = Quadrature::abscissa();
  const auto& weights = Quadrature::weights();
  // Boost stores the nonnegative half of a symmetric rule; with an even node count, 0 is not a node.
  for (std::size_t i = 0; i < abscissas.size(); ++i) {
    for (const double sign : {-1.0, 1.0}) {
      nodes.push_back({coordinate_to_mpp(middle + sign * half * abscissas[i], coordinate),
                       half * weights[i] / width});
    }
  }
}

}  // namespace

void BoundParameters::validate() const {
  check_parameter(amplitude, "amplitude", "A");
  check_parameter(exponent, "exponent", "beta");
  check_parameter(discrepancy_weight, "discrepancy weight", "gamma");
  check_parameter(floor, "floor", "lambda");
}

nlohmann::json BoundParameters::to_json() const {
  return {{"amplitude", amplitude},
          {"exponent", exponent},
          {"discrepancy_weight", discrepancy_weight},
          {"floor", floor}};
}

std::vector<QuadratureNode> bin_average_nodes(Coordinate coordinate, double lo_mpp, double hi_mpp,
                                              double target_mpp) {
  const double lo = mpp_to_coordinate(lo_mpp, coordinate);
  const double hi = mpp_to_coordinate(hi_mpp, coordinate);
  const double kink = mpp_to_coordinate(target_mpp, coordinate);
  std::vector<QuadratureNode> nodes;
  // The kernel has a kink at the target, so a bin that contains it is integrated in two pieces.
  if (kink > lo && kink < hi) {
    append_nodes(coordinate, lo, kink, hi - lo, nodes);
    append_nodes(coordinate, kink, hi, hi - lo, nodes);
  } else {
    append_nodes(coordinate, lo, hi, hi - lo, nodes);
  }
  return nodes;
}

BinAverages average_over_bin(const TransferModel& model, Coordinate coordinate, double lo_mpp,
                             double hi_mpp, double target_mpp) {
  BinAverages averages;
  for (const QuadratureNode& node : bin_average_nodes(coordinate, lo_mpp, hi_mpp, target_mpp)) {
    const double kernel = model.kernel(node.mpp, target_mpp);
    averages.kernel += node.weight * kernel;
    averages.discrepancy_kernel += node.weight * model.discrepancy(node.mpp, target_mpp) * kernel;
  }
  return averages;
}

namespace {

// Fills source, discrepancy and total terms of the bound from n_t and m_t.
void finish_curve(const BoundParameters& parameters, const std::vector<double>& mass_weighted_discrepancy,
                  BoundCurve& curve) {
  const std::size_t count = curve.coverage.size();
  curve.mean_discrepancy.resize(count);
  curve.source_term.resize(count);
  curve.discrepancy_term.resize(count);
  curve.bound.resize(count);
  for (std::size_t t = 0; t < count; ++t) {
    const double coverage = curve.coverage[t];
    curve.mean_discrepancy[t] = mass_weighted_discrepancy[t] / coverage;
    curve.source_term[t] = parameters.amplitude * std::pow(coverage, -parameters.exponent);
    curve.discrepancy_term[t] = parameters.discrepancy_weight * curve.mean_discrepancy[t];
    curve.bound[t] = curve.source_term[t] + curve.discrepancy_term[t] + parameters.floor;
  }
}

}  // namespace

BoundCurve evaluate_bound(const SamplingDensity& density, const TransferModel& model,
                          const BoundParameters& parameters, const std::vector<double>& target_mpps) {
  parameters.validate();
  BoundCurve curve;
  curve.target_mpps = target_mpps;
  curve.coverage.assign(target_mpps.size(), 0.0);
  std::vector<double> mass_weighted_discrepancy(target_mpps.size(), 0.0);
  for (std::size_t t = 0; t < target_mpps.size(); ++t) {
    const double target = target_mpps[t];
    for (int k = 0; k < density.num_bins(); ++k) {
      const double mass = density.bin_masses()[k];
      if (mass == 0.0) {
        continue;
      }
      const BinAverages averages = average_over_bin(model, density.coordinate(), density.edges_mpp()[k],
                                                    density.edges_mpp()[k + 1], target);
      curve.coverage[t] += mass * averages.kernel;
      mass_weighted_discrepancy[t] += mass * averages.discrepancy_kernel;
    }
    for (const DensityAtom& atom : density.atoms()) {
      const double kernel = model.kernel(atom.mpp, target);
      curve.coverage[t] += atom.mass * kernel;
      mass_weighted_discrepancy[t] += atom.mass * model.discrepancy(atom.mpp, target) * kernel;
    }
  }
  finish_curve(parameters, mass_weighted_discrepancy, curve);
  return curve;
}

BoundProblem::BoundProblem(const TransferModel& model, const BoundParameters& parameters,
                           Coordinate coordinate, const MppDomain& domain, int num_bins,
                           TargetSet targets)
    : parameters_(parameters), coordinate_(coordinate), domain_(domain), targets_(std::move(targets)) {
  parameters_.validate();
  domain_.validate();
  targets_.validate(domain_);
  edges_mpp_ = equal_width_edges_mpp(domain_, coordinate_, num_bins);

  const int num_targets = static_cast<int>(targets_.mpps.size());
  bin_widths_.resize(num_bins);
  kernel_.resize(num_targets, num_bins);
  discrepancy_.resize(num_targets, num_bins);
  for (int k = 0; k < num_bins; ++k) {
    bin_widths_[k] = mpp_to_coordinate(edges_mpp_[k + 1], coordinate_) -
                     mpp_to_coordinate(edges_mpp_[k], coordinate_);
    for (int t = 0; t < num_targets; ++t) {
      const BinAverages averages =
          average_over_bin(model, coordinate_, edges_mpp_[k], edges_mpp_[k + 1], targets_.mpps[t]);
      kernel_(t, k) = averages.kernel;
      discrepancy_(t, k) = averages.discrepancy_kernel;
    }
  }
}

Eigen::VectorXd BoundProblem::coverage(const Eigen::VectorXd& masses) const {
  return kernel_ * masses;
}

Eigen::VectorXd BoundProblem::bound(const Eigen::VectorXd& masses, Eigen::MatrixXd* jacobian) const {
  const Eigen::VectorXd n = kernel_ * masses;
  const Eigen::VectorXd m = discrepancy_ * masses;
  const double amplitude = parameters_.amplitude;
  const double beta = parameters_.exponent;
  const double gamma = parameters_.discrepancy_weight;

  Eigen::VectorXd values(n.size());
  for (Eigen::Index t = 0; t < n.size(); ++t) {
    values[t] = amplitude * std::pow(n[t], -beta) + gamma * m[t] / n[t] + parameters_.floor;
  }
  if (jacobian != nullptr) {
    jacobian->resize(n.size(), masses.size());
    for (Eigen::Index t = 0; t < n.size(); ++t) {
      const double source_slope = -beta * amplitude * std::pow(n[t], -beta - 1.0);
      const double inverse_n_squared = 1.0 / (n[t] * n[t]);
      jacobian->row(t) = source_slope * kernel_.row(t) +
                         gamma * inverse_n_squared * (n[t] * discrepancy_.row(t) - m[t] * kernel_.row(t));
    }
  }
  return values;
}

SamplingDensity BoundProblem::to_density(const Eigen::VectorXd& masses) const {
  std::vector<double> values(masses.data(), masses.data() + masses.size());
  return SamplingDensity(coordinate_, domain_, edges_mpp_, std::move(values), {});
}

}  // namespace mgap
