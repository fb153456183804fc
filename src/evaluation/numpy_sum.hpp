#pragma once

// Summation in numpy's order, so that statistics compared for equality (fold criteria, balanced
// accuracies that pick hyperparameters) round exactly as the scikit-learn reference does.

#include <cstddef>
#include <vector>

namespace mgap::detail {

// numpy's pairwise summation of a contiguous array: a plain loop below 8 values, eight running
// partial sums per block of up to 128 values, and blocks combined pairwise.
double numpy_pairwise_sum(const double* values, std::size_t count);

inline double numpy_sum(const std::vector<double>& values) {
  return numpy_pairwise_sum(values.data(), values.size());
}

// numpy.mean of a contiguous array: the pairwise sum divided by the count.
inline double numpy_mean(const std::vector<double>& values) {
  return numpy_sum(values) / static_cast<double>(values.size());
}

// numpy.std of a contiguous array with ddof = 0 (population standard deviation).
double numpy_std(const std::vector<double>& values);

}  // namespace mgap::detail
