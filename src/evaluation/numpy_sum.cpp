#include "numpy_sum.hpp"

#include <cmath>

namespace mgap::detail {

double numpy_pairwise_sum(const double* values, std::size_t count) {
  constexpr std::size_t kBlockSize = 128;
  if (count < 8) {
    double sum = 0.0;
    for (std::size_t i = 0; i < count; ++i) {
      sum += values[i];
    }
    return sum;
  }
  if (count <= kBlockSize) {
    double partial[8];
    for (std::size_t j = 0; j < 8; ++j) {
      partial[j] = values[j];
    }
    std::size_t i = 8;
    for (; i < count - (count % 8); i += 8) {
      for (std::size_t j = 0; j < 8; ++j) {
        partial[j] += values[i + j];
      }
    }
    double sum = ((partial[0] + partial[1]) + (partial[2] + partial[3])) +
                 ((partial[4] + partial[5]) + (partial[6] + partial[7]));
    for (; i < count; ++i) {
      sum += values[i];
    }
    return sum;
  }
  std::size_t half = count / 2;
  half -= half % 8;
  return numpy_pairwise_sum(values, half) + numpy_pairwise_sum(values + half, count - half);
}

double numpy_std(const std::vector<double>& values) {
  const double mean = numpy_mean(values);
  std::vector<double> squared(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    squared[i] = (values[i] - mean) * (values[i] - mean);
  }
  return std::sqrt(numpy_sum(squared) / static_cast<double>(values.size()));
}

}  // namespace mgap::detail
