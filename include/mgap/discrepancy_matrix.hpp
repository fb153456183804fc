#pragma once

// The discrepancy matrix of an embedding bundle: one estimator applied to every pair of mpps,
// with seeded bootstrap percentile intervals.
//
// Bootstrap: resample r draws, for every mpp, its tiles with replacement (n draws from n rows)
// from a stream seeded by (seed, mpp index, r), and evaluates the estimator on the resampled
// rows of each pair. Pairs that share an mpp share its resample, which leaves each pair's
// bootstrap distribution unchanged and lets per-mpp work (covariance fits) be done once per
// resample. paired-cosine resamples matched tile pairs instead. Fixed per pair across resamples:
// the MMD bandwidth (from the full sample) and, for proxy-a and transfer-gap, the fitted
// classifiers, whose held-out correctness per tile is what gets resampled.
// NOTE: so the classifier intervals cover tile sampling at test time, not refitting variance.

#include <Eigen/Core>

#include <cstdint>
#include <string>
#include <vector>

#include "mgap/classifier_discrepancy.hpp"
#include "mgap/discrepancy.hpp"
#include "mgap/embedding_bundle.hpp"

namespace mgap {

struct DiscrepancyOptions {
  DiscrepancyEstimator estimator = DiscrepancyEstimator::kMmd;
  int num_bootstrap = 200;         // resamples; 0 disables intervals
  double confidence_level = 0.95;  // central percentile interval
  std::uint64_t seed = 0;
  Eigen::Index bandwidth_max_points = 2000;  // mmd: subsample for the median heuristic
  MmdOptions mmd;
  ClassifierDiscrepancyOptions classifier;  // proxy-a, transfer-gap (its seed is derived)

  // Throws InputError naming the first invalid field.
  void validate() const;
};

struct DiscrepancyReport {
  DiscrepancyEstimator estimator = DiscrepancyEstimator::kMmd;
  std::vector<double> mpps;               // [J], increasing
  Eigen::MatrixXd matrix;                 // [J, J], symmetric, zero diagonal
  Eigen::MatrixXd ci_low;                 // [J, J]; equal to matrix without bootstrap
  Eigen::MatrixXd ci_high;                // [J, J]
  Eigen::MatrixXd asymmetric_matrix;      // transfer-gap: row = training mpp, column = test mpp
  std::vector<Eigen::Index> sample_counts;  // [J] tiles per mpp
  Eigen::MatrixXd pair_counts;            // [J, J] tiles used per pair (matched pairs for
                                          // paired-cosine, n_i + n_j otherwise)
  Eigen::Index embedding_dim = 0;
  int num_bootstrap = 0;
  double confidence_level = 0.95;
  std::uint64_t seed = 0;

  Eigen::MatrixXd bandwidths;     // mmd: sigma per pair [J, J]; empty otherwise
  int num_bandwidth_fallbacks = 0;  // mmd: pairs whose median distance was 0
  // mmd: pooled rows of each pair's bandwidth subsample (pairs i < j in row-major order), so an
  // independent implementation can reproduce the bandwidths.
  std::vector<std::vector<Eigen::Index>> bandwidth_subsamples;
  int num_clamped_eigenvalues = 0;  // frechet: negative eigenvalues set to 0 (point estimate)
  int num_unconverged_fits = 0;     // proxy-a, transfer-gap
  std::vector<std::string> warnings;

  std::string manifest_path;
  std::string manifest_hash;
};

// Estimates the matrix for every pair of the bundle's mpps. Throws InputError when the estimator
// needs metadata the bundle lacks (tile ids for paired-cosine, labels for transfer-gap), when a
// set is too small, or for invalid options. Complexity: per pair, that of the estimator; times
// (1 + num_bootstrap) except for mmd, whose resamples ride along the same Gram tiles.
DiscrepancyReport estimate_discrepancy(const EmbeddingBundle& bundle,
                                       const DiscrepancyOptions& options);

// Percentile of `values` at `level` in [0, 1] with linear interpolation between order
// statistics (numpy.percentile's default). `values` is taken by value and sorted.
double percentile(std::vector<double> values, double level);

}  // namespace mgap
