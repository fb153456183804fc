#include "dense_linear_algebra.hpp"

#include <cblas.h>

#include <cassert>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

extern "C" {
// LAPACK's symmetric eigensolver (divide and conquer), from the Fortran library. The two trailing
// arguments are the hidden lengths of the character arguments that gfortran passes.
void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w,
             double* work, const int* lwork, int* iwork, const int* liwork, int* info,
             std::size_t jobz_length, std::size_t uplo_length);
}

namespace mgap::detail {

void syrk_upper(const Eigen::Ref<const Eigen::MatrixXd>& a, double alpha,
                Eigen::Ref<Eigen::MatrixXd> c) {
  assert(c.rows() == a.rows());
  assert(c.cols() == a.rows());
  if (a.rows() == 0) {
    return;
  }
  if (a.cols() == 0) {
    c.triangularView<Eigen::Upper>().setZero();
    return;
  }
  cblas_dsyrk(CblasColMajor, CblasUpper, CblasNoTrans, static_cast<int>(a.rows()),
              static_cast<int>(a.cols()), alpha, a.data(), static_cast<int>(a.outerStride()), 0.0,
              c.data(), static_cast<int>(c.outerStride()));
}

Eigen::VectorXd symmetric_eigen(Eigen::MatrixXd& matrix, bool compute_vectors) {
  assert(matrix.rows() == matrix.cols());
  const int n = static_cast<int>(matrix.rows());
  Eigen::VectorXd values(n);
  if (n == 0) {
    return values;
  }
  const char jobz = compute_vectors ? 'V' : 'N';
  const char uplo = 'L';
  int info = 0;
  // Workspace query first, as LAPACK recommends, then the solve.
  int lwork = -1;
  int liwork = -1;
  double work_size = 0.0;
  int iwork_size = 0;
  dsyevd_(&jobz, &uplo, &n, matrix.data(), &n, values.data(), &work_size, &lwork, &iwork_size,
          &liwork, &info, 1, 1);
  if (info != 0) {
    throw std::runtime_error("LAPACK dsyevd workspace query failed with info " +
                             std::to_string(info));
  }
  lwork = static_cast<int>(work_size);
  liwork = iwork_size;
  std::vector<double> work(static_cast<std::size_t>(lwork));
  std::vector<int> iwork(static_cast<std::size_t>(liwork));
  dsyevd_(&jobz, &uplo, &n, matrix.data(), &n, values.data(), work.data(), &lwork, iwork.data(),
          &liwork, &info, 1, 1);
  if (info != 0) {
    throw std::runtime_error("LAPACK dsyevd failed with info " + std::to_string(info) +
                             " on a " + std::to_string(n) + " x " + std::to_string(n) + " matrix");
  }
  return values;
}

}  // namespace mgap::detail
