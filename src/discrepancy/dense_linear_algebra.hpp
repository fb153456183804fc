#pragma once

// Thin wrappers over the system BLAS and LAPACK for the products and symmetric eigenproblems of
// the estimators. Eigen's own GEMM does not call BLAS unless EIGEN_USE_BLAS is defined for the
// whole program. On the 2-core Debian 12 machines OpenBLAS's dgemm ran about 3x faster than
// Eigen's for 2000 x 768 x 2000 (measured with -O3 and no -march flag).

#include <Eigen/Core>

// The matrix product detail::gemm is shared with the evaluation module.
#include "mgap/blas.hpp"

namespace mgap::detail {

// Upper triangle of c = alpha * a * a^T by a symmetric rank-k update (half the flops of GEMM).
// The strictly lower triangle of `c` [a.rows(), a.rows()] is left unchanged.
void syrk_upper(const Eigen::Ref<const Eigen::MatrixXd>& a, double alpha,
                Eigen::Ref<Eigen::MatrixXd> c);

// Eigenvalues (ascending) of the symmetric matrix `matrix` [n, n], read from its lower triangle,
// by LAPACK's dsyevd. With `compute_vectors`, `matrix` is overwritten by the eigenvectors (one per
// column); otherwise its contents are destroyed. Throws std::runtime_error if LAPACK fails.
Eigen::VectorXd symmetric_eigen(Eigen::MatrixXd& matrix, bool compute_vectors);

}  // namespace mgap::detail
