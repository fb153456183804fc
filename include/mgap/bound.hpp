#pragma once

// The domain-adaptation bound on the error at a target mpp t for a sampling distribution P:
//
//   n_P(t) = integral of kappa(x, t) dP(x)                        (coverage, in (0, 1])
//   B_P(t) = A n_P(t)^(-beta) + gamma E_{x ~ alpha_{P,t}}[delta(x, t)] + lambda
//
// where alpha_{P,t} = kappa(., t) P / n_P(t) is the training mixture re-weighted toward t. The first
// term is a learning curve in the effective sample fraction n_P(t); the second is the discrepancy
// between the re-weighted sources and the target (the multi-source bound of Ben-David et al. 2010,
// "A theory of learning from different domains", Machine Learning 79); lambda is the error of the
// joint optimal hypothesis and does not depend on P.
//
// Discretization on bins of width Delta_k in the coordinate c (Gauss-Legendre, 8 nodes per bin,
// with the bin split at t when t lies inside it because kappa has a kink there), atoms exact:
//   K_tk = (1/Delta_k) int_bin kappa(x, t) dc     D_tk = (1/Delta_k) int_bin delta(x, t) kappa(x, t) dc
//   n_t = sum_k K_tk pi_k + sum_j kappa(s_j, t) a_j,   m_t likewise with D,   B_t = A n_t^-beta + gamma m_t / n_t + lambda
//   dB_t/dpi_k = -beta A n_t^(-beta-1) K_tk + gamma (D_tk n_t - m_t K_tk) / n_t^2
// Building K and D costs O(T K) kernel integrals; each evaluation afterwards is O(T K).

#include <Eigen/Dense>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mgap/density.hpp"
#include "mgap/magnification.hpp"
#include "mgap/targets.hpp"
#include "mgap/transfer_model.hpp"

namespace mgap {

struct BoundParameters {
  double amplitude = 0.1;           // A: source-error amplitude, sample count folded in
  double exponent = 0.5;            // beta: learning-curve exponent
  double discrepancy_weight = 0.1;  // gamma: weight of the discrepancy term
  double floor = 0.0;               // lambda: joint-optimal error

  // Throws InputError unless A >= 0, beta >= 0, gamma >= 0 and lambda >= 0, all finite.
  void validate() const;
  nlohmann::json to_json() const;
};

// Per-target values of the bound for one distribution.
struct BoundCurve {
  std::vector<double> target_mpps;
  std::vector<double> coverage;          // n_P(t)
  std::vector<double> mean_discrepancy;  // E_alpha[delta] = m_t / n_t
  std::vector<double> source_term;       // A n^-beta
  std::vector<double> discrepancy_term;  // gamma m / n
  std::vector<double> bound;             // B_P(t)
};

// Evaluates the bound of `density` (its own bins and atoms) at each target.
BoundCurve evaluate_bound(const SamplingDensity& density, const TransferModel& model,
                          const BoundParameters& parameters, const std::vector<double>& target_mpps);

// Bin average of kappa (and of delta kappa) for one bin in the coordinate and one target.
struct BinAverages {
  double kernel = 0.0;
  double discrepancy_kernel = 0.0;
};
// Quadrature nodes for a bin average: sum_i weight_i f(mpp_i) approximates (1/Delta) int_bin f dc.
struct QuadratureNode {
  double mpp = 0.0;
  double weight = 0.0;
};
std::vector<QuadratureNode> bin_average_nodes(Coordinate coordinate, double lo_mpp, double hi_mpp,
                                              double target_mpp);

BinAverages average_over_bin(const TransferModel& model, Coordinate coordinate, double lo_mpp,
                             double hi_mpp, double target_mpp);

// The bound discretized on fixed bins, for optimizing the bin masses pi.
class BoundProblem {
 public:
  // Builds K and D, both [num_targets, num_bins]. Throws InputError for invalid parameters.
  BoundProblem(const TransferModel& model, const BoundParameters& parameters,
               Coordinate coordinate, const MppDomain& domain, int num_bins, TargetSet targets);

  int num_bins() const { return static_cast<int>(kernel_.cols()); }
  int num_targets() const { return static_cast<int>(kernel_.rows()); }
  const Eigen::MatrixXd& kernel_matrix() const { return kernel_; }                 // K [T, K]
  const Eigen::MatrixXd& discrepancy_kernel_matrix() const { return discrepancy_; }  // D [T, K]
  const Eigen::VectorXd& bin_widths() const { return bin_widths_; }  // in the coordinate, [K]
  const std::vector<double>& edges_mpp() const { return edges_mpp_; }
  const TargetSet& targets() const { return targets_; }
  const BoundParameters& parameters() const { return parameters_; }
  Coordinate coordinate() const { return coordinate_; }
  const MppDomain& domain() const { return domain_; }

  // Coverage n = K pi, [T].
  Eigen::VectorXd coverage(const Eigen::VectorXd& masses) const;
  // Bound B_t for each target, [T]; if `jacobian` is not null it receives dB_t/dpi_k, [T, K].
  Eigen::VectorXd bound(const Eigen::VectorXd& masses, Eigen::MatrixXd* jacobian = nullptr) const;

  // The density with these bin masses on this problem's bins.
  SamplingDensity to_density(const Eigen::VectorXd& masses) const;

 private:
  BoundParameters parameters_;
  Coordinate coordinate_;
  MppDomain domain_;
  TargetSet targets_;
  std::vector<double> edges_mpp_;
  Eigen::VectorXd bin_widths_;
  Eigen::MatrixXd kernel_;
  Eigen::MatrixXd discrepancy_;
};

}  // namespace mgap
