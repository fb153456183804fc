// Gaussian-kernel MMD: the median-heuristic bandwidth and the tiled, weighted unbiased MMD^2.

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "dense_linear_algebra.hpp"
#include "mgap/discrepancy.hpp"
#include "mgap/error.hpp"
#include "mgap/random.hpp"

namespace mgap {

namespace {

void check_same_dim(const Eigen::Ref<const Eigen::MatrixXd>& x,
                    const Eigen::Ref<const Eigen::MatrixXd>& y) {
  if (x.cols() != y.cols()) {
    throw InputError(fmt::format("embedding dimensions differ: [{}, {}] and [{}, {}]; both sets "
                                 "need embeddings from the same model",
                                 x.rows(), x.cols(), y.rows(), y.cols()));
  }
}

// Seeded subsample of `count` distinct indices of 0..population-1, in increasing order
// (partial Fisher-Yates shuffle, then sorted so rows are gathered in memory order).
std::vector<Eigen::Index> sample_without_replacement(Eigen::Index population, Eigen::Index count,
                                                     std::uint64_t seed) {
  std::vector<Eigen::Index> indices(static_cast<std::size_t>(population));
  std::iota(indices.begin(), indices.end(), Eigen::Index{0});
  if (count < population) {
    RandomEngine engine(seed);
    for (Eigen::Index i = 0; i < count; ++i) {
      const auto j = i + static_cast<Eigen::Index>(
                             uniform_index(engine, static_cast<std::uint64_t>(population - i)));
      std::swap(indices[static_cast<std::size_t>(i)], indices[static_cast<std::size_t>(j)]);
    }
    indices.resize(static_cast<std::size_t>(count));
    std::sort(indices.begin(), indices.end());
  }
  return indices;
}

// Squared norm of every row [n].
Eigen::VectorXd row_squared_norms(const Eigen::Ref<const Eigen::MatrixXd>& rows) {
  return rows.rowwise().squaredNorm();
}

// Sum over tiles of w_a^T K(A, B) w_b for each weight column. With `same`, A and B are the same
// sample, so only tiles on or above the diagonal are computed and the kernel diagonal is exactly 1.
Eigen::VectorXd kernel_weighted_sums(const Eigen::Ref<const Eigen::MatrixXd>& a,
                                     const Eigen::Ref<const Eigen::MatrixXd>& b, bool same,
                                     double sigma, const Eigen::MatrixXd& weights_a,
                                     const Eigen::MatrixXd& weights_b, Eigen::Index block_rows) {
  const Eigen::VectorXd norms_a = row_squared_norms(a);
  const Eigen::VectorXd norms_b = same ? norms_a : row_squared_norms(b);
  const double scale = -1.0 / (2.0 * sigma * sigma);
  const Eigen::Index num_columns = weights_a.cols();
  Eigen::VectorXd sums = Eigen::VectorXd::Zero(num_columns);

  Eigen::MatrixXd tile(block_rows, block_rows);
  Eigen::MatrixXd weighted(block_rows, num_columns);
  for (Eigen::Index i0 = 0; i0 < a.rows(); i0 += block_rows) {
    const Eigen::Index rows_i = std::min(block_rows, a.rows() - i0);
    for (Eigen::Index j0 = same ? i0 : 0; j0 < b.rows(); j0 += block_rows) {
      const Eigen::Index rows_j = std::min(block_rows, b.rows() - j0);
      auto gram = tile.topLeftCorner(rows_i, rows_j);
      detail::gemm(a.middleRows(i0, rows_i), false, b.middleRows(j0, rows_j), true, -2.0, 0.0,
                   gram);
      // |a|^2 + |b|^2 - 2 a.b, clamped at 0 against rounding, then the kernel.
      gram.colwise() += norms_a.segment(i0, rows_i);
      gram.rowwise() += norms_b.segment(j0, rows_j).transpose();
      gram = (gram.array().max(0.0) * scale).exp().matrix();
      if (same && i0 == j0) {
        gram.diagonal().setOnes();
      }
      auto products = weighted.topRows(rows_i);
      detail::gemm(gram, false, weights_b.middleRows(j0, rows_j), false, 1.0, 0.0, products);
      const Eigen::VectorXd tile_sums =
          (products.array() * weights_a.middleRows(i0, rows_i).array()).colwise().sum();
      // Off-diagonal tiles of a symmetric Gram matrix stand for themselves and their transpose.
      sums += (same && j0 != i0 ? 2.0 : 1.0) * tile_sums;
    }
  }
  return sums;
}

}  // namespace

void BandwidthOptions::validate() const {
  if (max_points < 2) {
    throw InputError(fmt::format("bandwidth subsample size {} is too small; use at least 2 points",
                                 max_points));
  }
}

void MmdOptions::validate() const {
  if (block_rows < 1) {
    throw InputError(fmt::format("MMD block size {} must be at least 1 row", block_rows));
  }
}

BandwidthReport median_heuristic_bandwidth(const Eigen::Ref<const Eigen::MatrixXd>& x,
                                           const Eigen::Ref<const Eigen::MatrixXd>& y,
                                           const BandwidthOptions& options) {
  options.validate();
  check_same_dim(x, y);
  const Eigen::Index pooled = x.rows() + y.rows();
  if (pooled < 2) {
    throw InputError("the median heuristic needs at least 2 rows in the pooled sample");
  }
  BandwidthReport report;
  report.subsample_rows =
      sample_without_replacement(pooled, std::min(pooled, options.max_points), options.seed);
  const auto count = static_cast<Eigen::Index>(report.subsample_rows.size());

  Eigen::MatrixXd subsample(count, x.cols());
  for (Eigen::Index k = 0; k < count; ++k) {
    const Eigen::Index row = report.subsample_rows[static_cast<std::size_t>(k)];
    subsample.row(k) = row < x.rows() ? x.row(row) : y.row(row - x.rows());
  }
  const Eigen::VectorXd norms = row_squared_norms(subsample);
  Eigen::MatrixXd gram(count, count);
  detail::gemm(subsample, false, subsample, true, 1.0, 0.0, gram);

  std::vector<double> distances;
  distances.reserve(static_cast<std::size_t>(count * (count - 1) / 2));
  double total = 0.0;
  for (Eigen::Index j = 1; j < count; ++j) {
    for (Eigen::Index i = 0; i < j; ++i) {
      const double squared = std::max(0.0, norms(i) + norms(j) - 2.0 * gram(i, j));
      distances.push_back(std::sqrt(squared));
      total += distances.back();
    }
  }
  // Median as numpy.median: the mean of the two middle values for an even count.
  const std::size_t half = distances.size() / 2;
  std::nth_element(distances.begin(), distances.begin() + static_cast<std::ptrdiff_t>(half),
                   distances.end());
  double median = distances[half];
  if (distances.size() % 2 == 0) {
    median = 0.5 * (median + *std::max_element(distances.begin(),
                                               distances.begin() + static_cast<std::ptrdiff_t>(half)));
  }
  report.median_distance = median;
  report.mean_distance = total / static_cast<double>(distances.size());
  report.sigma = median;
  if (!(median > 0.0)) {
    report.used_mean_fallback = true;
    report.sigma = report.mean_distance;
  }
  if (!(report.sigma > 0.0)) {
    report.used_unit_fallback = true;
    report.sigma = 1.0;
  }
  return report;
}

Eigen::VectorXd weighted_mmd_squared(const Eigen::Ref<const Eigen::MatrixXd>& x,
                                     const Eigen::Ref<const Eigen::MatrixXd>& y, double sigma,
                                     const Eigen::MatrixXd& weights_x,
                                     const Eigen::MatrixXd& weights_y, const MmdOptions& options) {
  options.validate();
  check_same_dim(x, y);
  if (!(sigma > 0.0) || !std::isfinite(sigma)) {
    throw InputError(fmt::format("kernel bandwidth sigma = {} must be positive and finite", sigma));
  }
  if (weights_x.rows() != x.rows() || weights_y.rows() != y.rows() ||
      weights_x.cols() != weights_y.cols()) {
    throw InputError(fmt::format("MMD weights [{}, {}] and [{}, {}] do not match samples of {} "
                                 "and {} rows with one column per estimate",
                                 weights_x.rows(), weights_x.cols(), weights_y.rows(),
                                 weights_y.cols(), x.rows(), y.rows()));
  }
  const Eigen::VectorXd total_x = weights_x.colwise().sum();
  const Eigen::VectorXd total_y = weights_y.colwise().sum();
  const auto distinct_x = (weights_x.array() > 0.0).cast<double>().colwise().sum();
  const auto distinct_y = (weights_y.array() > 0.0).cast<double>().colwise().sum();
  if ((distinct_x < 2.0).any() || (distinct_y < 2.0).any()) {
    throw InputError("unbiased MMD needs at least 2 distinct rows in each sample");
  }
  const Eigen::Index block = options.block_rows;
  const Eigen::VectorXd sum_xx = kernel_weighted_sums(x, x, true, sigma, weights_x, weights_x, block);
  const Eigen::VectorXd sum_yy = kernel_weighted_sums(y, y, true, sigma, weights_y, weights_y, block);
  const Eigen::VectorXd sum_xy = kernel_weighted_sums(x, y, false, sigma, weights_x, weights_y, block);

  // Pairs of a row with itself (w_p^2 of them, kernel value exactly 1) are left out, so
  // duplicated rows in a resample do not count as pairs at distance 0.
  const Eigen::ArrayXd self_x = weights_x.array().square().colwise().sum().transpose();
  const Eigen::ArrayXd self_y = weights_y.array().square().colwise().sum().transpose();
  const Eigen::ArrayXd term_xx =
      (sum_xx.array() - self_x) / (total_x.array().square() - self_x);
  const Eigen::ArrayXd term_yy =
      (sum_yy.array() - self_y) / (total_y.array().square() - self_y);
  const Eigen::ArrayXd term_xy = sum_xy.array() / (total_x.array() * total_y.array());
  return (term_xx + term_yy - 2.0 * term_xy).matrix();
}

double mmd_squared(const Eigen::Ref<const Eigen::MatrixXd>& x,
                   const Eigen::Ref<const Eigen::MatrixXd>& y, double sigma,
                   const MmdOptions& options) {
  return weighted_mmd_squared(x, y, sigma, Eigen::MatrixXd::Ones(x.rows(), 1),
                              Eigen::MatrixXd::Ones(y.rows(), 1), options)(0);
}

}  // namespace mgap
