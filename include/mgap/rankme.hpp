#pragma once

// RankMe effective rank of a set of embeddings.
//
//     RankMe = exp(H(p)),  H(p) = -sum_k p_k log p_k,  p_k = lambda_k / sum_j lambda_j,
//
// where lambda_k are the eigenvalues of the sample covariance of the embeddings, each clamped
// below at kRankMeEigenvalueFloor before normalizing. It lies in [1, embedding_dim]: D for
// isotropic embeddings, about 1 when the embeddings vary along one direction only (collapse).
// The floor is absolute, so embeddings whose covariance eigenvalues are all near 1e-12 (values of
// order 1e-6) are measured against the floor rather than each other.
//
// Reference: Garrido, Balestriero, Najman and LeCun, "RankMe: Assessing the downstream performance
// of pretrained self-supervised representations by their rank", ICML 2023 (which applies the
// same entropy to singular values of the embedding matrix; mgap uses covariance eigenvalues).
//
// Complexity: O(n D^2) for the covariance plus O(D^3) for the symmetric eigen-decomposition.

#include <Eigen/Core>

namespace mgap {

inline constexpr double kRankMeEigenvalueFloor = 1e-12;

// RankMe of `embeddings` [num_tiles, embedding_dim]. Throws InputError for fewer than two rows,
// non-finite values, or embeddings with zero covariance (all rows equal, including all zeros).
double rankme(const Eigen::Ref<const Eigen::MatrixXd>& embeddings);

}  // namespace mgap
