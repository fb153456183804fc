#include "mgap/knn.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "mgap/blas.hpp"
#include "mgap/error.hpp"

namespace mgap {
namespace {

using Eigen::Index;
using Eigen::MatrixXd;

// Queries per block of the distance matrix: 10,000 training rows x 512 queries of doubles is 40 MB.
constexpr Index kQueryBlockRows = 512;

}  // namespace

MatrixXd unit_norm_rows(const Eigen::Ref<const MatrixXd>& embeddings) {
  // Norms of zero become 1 so that zero rows stay zero, as in scikit-learn's normalize.
  Eigen::ArrayXd norms = embeddings.rowwise().norm().array();
  norms = (norms > 0.0).select(norms, 1.0);
  // Division rather than multiplication by 1 / norm, as scikit-learn's normalize, so that the
  // similarities round the same way.
  MatrixXd unit = embeddings.array().colwise() / norms;
  return unit;
}

CosineNeighbors::CosineNeighbors(const Eigen::Ref<const MatrixXd>& embeddings,
                                 std::vector<int> labels, int num_classes)
    : labels_(std::move(labels)) {
  if (embeddings.rows() == 0 || embeddings.cols() == 0) {
    throw InputError(fmt::format(
        "kNN: the training matrix is {} x {}; pass at least one row and one column",
        embeddings.rows(), embeddings.cols()));
  }
  if (static_cast<Index>(labels_.size()) != embeddings.rows()) {
    throw InputError(fmt::format("kNN: {} labels for {} training rows; pass one label per row",
                                 labels_.size(), embeddings.rows()));
  }
  if (!embeddings.allFinite()) {
    throw InputError("kNN: the training embeddings contain NaN or infinite values");
  }
  int max_label = -1;
  for (std::size_t i = 0; i < labels_.size(); ++i) {
    if (labels_[i] < 0) {
      throw InputError(fmt::format("kNN: label {} at row {} is negative; encode classes as 0..K-1",
                                   labels_[i], i));
    }
    max_label = std::max(max_label, labels_[i]);
  }
  num_classes_ = num_classes > 0 ? num_classes : max_label + 1;
  if (max_label >= num_classes_) {
    throw InputError(fmt::format("kNN: label {} is outside 0..{}; encode classes as 0..K-1",
                                 max_label, num_classes_ - 1));
  }
  unit_rows_ = unit_norm_rows(embeddings);
}

Eigen::MatrixXi CosineNeighbors::kneighbors(const Eigen::Ref<const MatrixXd>& queries,
                                            int num_neighbors) const {
  if (num_neighbors < 1 || num_neighbors > num_rows()) {
    throw InputError(fmt::format(
        "kNN: k = {} is invalid for {} training rows; use 1 <= k <= the number of training rows",
        num_neighbors, num_rows()));
  }
  if (queries.cols() != embedding_dim()) {
    throw InputError(fmt::format(
        "kNN: the queries have {} columns but the training embeddings have {}; use embeddings of "
        "the same dimension",
        queries.cols(), embedding_dim()));
  }
  if (!queries.allFinite()) {
    throw InputError("kNN: the query embeddings contain NaN or infinite values");
  }

  const Index num_queries = queries.rows();
  Eigen::MatrixXi neighbors(num_queries, num_neighbors);
  std::vector<double> kth_search(static_cast<std::size_t>(num_rows()));
  std::vector<std::pair<double, int>> candidates;
  const auto k = static_cast<std::size_t>(num_neighbors);

  for (Index start = 0; start < num_queries; start += kQueryBlockRows) {
    const Index block_rows = std::min(kQueryBlockRows, num_queries - start);
    const MatrixXd unit_queries = unit_norm_rows(queries.middleRows(start, block_rows));
    // Distances of one query are a contiguous column: [num_rows, block_rows].
    MatrixXd distances(num_rows(), block_rows);
    detail::gemm(false, true, 1.0, unit_rows_, unit_queries, 0.0, distances);
    // 1 - s (the same value as scikit-learn's (-s) + 1), then clipped to [0, 2] as scikit-learn does.
    distances = (1.0 - distances.array()).cwiseMax(0.0).cwiseMin(2.0).matrix();

    for (Index i = 0; i < block_rows; ++i) {
      const double* column = distances.col(i).data();
      // The k-th smallest distance, then every row at or below it, ordered by (distance, row):
      // the equal-distance rule in the header.
      std::copy(column, column + num_rows(), kth_search.begin());
      std::nth_element(kth_search.begin(), kth_search.begin() + static_cast<std::ptrdiff_t>(k - 1),
                       kth_search.end());
      const double kth_distance = kth_search[k - 1];
      candidates.clear();
      for (Index j = 0; j < num_rows(); ++j) {
        if (column[j] <= kth_distance) {
          candidates.emplace_back(column[j], static_cast<int>(j));
        }
      }
      std::sort(candidates.begin(), candidates.end());
      for (Index j = 0; j < num_neighbors; ++j) {
        neighbors(start + i, j) = candidates[static_cast<std::size_t>(j)].second;
      }
    }
  }
  return neighbors;
}

std::vector<int> CosineNeighbors::vote(const Eigen::MatrixXi& neighbors, int num_neighbors) const {
  if (num_neighbors < 1 || num_neighbors > neighbors.cols()) {
    throw InputError(fmt::format("kNN: cannot vote with k = {} from {} neighbours per query",
                                 num_neighbors, neighbors.cols()));
  }
  std::vector<int> predictions(static_cast<std::size_t>(neighbors.rows()));
  std::vector<int> votes(static_cast<std::size_t>(num_classes_));
  for (Index i = 0; i < neighbors.rows(); ++i) {
    std::fill(votes.begin(), votes.end(), 0);
    for (Index j = 0; j < num_neighbors; ++j) {
      ++votes[static_cast<std::size_t>(labels_[static_cast<std::size_t>(neighbors(i, j))])];
    }
    // max_element returns the first maximum: the smallest class label among tied classes.
    predictions[static_cast<std::size_t>(i)] =
        static_cast<int>(std::max_element(votes.begin(), votes.end()) - votes.begin());
  }
  return predictions;
}

std::vector<int> CosineNeighbors::predict(const Eigen::Ref<const MatrixXd>& queries,
                                          int num_neighbors) const {
  return vote(kneighbors(queries, num_neighbors), num_neighbors);
}

}  // namespace mgap
