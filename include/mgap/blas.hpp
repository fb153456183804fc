#pragma once

// Matrix products of the evaluation and discrepancy modules through the system CBLAS (OpenBLAS on
// Debian when libopenblas is installed). Internal to mgap's libraries, hence namespace detail. Eigen's own GEMM does not use the system BLAS, and with the default
// flags its kernels use SSE2 only. In a one-off measurement on a 2-core Debian 12 machine,
// OpenBLAS 0.3.21 ran the kNN similarity product (6,120 x 384 by 384 x 7,680) in about 3.5x less
// CPU time than Eigen 3.4.

#include <Eigen/Core>

namespace mgap::detail {

// c = alpha * op(a) * op(b) + beta * c, with op the transpose when requested. All matrices are
// column-major; `c` must already have the product's shape.
void gemm(bool transpose_a, bool transpose_b, double alpha,
          const Eigen::Ref<const Eigen::MatrixXd>& a, const Eigen::Ref<const Eigen::MatrixXd>& b,
          double beta, Eigen::Ref<Eigen::MatrixXd> c);

// The same product in single precision (cblas_sgemm).
void gemm(bool transpose_a, bool transpose_b, float alpha,
          const Eigen::Ref<const Eigen::MatrixXf>& a, const Eigen::Ref<const Eigen::MatrixXf>& b,
          float beta, Eigen::Ref<Eigen::MatrixXf> c);

// Sets OpenBLAS to one thread for its lifetime and restores the previous count afterwards, so that
// folds running on worker threads do not each start a team of BLAS threads. Does nothing when the
// BLAS in use is not OpenBLAS (found at run time, so any CBLAS links).
class SingleThreadedBlas {
 public:
  SingleThreadedBlas();
  ~SingleThreadedBlas();
  SingleThreadedBlas(const SingleThreadedBlas&) = delete;
  SingleThreadedBlas& operator=(const SingleThreadedBlas&) = delete;

 private:
  int previous_threads_ = 0;  // 0 when nothing was changed
};

}  // namespace mgap::detail
