#include "mgap/random.hpp"

#include <cassert>
#include <cmath>
#include <limits>

namespace mgap {

std::uint64_t uniform_index(RandomEngine& engine, std::uint64_t n) {
  assert(n > 0);
  // Reject the top partial block so every residue is equally likely.
  const std::uint64_t limit = std::numeric_limits<std::uint64_t>::max() -
                              std::numeric_limits<std::uint64_t>::max() % n;
  std::uint64_t value = engine();
  while (value >= limit) {
    value = engine();
  }
  return value % n;
}

double standard_normal(RandomEngine& engine) {
  double x = 0.0;
  double y = 0.0;
  double radius_squared = 0.0;
  do {
    x = 2.0 * uniform01(engine) - 1.0;
    y = 2.0 * uniform01(engine) - 1.0;
    radius_squared = x * x + y * y;
  } while (radius_squared >= 1.0 || radius_squared == 0.0);
  return x * std::sqrt(-2.0 * std::log(radius_squared) / radius_squared);
}

double gamma_draw(RandomEngine& engine, double shape) {
  assert(shape > 0.0);
  if (shape < 1.0) {
    // Boost the shape by one and correct with a uniform power (Marsaglia and Tsang, section 6).
    const double u = uniform01(engine);
    return gamma_draw(engine, shape + 1.0) * std::pow(u, 1.0 / shape);
  }
  const double d = shape - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  while (true) {
    double x = 0.0;
    double v = 0.0;
    do {
      x = standard_normal(engine);
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    const double u = uniform01(engine);
    if (u < 1.0 - 0.0331 * x * x * x * x) {
      return d * v;
    }
    if (u > 0.0 && std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) {
      return d * v;
    }
  }
}

std::uint64_t derive_seed(std::uint64_t base_seed, std::uint64_t index) {
  std::uint64_t z = base_seed + 0x9E3779B97F4A7C15ULL * (index + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace mgap
