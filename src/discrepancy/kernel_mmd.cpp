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

// Squared distances |a_p|^2 + |b_q|^2 - 2 a_p.b_q between the rows of two blocks, clamped at 0
// against rounding, into `tile`. A diagonal block (a and b the same rows) uses a symmetric rank-k
// update for half the flops and has an exact zero diagonal.
void squared_distance_tile(const Eigen::Ref<const Eigen::MatrixXd>& a,
                           const Eigen::Ref<const Eigen::MatrixXd>& b,
                           const Eigen::Ref<const Eigen::VectorXd>& norms_a,
                           const Eigen::Ref<const Eigen::VectorXd>& norms_b, bool diagonal,
                           Eigen::Ref<Eigen::MatrixXd> tile) {
  if (diagonal) {
    detail::syrk_upper(a, -2.0, tile);
    tile.triangularView<Eigen::StrictlyLower>() = tile.transpose();
  } else {
    detail::gemm(false, true, -2.0, a, b, 0.0, tile);
  }
  tile.colwise() += norms_a;
  tile.rowwise() += norms_b.transpose();
  tile = tile.array().max(0.0).matrix();
  if (diagonal) {
    tile.diagonal().setZero();
  }
}

// Adds factor * (w_a^T K w_b) per weight column to `sums`, with K = exp(-D2 / (2 sigma^2)) of the
// squared-distance tile; `kernel` and `products` are scratch space of the tile's shape.
void accumulate_kernel_sums(const Eigen::Ref<const Eigen::MatrixXd>& squared, double sigma,
                            const Eigen::Ref<const Eigen::MatrixXd>& weights_a,
                            const Eigen::Ref<const Eigen::MatrixXd>& weights_b, double factor,
                            Eigen::Ref<Eigen::MatrixXd> kernel,
                            Eigen::Ref<Eigen::MatrixXd> products,
                            Eigen::Ref<Eigen::VectorXd> sums) {
  const double scale = -1.0 / (2.0 * sigma * sigma);
  kernel = (squared.array() * scale).exp().matrix();
  detail::gemm(false, false, 1.0, kernel, weights_b, 0.0, products);
  sums += factor * (products.array() * weights_a.array()).colwise().sum().transpose().matrix();
}

// Sums w^T K_sigma w of one sample with itself [num_weight_columns, num_sigmas], one column per
// bandwidth. Each squared-distance tile is computed once and reused for every bandwidth, and only
// tiles on or above the diagonal are visited (off-diagonal tiles count twice).
Eigen::MatrixXd self_kernel_sums(const Eigen::Ref<const Eigen::MatrixXd>& x,
                                 const std::vector<double>& sigmas, const Eigen::MatrixXd& weights,
                                 Eigen::Index block_rows) {
  const Eigen::VectorXd norms = row_squared_norms(x);
  const Eigen::Index num_columns = weights.cols();
  Eigen::MatrixXd sums = Eigen::MatrixXd::Zero(num_columns, static_cast<Eigen::Index>(sigmas.size()));
  Eigen::MatrixXd squared(block_rows, block_rows);
  Eigen::MatrixXd kernel(block_rows, block_rows);
  Eigen::MatrixXd products(block_rows, num_columns);
  for (Eigen::Index i0 = 0; i0 < x.rows(); i0 += block_rows) {
    const Eigen::Index rows_i = std::min(block_rows, x.rows() - i0);
    for (Eigen::Index j0 = i0; j0 < x.rows(); j0 += block_rows) {
      const Eigen::Index rows_j = std::min(block_rows, x.rows() - j0);
      const bool diagonal = i0 == j0;
      auto tile = squared.topLeftCorner(rows_i, rows_j);
      squared_distance_tile(x.middleRows(i0, rows_i), x.middleRows(j0, rows_j),
                            norms.segment(i0, rows_i), norms.segment(j0, rows_j), diagonal, tile);
      for (std::size_t s = 0; s < sigmas.size(); ++s) {
        accumulate_kernel_sums(tile, sigmas[s], weights.middleRows(i0, rows_i),
                               weights.middleRows(j0, rows_j), diagonal ? 1.0 : 2.0,
                               kernel.topLeftCorner(rows_i, rows_j), products.topRows(rows_i),
                               sums.col(static_cast<Eigen::Index>(s)));
      }
    }
  }
  return sums;
}

// Sums w_x^T K_sigma w_y between two samples [num_weight_columns].
Eigen::VectorXd cross_kernel_sums(const Eigen::Ref<const Eigen::MatrixXd>& x,
                                  const Eigen::Ref<const Eigen::MatrixXd>& y, double sigma,
                                  const Eigen::MatrixXd& weights_x, const Eigen::MatrixXd& weights_y,
                                  Eigen::Index block_rows) {
  const Eigen::VectorXd norms_x = row_squared_norms(x);
  const Eigen::VectorXd norms_y = row_squared_norms(y);
  Eigen::VectorXd sums = Eigen::VectorXd::Zero(weights_x.cols());
  Eigen::MatrixXd squared(block_rows, block_rows);
  Eigen::MatrixXd kernel(block_rows, block_rows);
  Eigen::MatrixXd products(block_rows, weights_x.cols());
  for (Eigen::Index i0 = 0; i0 < x.rows(); i0 += block_rows) {
    const Eigen::Index rows_i = std::min(block_rows, x.rows() - i0);
    for (Eigen::Index j0 = 0; j0 < y.rows(); j0 += block_rows) {
      const Eigen::Index rows_j = std::min(block_rows, y.rows() - j0);
      auto tile = squared.topLeftCorner(rows_i, rows_j);
      squared_distance_tile(x.middleRows(i0, rows_i), y.middleRows(j0, rows_j),
                            norms_x.segment(i0, rows_i), norms_y.segment(j0, rows_j), false, tile);
      accumulate_kernel_sums(tile, sigma, weights_x.middleRows(i0, rows_i),
                             weights_y.middleRows(j0, rows_j), 1.0,
                             kernel.topLeftCorner(rows_i, rows_j), products.topRows(rows_i), sums);
    }
  }
  return sums;
}

// Checks that `weights` [n, R] fits a sample of n rows with R columns and that every column has
// at least 2 rows of positive weight.
void check_weights(const Eigen::MatrixXd& weights, Eigen::Index rows, Eigen::Index columns) {
  if (weights.rows() != rows || weights.cols() != columns) {
    throw InputError(fmt::format("MMD weights [{}, {}] do not match a sample of {} rows with {} "
                                 "weight columns",
                                 weights.rows(), weights.cols(), rows, columns));
  }
  const auto distinct = (weights.array() > 0.0).cast<double>().colwise().sum();
  if ((distinct < 2.0).any()) {
    throw InputError("unbiased MMD needs at least 2 distinct rows in each sample");
  }
}

void check_sigma(double sigma) {
  if (!(sigma > 0.0) || !std::isfinite(sigma)) {
    throw InputError(fmt::format("kernel bandwidth sigma = {} must be positive and finite", sigma));
  }
}

// Mean kernel value over pairs of distinct rows, from w^T K w. Pairs of a row with itself (w_p^2
// of them, kernel value exactly 1) are left out, so duplicated rows in a resample do not count as
// pairs at distance 0.
Eigen::ArrayXd distinct_pair_mean(const Eigen::VectorXd& self_sums, const Eigen::MatrixXd& weights) {
  const Eigen::ArrayXd total = weights.colwise().sum().transpose();
  const Eigen::ArrayXd self_pairs = weights.array().square().colwise().sum().transpose();
  return (self_sums.array() - self_pairs) / (total.square() - self_pairs);
}

Eigen::VectorXd combine_mmd_terms(const Eigen::VectorXd& self_x, const Eigen::VectorXd& self_y,
                                  const Eigen::VectorXd& cross, const Eigen::MatrixXd& weights_x,
                                  const Eigen::MatrixXd& weights_y) {
  const Eigen::ArrayXd total_x = weights_x.colwise().sum().transpose();
  const Eigen::ArrayXd total_y = weights_y.colwise().sum().transpose();
  const Eigen::ArrayXd term_xy = cross.array() / (total_x * total_y);
  return (distinct_pair_mean(self_x, weights_x) + distinct_pair_mean(self_y, weights_y) -
          2.0 * term_xy)
      .matrix();
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
  detail::syrk_upper(subsample, 1.0, gram);  // only entries (i, j) with i < j are read below

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
  check_sigma(sigma);
  check_weights(weights_x, x.rows(), weights_x.cols());
  check_weights(weights_y, y.rows(), weights_x.cols());
  const Eigen::Index block = options.block_rows;
  const Eigen::VectorXd self_x = self_kernel_sums(x, {sigma}, weights_x, block).col(0);
  const Eigen::VectorXd self_y = self_kernel_sums(y, {sigma}, weights_y, block).col(0);
  const Eigen::VectorXd cross = cross_kernel_sums(x, y, sigma, weights_x, weights_y, block);
  return combine_mmd_terms(self_x, self_y, cross, weights_x, weights_y);
}

Eigen::MatrixXd pairwise_mmd_squared(const std::vector<const Eigen::MatrixXd*>& samples,
                                     const Eigen::MatrixXd& sigmas,
                                     const std::vector<Eigen::MatrixXd>& weights,
                                     const MmdOptions& options) {
  options.validate();
  const std::size_t count = samples.size();
  if (weights.size() != count || sigmas.rows() != static_cast<Eigen::Index>(count) ||
      sigmas.cols() != static_cast<Eigen::Index>(count)) {
    throw InputError(fmt::format("pairwise MMD needs one weight matrix per sample and a {} x {} "
                                 "bandwidth matrix; got {} weight matrices and {} x {}",
                                 count, count, weights.size(), sigmas.rows(), sigmas.cols()));
  }
  const Eigen::Index num_columns = count > 0 ? weights.front().cols() : 0;
  for (std::size_t i = 0; i < count; ++i) {
    check_same_dim(*samples.front(), *samples[i]);
    check_weights(weights[i], samples[i]->rows(), num_columns);
  }

  // Each sample's own Gram tiles are computed once, for the bandwidths of all pairs it is in.
  std::vector<Eigen::MatrixXd> self_sums;
  for (std::size_t i = 0; i < count; ++i) {
    std::vector<double> bandwidths;
    for (std::size_t j = 0; j < count; ++j) {
      if (j != i) {
        check_sigma(sigmas(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)));
        bandwidths.push_back(sigmas(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)));
      }
    }
    self_sums.push_back(self_kernel_sums(*samples[i], bandwidths, weights[i], options.block_rows));
  }
  // Column of self_sums[i] that contains the bandwidth of the pair (i, j).
  auto column = [](std::size_t i, std::size_t j) { return static_cast<Eigen::Index>(j < i ? j : j - 1); };

  Eigen::MatrixXd result(static_cast<Eigen::Index>(count * (count - 1) / 2), num_columns);
  Eigen::Index pair = 0;
  for (std::size_t i = 0; i < count; ++i) {
    for (std::size_t j = i + 1; j < count; ++j) {
      const double sigma = sigmas(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j));
      const Eigen::VectorXd cross = cross_kernel_sums(*samples[i], *samples[j], sigma, weights[i],
                                                      weights[j], options.block_rows);
      result.row(pair++) = combine_mmd_terms(self_sums[i].col(column(i, j)),
                                             self_sums[j].col(column(j, i)), cross, weights[i],
                                             weights[j])
                               .transpose();
    }
  }
  return result;
}

double mmd_squared(const Eigen::Ref<const Eigen::MatrixXd>& x,
                   const Eigen::Ref<const Eigen::MatrixXd>& y, double sigma,
                   const MmdOptions& options) {
  return weighted_mmd_squared(x, y, sigma, Eigen::MatrixXd::Ones(x.rows(), 1),
                              Eigen::MatrixXd::Ones(y.rows(), 1), options)(0);
}

}  // namespace mgap
