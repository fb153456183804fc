#include <doctest/doctest.h>

#include <cmath>

#include "mgap/random.hpp"

TEST_CASE("uniform01 is reproducible and in range") {
  mgap::RandomEngine first(42);
  mgap::RandomEngine second(42);
  for (int i = 0; i < 1000; ++i) {
    const double value = mgap::uniform01(first);
    CHECK(value == mgap::uniform01(second));
    CHECK(value >= 0.0);
    CHECK(value < 1.0);
  }
}

TEST_CASE("gamma draws have the right mean") {
  // Mean of Gamma(k, 1) is k; 20,000 draws give a standard error of sqrt(k / 20000).
  mgap::RandomEngine engine(7);
  for (const double shape : {0.5, 1.0, 3.0}) {
    double sum = 0.0;
    const int count = 20000;
    for (int i = 0; i < count; ++i) {
      sum += mgap::gamma_draw(engine, shape);
    }
    const double standard_error = std::sqrt(shape / count);
    CHECK(std::abs(sum / count - shape) < 5.0 * standard_error);
  }
}

TEST_CASE("derived seeds differ per stream") {
  CHECK(mgap::derive_seed(1, 0) != mgap::derive_seed(1, 1));
  CHECK(mgap::derive_seed(1, 0) != mgap::derive_seed(2, 0));
  CHECK(mgap::derive_seed(5, 3) == mgap::derive_seed(5, 3));
}
