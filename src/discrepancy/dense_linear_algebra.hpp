#pragma once

// Thin wrappers over the system BLAS and LAPACK for the products and symmetric eigenproblems of
// the estimators. Eigen's own GEMM does not call BLAS unless EIGEN_USE_BLAS is defined for the
// whole program. On the 2-core Debian 12 machines OpenBLAS's dgemm ran about 3x faster than
// Eigen's for 2000 x 768 x 2000 (measured with -O3 and no -march flag).

#include <Eigen/Core>

namespace mgap::detail {

// c = alpha * op(a) * op(b) + beta * c, with op the transpose when the flag is set.
// Shapes are checked with assert; `c` must already have the result's shape.
void gemm(const Eigen::Ref<const Eigen::MatrixXd>& a, bool transpose_a,
          const Eigen::Ref<const Eigen::MatrixXd>& b, bool transpose_b, double alpha, double beta,
          Eigen::Ref<Eigen::MatrixXd> c);

// Upper triangle of c = alpha * a * a^T by a symmetric rank-k update (half the flops of GEMM).
// The strictly lower triangle of `c` [a.rows(), a.rows()] is left unchanged.
void syrk_upper(const Eigen::Ref<const Eigen::MatrixXd>& a, double alpha,
                Eigen::Ref<Eigen::MatrixXd> c);

// Eigenvalues (ascending) of the symmetric matrix `matrix` [n, n], read from its lower triangle,
// by LAPACK's dsyevd. With `compute_vectors`, `matrix` is overwritten by the eigenvectors (one per
// column); otherwise its contents are destroyed. Throws std::runtime_error if LAPACK fails.
Eigen::VectorXd symmetric_eigen(Eigen::MatrixXd& matrix, bool compute_vectors);

}  // namespace mgap::detail
