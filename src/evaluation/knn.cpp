#include "mgap/knn.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <utility>

#include "mgap/blas.hpp"
#include "mgap/error.hpp"

namespace mgap {
namespace {

using Eigen::Index;
using Eigen::MatrixXd;

// Queries per block of the similarity matrix: 10,000 training rows x 512 queries of floats is 20 MB.
constexpr Index kQueryBlockRows = 512;

// A training row that passed the single-precision screening.
struct Candidate {
  float similarity = 0.0F;  // single precision
  int row = 0;
  double distance = 0.0;    // double precision; computed only where the order needs it
};

// Orders the first k of `candidates` by (double-precision distance, row). They are sorted by
// single-precision similarity first. Consecutive candidates whose similarities differ by more
// than `tie_window` (twice the float error bound) are in the same order in double precision, so
// only runs of closer candidates get their double-precision distances, which is a few per query.
void order_candidates(std::vector<Candidate>& candidates, std::size_t k, double tie_window,
                      const MatrixXd& unit_columns, const Eigen::Ref<const Eigen::VectorXd>& query) {
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    return a.similarity != b.similarity ? a.similarity > b.similarity : a.row < b.row;
  });
  std::size_t first = 0;
  while (first < k) {
    std::size_t end = first + 1;
    while (end < candidates.size() && static_cast<double>(candidates[end - 1].similarity) -
                                              static_cast<double>(candidates[end].similarity) <=
                                          tie_window) {
      ++end;
    }
    if (end - first > 1) {
      for (std::size_t c = first; c < end; ++c) {
        // 1 - s (the same value as scikit-learn's (-s) + 1), clipped to [0, 2] as scikit-learn
        // does.
        const double similarity = unit_columns.col(candidates[c].row).dot(query);
        candidates[c].distance = std::clamp(1.0 - similarity, 0.0, 2.0);
      }
      // The equal-distance rule in the header: (distance, row).
      std::sort(candidates.begin() + static_cast<std::ptrdiff_t>(first),
                candidates.begin() + static_cast<std::ptrdiff_t>(end),
                [](const Candidate& a, const Candidate& b) {
                  return a.distance != b.distance ? a.distance < b.distance : a.row < b.row;
                });
    }
    first = end;
  }
}

// Fills `candidates` with every row of `column` [n] (single-precision similarities of one query)
// whose similarity is at least the k-th largest minus `window`. A pre-threshold from a sample of
// every 8th value lets one pass over the column keep about 2k rows. The rare column where fewer
// than k rows pass, or where the window reaches below the pre-threshold, is scanned again in full.
void screen_candidates(const float* column, Index n, std::size_t k, double window,
                       std::vector<float>& scratch, std::vector<Candidate>& candidates) {
  constexpr Index kSampleStride = 8;
  const std::size_t sample_rank = 2 * k / kSampleStride + 1;
  float threshold = -std::numeric_limits<float>::infinity();
  if (static_cast<std::size_t>(n / kSampleStride) > sample_rank) {
    scratch.clear();
    for (Index j = 0; j < n; j += kSampleStride) {
      scratch.push_back(column[j]);
    }
    const auto rank = scratch.begin() + static_cast<std::ptrdiff_t>(sample_rank - 1);
    std::nth_element(scratch.begin(), rank, scratch.end(), std::greater<>());
    threshold = *rank;
  }

  const auto keep_at_least = [&](float lowest) {
    candidates.clear();
    for (Index j = 0; j < n; ++j) {
      if (column[j] >= lowest) {
        candidates.push_back({column[j], static_cast<int>(j), 0.0});
      }
    }
  };
  keep_at_least(threshold);
  if (candidates.size() < k) {
    threshold = -std::numeric_limits<float>::infinity();
    keep_at_least(threshold);
  }

  // At least k rows reach the threshold, so the k largest similarities are all among them.
  scratch.clear();
  for (const Candidate& candidate : candidates) {
    scratch.push_back(candidate.similarity);
  }
  const auto kth = scratch.begin() + static_cast<std::ptrdiff_t>(k - 1);
  std::nth_element(scratch.begin(), kth, scratch.end(), std::greater<>());
  const double lowest = static_cast<double>(*kth) - window;
  if (lowest < static_cast<double>(threshold)) {
    candidates.clear();
    for (Index j = 0; j < n; ++j) {
      if (static_cast<double>(column[j]) >= lowest) {
        candidates.push_back({column[j], static_cast<int>(j), 0.0});
      }
    }
    return;
  }
  candidates.erase(std::remove_if(candidates.begin(), candidates.end(),
                                  [&](const Candidate& candidate) {
                                    return static_cast<double>(candidate.similarity) < lowest;
                                  }),
                   candidates.end());
}

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
  unit_columns_ = unit_norm_rows(embeddings).transpose();
  unit_columns_float_ = unit_columns_.cast<float>();
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
  std::vector<float> scratch;
  std::vector<Candidate> candidates;
  const auto k = static_cast<std::size_t>(num_neighbors);
  // Bound on |single - double precision similarity| of two unit vectors: rounding both inputs to
  // float costs 2u and a float sum of d products at most d u (u = 2^-24, any summation order),
  // times sum_j |x_j y_j| <= 1. Two more u cover the second-order terms.
  const double margin =
      static_cast<double>(embedding_dim() + 4) * 0.5 * std::numeric_limits<float>::epsilon();

  for (Index start = 0; start < num_queries; start += kQueryBlockRows) {
    const Index block_rows = std::min(kQueryBlockRows, num_queries - start);
    // One unit query per column: [embedding_dim, block_rows].
    const MatrixXd unit_queries = unit_norm_rows(queries.middleRows(start, block_rows)).transpose();
    const Eigen::MatrixXf unit_queries_float = unit_queries.cast<float>();
    // Single-precision similarities of one query are a contiguous column: [num_rows, block_rows].
    Eigen::MatrixXf similarities(num_rows(), block_rows);
    detail::gemm(true, false, 1.0F, unit_columns_float_, unit_queries_float, 0.0F, similarities);

    for (Index i = 0; i < block_rows; ++i) {
      const float* column = similarities.col(i).data();
      screen_candidates(column, num_rows(), k, 2.0 * margin, scratch, candidates);
      order_candidates(candidates, k, 2.0 * margin, unit_columns_, unit_queries.col(i));
      for (Index j = 0; j < num_neighbors; ++j) {
        neighbors(start + i, j) = candidates[static_cast<std::size_t>(j)].row;
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
