#pragma once

#include <cstdint>
#include <random>

namespace mgap {

// The one random engine of mgap. std::mt19937_64 produces the same sequence on every conforming
// standard library, unlike the std:: distributions, so the draws below are written out by hand to
// keep seeded results identical across compilers.
using RandomEngine = std::mt19937_64;

// Uniform double in [0, 1) from the top 53 bits of one engine output.
inline double uniform01(RandomEngine& engine) {
  return static_cast<double>(engine() >> 11) * 0x1.0p-53;
}

// Uniform integer in [0, n) by rejection, without modulo bias. Requires n > 0.
std::uint64_t uniform_index(RandomEngine& engine, std::uint64_t n);

// Standard normal draw (Marsaglia polar method).
double standard_normal(RandomEngine& engine);

// Gamma(shape, 1) draw (Marsaglia and Tsang 2000), used for Dirichlet draws. Requires shape > 0.
double gamma_draw(RandomEngine& engine, double shape);

// Derives an independent seed for stream `index` from a base seed (SplitMix64 finalizer), so that
// worker threads, bootstrap resamples and optimizer starts each get their own reproducible stream.
std::uint64_t derive_seed(std::uint64_t base_seed, std::uint64_t index);

}  // namespace mgap
