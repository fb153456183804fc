// Estimator names, mean distance, Gaussian fits with the Fréchet distance, and paired cosine.

#include <fmt/format.h>

#include <cmath>

#include "dense_linear_algebra.hpp"
#include "mgap/discrepancy.hpp"
#include "mgap/error.hpp"

namespace mgap {

namespace {

struct EstimatorName {
  DiscrepancyEstimator estimator;
  const char* name;
};

constexpr EstimatorName kEstimatorNames[] = {
    {DiscrepancyEstimator::kMmd, "mmd"},
    {DiscrepancyEstimator::kMeanDistance, "mean-distance"},
    {DiscrepancyEstimator::kFrechet, "frechet"},
    {DiscrepancyEstimator::kProxyA, "proxy-a"},
    {DiscrepancyEstimator::kPairedCosine, "paired-cosine"},
    {DiscrepancyEstimator::kTransferGap, "transfer-gap"},
};

void check_same_dim(const Eigen::Ref<const Eigen::MatrixXd>& x,
                    const Eigen::Ref<const Eigen::MatrixXd>& y) {
  if (x.cols() != y.cols()) {
    throw InputError(fmt::format("embedding dimensions differ: [{}, {}] and [{}, {}]; both sets "
                                 "need embeddings from the same model",
                                 x.rows(), x.cols(), y.rows(), y.cols()));
  }
}

Eigen::VectorXd weights_or_ones(const Eigen::VectorXd& weights, Eigen::Index rows) {
  if (weights.size() == 0) {
    return Eigen::VectorXd::Ones(rows);
  }
  if (weights.size() != rows) {
    throw InputError(fmt::format("{} row weights given for {} rows", weights.size(), rows));
  }
  return weights;
}

}  // namespace

std::string to_string(DiscrepancyEstimator estimator) {
  for (const EstimatorName& entry : kEstimatorNames) {
    if (entry.estimator == estimator) {
      return entry.name;
    }
  }
  return "unknown";
}

DiscrepancyEstimator discrepancy_estimator_from_string(const std::string& text) {
  for (const EstimatorName& entry : kEstimatorNames) {
    if (text == entry.name) {
      return entry.estimator;
    }
  }
  throw InputError(fmt::format("unknown estimator '{}'; use mmd, mean-distance, frechet, proxy-a, "
                               "paired-cosine or transfer-gap",
                               text));
}

bool is_error_units(DiscrepancyEstimator estimator) {
  return estimator == DiscrepancyEstimator::kProxyA ||
         estimator == DiscrepancyEstimator::kTransferGap;
}

double mean_distance(const Eigen::Ref<const Eigen::MatrixXd>& x,
                     const Eigen::Ref<const Eigen::MatrixXd>& y) {
  check_same_dim(x, y);
  if (x.rows() == 0 || y.rows() == 0) {
    throw InputError("mean distance needs at least one row in each sample");
  }
  return (x.colwise().mean() - y.colwise().mean()).norm();
}

GaussianFit fit_gaussian(const Eigen::Ref<const Eigen::MatrixXd>& samples,
                         const Eigen::VectorXd& weights) {
  const Eigen::VectorXd w = weights_or_ones(weights, samples.rows());
  const double total = w.sum();
  if (total < 2.0) {
    throw InputError(fmt::format("a covariance needs at least 2 rows, got a total weight of {}",
                                 total));
  }
  GaussianFit fit;
  fit.mean = (samples.transpose() * w) / total;
  // Weighted centered rows sqrt(w_p) (x_p - mu), so covariance = C^T C / (n - 1) is one GEMM.
  Eigen::MatrixXd centered = samples.rowwise() - fit.mean.transpose();
  centered.array().colwise() *= w.array().sqrt();
  fit.covariance.resize(samples.cols(), samples.cols());
  detail::gemm(true, false, 1.0 / (total - 1.0), centered, centered, 0.0, fit.covariance);
  fit.covariance = 0.5 * (fit.covariance + fit.covariance.transpose()).eval();

  Eigen::MatrixXd vectors = fit.covariance;
  Eigen::VectorXd values = detail::symmetric_eigen(vectors, true);
  fit.num_clamped = static_cast<int>((values.array() < 0.0).count());
  const Eigen::VectorXd roots = values.array().max(0.0).sqrt();
  Eigen::MatrixXd scaled = vectors * roots.asDiagonal();
  fit.covariance_sqrt.resize(samples.cols(), samples.cols());
  detail::gemm(false, true, 1.0, scaled, vectors, 0.0, fit.covariance_sqrt);
  fit.covariance_trace = fit.covariance.trace();
  return fit;
}

FrechetReport frechet_distance(const GaussianFit& x, const GaussianFit& y) {
  if (x.mean.size() != y.mean.size()) {
    throw InputError(fmt::format("Gaussian fits of dimensions {} and {} cannot be compared",
                                 x.mean.size(), y.mean.size()));
  }
  const Eigen::Index dim = x.mean.size();
  // M = S_x Sigma_y S_x = B B^T with B = S_x S_y: one GEMM and one symmetric rank-k update, and M
  // is symmetric by construction. dsyevd reads the lower triangle, so it is mirrored first.
  Eigen::MatrixXd product(dim, dim);
  detail::gemm(false, false, 1.0, x.covariance_sqrt, y.covariance_sqrt, 0.0, product);
  Eigen::MatrixXd middle(dim, dim);
  detail::syrk_upper(product, 1.0, middle);
  middle.triangularView<Eigen::StrictlyLower>() = middle.transpose();
  const Eigen::VectorXd values = detail::symmetric_eigen(middle, false);

  FrechetReport report;
  report.num_clamped = static_cast<int>((values.array() < 0.0).count());
  const double trace_sqrt = values.array().max(0.0).sqrt().sum();
  const double squared = (x.mean - y.mean).squaredNorm() + x.covariance_trace +
                         y.covariance_trace - 2.0 * trace_sqrt;
  report.distance = std::sqrt(std::max(0.0, squared));
  return report;
}

FrechetReport frechet_distance(const Eigen::Ref<const Eigen::MatrixXd>& x,
                               const Eigen::Ref<const Eigen::MatrixXd>& y) {
  check_same_dim(x, y);
  if (x.rows() == y.rows() && x == y) {
    return {0.0, 0};  // d(u, u) = 0 by definition; rounding in the traces would leave ~1e-8
  }
  return frechet_distance(fit_gaussian(x), fit_gaussian(y));
}

double paired_cosine_distance(const Eigen::Ref<const Eigen::MatrixXd>& x,
                              const Eigen::Ref<const Eigen::MatrixXd>& y,
                              const std::vector<std::pair<Eigen::Index, Eigen::Index>>& pairs,
                              const Eigen::VectorXd& weights) {
  check_same_dim(x, y);
  const Eigen::VectorXd w = weights_or_ones(weights, static_cast<Eigen::Index>(pairs.size()));
  const double total = w.sum();
  if (pairs.empty() || !(total > 0.0)) {
    throw InputError("paired cosine needs at least one tile present at both mpps; check that the "
                     "tile ids match across mpps");
  }
  double sum = 0.0;
  for (std::size_t k = 0; k < pairs.size(); ++k) {
    const auto [row_x, row_y] = pairs[k];
    const double norms = x.row(row_x).norm() * y.row(row_y).norm();
    const double cosine = norms > 0.0 ? x.row(row_x).dot(y.row(row_y)) / norms : 0.0;
    sum += w(static_cast<Eigen::Index>(k)) * (1.0 - cosine);
  }
  return sum / total;
}

}  // namespace mgap
