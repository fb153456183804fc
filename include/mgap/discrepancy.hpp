#pragma once

// Two-sample discrepancy estimators between embeddings of the same tissue at two mpps.
//
// Every function takes X [n_x, embedding_dim] and Y [n_y, embedding_dim]: rows are tiles, columns
// embedding dimensions. Results are >= 0 and symmetric in X and Y. Units: `mmd` is in kernel
// units (between 0 and sqrt(2)), `mean-distance` and `frechet` in embedding units, `paired-cosine`
// in [0, 2]; `proxy-a` and `transfer-gap` (classifier_discrepancy.hpp) are in error units [0, 1].
//
// Large matrix products go through the system BLAS (OpenBLAS on Debian), and symmetric
// eigendecompositions through its LAPACK (dsyevd), the routines NumPy calls for the same work.

#include <Eigen/Core>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mgap {

enum class DiscrepancyEstimator {
  kMmd,           // Gaussian-kernel MMD, sqrt(max(unbiased MMD^2, 0))
  kMeanDistance,  // |mu_x - mu_y|, the linear-kernel MMD
  kFrechet,       // 2-Wasserstein distance between Gaussian fits
  kProxyA,        // proxy A-distance of a domain classifier, in error units
  kPairedCosine,  // mean 1 - cos over tiles present at both mpps
  kTransferGap,   // error increase of a linear probe moved to another mpp
};

std::string to_string(DiscrepancyEstimator estimator);
// Accepts mmd, mean-distance, frechet, proxy-a, paired-cosine and transfer-gap; throws InputError
// listing them otherwise.
DiscrepancyEstimator discrepancy_estimator_from_string(const std::string& text);
// Whether the estimator is already in error units (proxy-a, transfer-gap), so it needs no scale.
bool is_error_units(DiscrepancyEstimator estimator);

// ---------------------------------------------------------------------------------------------
// MMD with a Gaussian kernel k(x, y) = exp(-|x - y|^2 / (2 sigma^2)).

struct BandwidthOptions {
  // Largest pooled subsample on which pairwise distances are computed (k(k-1)/2 distances).
  Eigen::Index max_points = 2000;
  std::uint64_t seed = 0;

  void validate() const;
};

struct BandwidthReport {
  double sigma = 1.0;              // bandwidth used
  double median_distance = 0.0;    // median pairwise Euclidean distance of the subsample
  double mean_distance = 0.0;      // mean pairwise Euclidean distance of the subsample
  bool used_mean_fallback = false; // the median was 0 (many duplicate rows), so sigma is the mean
  bool used_unit_fallback = false; // every subsample row was identical, so sigma is 1
  // Pooled row indices of the subsample: r < n_x is row r of X, r >= n_x is row r - n_x of Y.
  std::vector<Eigen::Index> subsample_rows;
};

// Median heuristic: sigma = median Euclidean distance between distinct rows of a seeded subsample
// (without replacement) of at most max_points rows of the pooled sample [X; Y]. When the median
// is 0, sigma falls back to the mean distance (and to 1 if that is 0 too), and the report
// records the fallback.
// Complexity O(k^2 D) for k = min(n_x + n_y, max_points), memory O(k^2).
BandwidthReport median_heuristic_bandwidth(const Eigen::Ref<const Eigen::MatrixXd>& x,
                                           const Eigen::Ref<const Eigen::MatrixXd>& y,
                                           const BandwidthOptions& options);

struct MmdOptions {
  // Rows per Gram tile: memory is O(block_rows^2 + block_rows * num_weight_columns).
  Eigen::Index block_rows = 512;

  void validate() const;
};

// Unbiased MMD^2 (Gretton et al., "A kernel two-sample test", JMLR 13, 2012, eq. 3), evaluated
// once per column r of the weight matrices. Column r gives row p of X the multiplicity
// weights_x(p, r) (1 for the plain estimate, bootstrap counts for a resample). The XX term
// averages the kernel over pairs of distinct rows, (w^T K_xx w - sum_p w_p^2) / (n^2 - sum_p w_p^2)
// with n = sum_p w_p, which is the usual 1 / (n (n - 1)) sum_{p != q} for unit weights and keeps
// duplicated rows of a resample from counting as pairs at distance 0. Likewise for YY; the XY
// term is w_x^T K_xy w_y / (n_x n_y). The kernel diagonal is exactly 1.
// Gram matrices are built tile by tile with GEMM (|x|^2 + |y|^2 - 2 x.y, clamped at 0), only the
// upper triangle of tiles for XX and YY (diagonal tiles by a symmetric rank-k update), so no
// n x n matrix is held.
// weights_x [n_x, R], weights_y [n_y, R]; returns [R]. Complexity O((n_x + n_y)^2 (D + R)).
// Each column needs at least 2 rows with positive weight in each sample.
Eigen::VectorXd weighted_mmd_squared(const Eigen::Ref<const Eigen::MatrixXd>& x,
                                     const Eigen::Ref<const Eigen::MatrixXd>& y, double sigma,
                                     const Eigen::MatrixXd& weights_x,
                                     const Eigen::MatrixXd& weights_y,
                                     const MmdOptions& options = {});

// Weighted unbiased MMD^2 (as above) for every pair i < j of `samples`, in the order
// (0,1), (0,2), ..., (1,2), ...: returns [num_pairs, R]. `sigmas` [J, J] gives each pair's
// bandwidth and `weights[i]` [n_i, R] the weight columns of sample i. Each sample's own Gram
// tiles are computed once for the bandwidths of all pairs that contain it, so the J (J - 1) / 2
// pairs cost J self passes and J (J - 1) / 2 cross passes instead of J (J - 1) self passes.
Eigen::MatrixXd pairwise_mmd_squared(const std::vector<const Eigen::MatrixXd*>& samples,
                                     const Eigen::MatrixXd& sigmas,
                                     const std::vector<Eigen::MatrixXd>& weights,
                                     const MmdOptions& options = {});

// Unbiased MMD^2 of X and Y (may be slightly negative), every row with weight 1.
double mmd_squared(const Eigen::Ref<const Eigen::MatrixXd>& x,
                   const Eigen::Ref<const Eigen::MatrixXd>& y, double sigma,
                   const MmdOptions& options = {});

// ---------------------------------------------------------------------------------------------
// Mean distance, Fréchet distance, paired cosine.

// |mean(X) - mean(Y)|, Euclidean. Complexity O((n_x + n_y) D).
double mean_distance(const Eigen::Ref<const Eigen::MatrixXd>& x,
                     const Eigen::Ref<const Eigen::MatrixXd>& y);

// Mean [D] and unbiased covariance [D, D] (divisor n - 1) of a sample, with the symmetric
// square root of the covariance from its eigendecomposition (negative eigenvalues, from rounding
// or rank deficiency, clamped to 0 and counted).
struct GaussianFit {
  Eigen::VectorXd mean;
  Eigen::MatrixXd covariance;  // may be released (emptied) once the fit is made
  Eigen::MatrixXd covariance_sqrt;
  double covariance_trace = 0.0;
  int num_clamped = 0;
};

// Fits mean and covariance to `samples` [n, D] with row weights `weights` [n] (multiplicities;
// empty means all 1). Needs a total weight of at least 2. Complexity O(n D^2 + D^3).
GaussianFit fit_gaussian(const Eigen::Ref<const Eigen::MatrixXd>& samples,
                         const Eigen::VectorXd& weights = Eigen::VectorXd());

struct FrechetReport {
  double distance = 0.0;
  int num_clamped = 0;  // negative eigenvalues set to 0 in sqrt(S_x Sigma_y S_x)
};

// 2-Wasserstein distance between Gaussian fits (Dowson and Landau 1982; the FID formula):
// d^2 = |mu_x - mu_y|^2 + tr(Sigma_x) + tr(Sigma_y) - 2 tr((S_x Sigma_y S_x)^{1/2}), with
// S_x = Sigma_x^{1/2}. Only symmetric eigendecompositions are used: S_x from Sigma_x, and the
// trace term as the sum of square roots of the (clamped) eigenvalues of the symmetric matrix
// S_x Sigma_y S_x = B B^T with B = S_x S_y, so rank-deficient covariances (D > n) give no NaN.
// d^2 is clamped at 0. Uses the means, square roots and traces of the fits only.
// Complexity O(D^3) given the fits.
FrechetReport frechet_distance(const GaussianFit& x, const GaussianFit& y);

// Fréchet distance of two samples. Identical samples (same shape and values) give exactly 0.
FrechetReport frechet_distance(const Eigen::Ref<const Eigen::MatrixXd>& x,
                               const Eigen::Ref<const Eigen::MatrixXd>& y);

// Mean over `pairs` (row of X, row of Y) of 1 - cos(x, y). A pair with a zero row counts as
// cosine 0 (distance 1). `weights` [num_pairs] gives multiplicities (empty means all 1).
// Complexity O(num_pairs D).
double paired_cosine_distance(const Eigen::Ref<const Eigen::MatrixXd>& x,
                              const Eigen::Ref<const Eigen::MatrixXd>& y,
                              const std::vector<std::pair<Eigen::Index, Eigen::Index>>& pairs,
                              const Eigen::VectorXd& weights = Eigen::VectorXd());

}  // namespace mgap
