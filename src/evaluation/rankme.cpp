#include "mgap/rankme.hpp"

#include <Eigen/Eigenvalues>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "mgap/blas.hpp"
#include "mgap/error.hpp"

namespace mgap {

double rankme(const Eigen::Ref<const Eigen::MatrixXd>& embeddings) {
  const Eigen::Index num_rows = embeddings.rows();
  if (num_rows < 2 || embeddings.cols() < 1) {
    throw InputError(fmt::format(
        "RankMe: the embedding matrix is {} x {}; it needs at least two rows and one column",
        num_rows, embeddings.cols()));
  }
  if (!embeddings.allFinite()) {
    throw InputError("RankMe: the embeddings contain NaN or infinite values");
  }

  const Eigen::RowVectorXd mean = embeddings.colwise().mean();
  const Eigen::MatrixXd centered = embeddings.rowwise() - mean;
  Eigen::MatrixXd covariance(embeddings.cols(), embeddings.cols());
  detail::gemm(true, false, 1.0 / static_cast<double>(num_rows - 1), centered, centered, 0.0,
               covariance);
  if (covariance.diagonal().maxCoeff() <= 0.0) {
    throw InputError(fmt::format(
        "RankMe: the {} embeddings are all identical (for example all zero), so their covariance "
        "is zero and the effective rank is undefined; check the encoder output",
        num_rows));
  }

  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(covariance,
                                                              Eigen::EigenvaluesOnly);
  if (solver.info() != Eigen::Success) {
    throw InputError("RankMe: the eigen-decomposition of the embedding covariance failed");
  }
  const Eigen::VectorXd eigenvalues =
      solver.eigenvalues().cwiseMax(kRankMeEigenvalueFloor);
  const double total = eigenvalues.sum();
  double entropy = 0.0;
  for (const double eigenvalue : eigenvalues) {
    const double p = eigenvalue / total;
    entropy -= p * std::log(p);
  }
  return std::exp(entropy);
}

}  // namespace mgap
