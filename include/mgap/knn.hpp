#pragma once

// k-nearest-neighbour classification with the cosine distance and uniform votes, reproducing
// scikit-learn 1.2's KNeighborsClassifier(metric="cosine", weights="uniform", algorithm="brute").
//
// Distance: d(x, y) = clip(1 - <x, y> / (||x|| ||y||), 0, 2), computed as scikit-learn does: rows
// are scaled to unit norm first (a zero row stays zero, so its distance to anything is 1), then
// one matrix product gives the similarities. Equal-distance rule: neighbours are ordered by
// (distance, training row index), so among training rows at exactly the same distance at the k-th
// place the one with the lowest row index is taken. scikit-learn takes that choice from
// numpy.argpartition (introselect), whose order among equal values is not specified; exact
// distance ties arise only from duplicated or proportional embeddings.
// Vote rule: the class with the most votes among the k neighbours wins. A tie between classes goes
// to the smallest class label, as scipy.stats.mode does (scikit-learn 1.2 uses it for uniform
// weights).
//
// Search: the similarities of all pairs are first computed in single precision (one sgemm, which
// OpenBLAS runs at about twice the dgemm rate). Every training row whose single-precision
// distance is within 2 * margin of the k-th smallest one is a candidate. Here
// margin = (d + 4) * 2^-24 bounds the float error of a product of unit vectors in d dimensions
// (input rounding plus the sum). The candidates therefore contain the k nearest rows and every
// row tied with the k-th. Candidates whose single-precision distances are within 2 * margin of
// each other get double-precision distances and are ordered by the rule above, so the result is
// the one of a double-precision search.
//
// Complexity: O(m n d) for m queries and n training rows (one matrix product), plus O(m n) to
// select the candidates, O(c log c) to sort the c candidates of a query (about k) and O(d) for
// each candidate in a near-tie. Memory: the similarities are computed in blocks of queries.

#include <Eigen/Core>

#include <vector>

namespace mgap {

class CosineNeighbors {
 public:
  // Stores the training rows `embeddings` [num_rows, embedding_dim], scaled to unit norm, and their
  // `labels` [num_rows] in 0..num_classes-1 (num_classes = 0 takes 1 + the largest label). Throws
  // InputError for empty input, mismatched lengths, non-finite values or labels out of range.
  CosineNeighbors(const Eigen::Ref<const Eigen::MatrixXd>& embeddings, std::vector<int> labels,
                  int num_classes = 0);

  Eigen::Index num_rows() const { return unit_columns_.cols(); }
  Eigen::Index embedding_dim() const { return unit_columns_.rows(); }
  int num_classes() const { return num_classes_; }

  // Indices of the `num_neighbors` nearest training rows of every query row of `queries`
  // [num_queries, embedding_dim], nearest first, [num_queries, num_neighbors] (row-major order
  // per query: neighbour j of query i is at (i, j)). Throws InputError if num_neighbors is not in
  // 1..num_rows() or the query width differs from embedding_dim().
  Eigen::MatrixXi kneighbors(const Eigen::Ref<const Eigen::MatrixXd>& queries,
                             int num_neighbors) const;

  // Majority vote of the first `num_neighbors` columns of `neighbors` (as returned by kneighbors,
  // possibly with more columns), [num_queries]. A prefix equals a separate kneighbors call with
  // num_neighbors, so one search serves a whole grid of k.
  std::vector<int> vote(const Eigen::MatrixXi& neighbors, int num_neighbors) const;

  // kneighbors followed by vote.
  std::vector<int> predict(const Eigen::Ref<const Eigen::MatrixXd>& queries,
                           int num_neighbors) const;

 private:
  // The training rows scaled to unit norm, one per column: [embedding_dim, num_rows].
  Eigen::MatrixXd unit_columns_;
  Eigen::MatrixXf unit_columns_float_;  // the same in single precision
  std::vector<int> labels_;
  int num_classes_ = 0;
};

// Rows of `embeddings` scaled to unit Euclidean norm; zero rows stay zero.
Eigen::MatrixXd unit_norm_rows(const Eigen::Ref<const Eigen::MatrixXd>& embeddings);

}  // namespace mgap
