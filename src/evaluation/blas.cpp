#include "mgap/blas.hpp"

#include <cblas.h>
#include <dlfcn.h>

#include <cassert>

namespace mgap::detail {
namespace {

using SetThreads = void (*)(int);
using GetThreads = int (*)();

}  // namespace

void gemm(bool transpose_a, bool transpose_b, double alpha,
          const Eigen::Ref<const Eigen::MatrixXd>& a, const Eigen::Ref<const Eigen::MatrixXd>& b,
          double beta, Eigen::Ref<Eigen::MatrixXd> c) {
  const Eigen::Index m = transpose_a ? a.cols() : a.rows();
  const Eigen::Index k = transpose_a ? a.rows() : a.cols();
  const Eigen::Index n = transpose_b ? b.rows() : b.cols();
  assert(k == (transpose_b ? b.cols() : b.rows()));
  assert(c.rows() == m);
  assert(c.cols() == n);
  if (m == 0 || n == 0) {
    return;
  }
  if (k == 0) {
    c *= beta;
    return;
  }
  cblas_dgemm(CblasColMajor, transpose_a ? CblasTrans : CblasNoTrans,
              transpose_b ? CblasTrans : CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
              static_cast<int>(k), alpha, a.data(), static_cast<int>(a.outerStride()), b.data(),
              static_cast<int>(b.outerStride()), beta, c.data(),
              static_cast<int>(c.outerStride()));
}

void gemm(bool transpose_a, bool transpose_b, float alpha,
          const Eigen::Ref<const Eigen::MatrixXf>& a, const Eigen::Ref<const Eigen::MatrixXf>& b,
          float beta, Eigen::Ref<Eigen::MatrixXf> c) {
  const Eigen::Index m = transpose_a ? a.cols() : a.rows();
  const Eigen::Index k = transpose_a ? a.rows() : a.cols();
  const Eigen::Index n = transpose_b ? b.rows() : b.cols();
  assert(k == (transpose_b ? b.cols() : b.rows()));
  assert(c.rows() == m);
  assert(c.cols() == n);
  if (m == 0 || n == 0) {
    return;
  }
  if (k == 0) {
    c *= beta;
    return;
  }
  cblas_sgemm(CblasColMajor, transpose_a ? CblasTrans : CblasNoTrans,
              transpose_b ? CblasTrans : CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
              static_cast<int>(k), alpha, a.data(), static_cast<int>(a.outerStride()), b.data(),
              static_cast<int>(b.outerStride()), beta, c.data(),
              static_cast<int>(c.outerStride()));
}

SingleThreadedBlas::SingleThreadedBlas() {
  const auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  const auto get = reinterpret_cast<GetThreads>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  if (set == nullptr || get == nullptr) {
    return;
  }
  previous_threads_ = get();
  set(1);
}

SingleThreadedBlas::~SingleThreadedBlas() {
  if (previous_threads_ <= 0) {
    return;
  }
  const auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (set != nullptr) {
    set(previous_threads_);
  }
}

}  // namespace mgap::detail
