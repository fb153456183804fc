#include "mgap/knn.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "mgap/error.hpp"

namespace mgap {
namespace {

using Eigen::Index;
using Eigen::MatrixXd;

// Queries per block of the similarity matrix: 512 x 10,000 doubles is 40 MB.
constexpr Index kQueryBlockRows = 512;

}  // namespace

MatrixXd unit_norm_rows(const Eigen::Ref<const MatrixXd>& embeddings) {
  MatrixXd unit = embeddings;
  for (Index i = 0; i < unit.rows(); ++i) {
    const double norm = unit.row(i).norm();
    // Division rather than multiplication by 1 / norm, as scikit-learn's normalize, so that the
    // similarities round the same way.
    if (norm > 0.0) {
      unit.row(i) /= norm;
    }
  }
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
  std::vector<std::pair<double, int>> candidates(static_cast<std::size_t>(num_rows()));
  const auto k = static_cast<std::ptrdiff_t>(num_neighbors);

  for (Index start = 0; start < num_queries; start += kQueryBlockRows) {
    const Index block_rows = std::min(kQueryBlockRows, num_queries - start);
    const MatrixXd unit_queries = unit_norm_rows(queries.middleRows(start, block_rows));
    const MatrixXd similarities = unit_queries * unit_rows_.transpose();  // [block_rows, num_rows]

    for (Index i = 0; i < block_rows; ++i) {
      for (Index j = 0; j < num_rows(); ++j) {
        // (-s) + 1 then clip, the order of operations of scikit-learn's cosine_distances.
        const double distance = std::clamp(-similarities(i, j) + 1.0, 0.0, 2.0);
        candidates[static_cast<std::size_t>(j)] = {distance, static_cast<int>(j)};
      }
      // Pairs compare by distance, then by row index: the equal-distance rule in the header.
      std::nth_element(candidates.begin(), candidates.begin() + (k - 1), candidates.end());
      std::sort(candidates.begin(), candidates.begin() + k);
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
