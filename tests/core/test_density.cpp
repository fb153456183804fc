#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "mgap/density.hpp"
#include "mgap/density_json.hpp"
#include "mgap/error.hpp"

using mgap::Coordinate;
using mgap::MppDomain;
using mgap::SamplingDensity;

namespace {

const MppDomain kDefaultDomain{0.25, 2.0};

// Sums of a few hundred masses: rounding stays below 1e-12.
constexpr double kSumTolerance = 1e-12;

// Kolmogorov-Smirnov statistic of `draws` against the density's CDF. With atoms the CDF jumps, so
// the statistic compares both one-sided limits at every draw.
double kolmogorov_smirnov(const SamplingDensity& density, std::vector<double> draws) {
  std::sort(draws.begin(), draws.end());
  const double n = static_cast<double>(draws.size());
  double statistic = 0.0;
  std::size_t i = 0;
  while (i < draws.size()) {
    std::size_t j = i;
    while (j < draws.size() && draws[j] == draws[i]) {
      ++j;
    }
    const double model_at = density.cdf(draws[i]);
    const double model_before = density.cdf(std::nextafter(draws[i], 0.0));
    statistic = std::max(statistic, std::abs(static_cast<double>(j) / n - model_at));
    statistic = std::max(statistic, std::abs(static_cast<double>(i) / n - model_before));
    i = j;
  }
  return statistic;
}

// Critical value of the one-sample KS test at significance 0.001 for large n: 1.95 / sqrt(n).
double ks_critical_value(std::size_t n) { return 1.95 / std::sqrt(static_cast<double>(n)); }

}  // namespace

TEST_CASE("continuous uniform mass per octave") {
  const SamplingDensity log_uniform =
      mgap::make_continuous_uniform(kDefaultDomain, Coordinate::kLog2Mpp, 96);
  const auto log_summary = log_uniform.summary();
  REQUIRE(log_summary.octave_masses.size() == 3);
  for (const auto& octave : log_summary.octave_masses) {
    CHECK(octave.mass == doctest::Approx(1.0 / 3.0).epsilon(kSumTolerance));
  }

  // Uniform in mpp on [0.25, 2]: 0.25/1.75 = 14.3% in [0.25, 0.5], 1/1.75 = 57.1% in [1, 2].
  const SamplingDensity linear_uniform =
      mgap::make_continuous_uniform(kDefaultDomain, Coordinate::kMpp, 96);
  const auto linear_summary = linear_uniform.summary();
  CHECK(linear_summary.octave_masses[0].mass == doctest::Approx(0.25 / 1.75).epsilon(1e-12));
  CHECK(linear_summary.octave_masses[2].mass == doctest::Approx(1.0 / 1.75).epsilon(1e-12));
  CHECK(linear_summary.mean_mpp == doctest::Approx(1.125).epsilon(1e-12));
}

TEST_CASE("log-uniform mean mpp closed form") {
  // For log2 mpp uniform on [-2, 1]: E[mpp] = (2 - 0.25) / (3 ln 2).
  const SamplingDensity density =
      mgap::make_continuous_uniform(kDefaultDomain, Coordinate::kLog2Mpp, 7);
  CHECK(density.summary().mean_mpp == doctest::Approx(1.75 / (3.0 * std::log(2.0))).epsilon(1e-12));
  CHECK(density.summary().mean_log2_mpp == doctest::Approx(-0.5).epsilon(1e-12));
  CHECK(density.summary().entropy_nats == doctest::Approx(std::log(3.0)).epsilon(1e-12));
}

TEST_CASE("pdf conversion uses the Jacobian") {
  const SamplingDensity density =
      mgap::make_continuous_uniform(kDefaultDomain, Coordinate::kLog2Mpp, 12);
  for (const double mpp : {0.3, 0.7, 1.9}) {
    CHECK(density.pdf_log2_mpp(mpp) == doctest::Approx(1.0 / 3.0));
    CHECK(density.pdf_mpp(mpp) == doctest::Approx(1.0 / 3.0 / (mpp * std::log(2.0))));
  }
  const SamplingDensity linear = mgap::make_continuous_uniform(kDefaultDomain, Coordinate::kMpp, 5);
  CHECK(linear.pdf_mpp(1.3) == doctest::Approx(1.0 / 1.75));
  CHECK(density.pdf_mpp(3.0) == 0.0);
}

TEST_CASE("quantile inverts the CDF") {
  const SamplingDensity density =
      mgap::make_beta(kDefaultDomain, Coordinate::kLog2Mpp, 64, 2.0, 5.0);
  for (const double probability : {0.01, 0.2, 0.5, 0.77, 0.99}) {
    CHECK(density.cdf(density.quantile(probability)) == doctest::Approx(probability).epsilon(1e-12));
  }
  CHECK(density.quantile(0.0) == doctest::Approx(0.25));
  CHECK(density.quantile(1.0) == doctest::Approx(2.0));
}

TEST_CASE("discrete uniform CDF jumps at atoms") {
  const SamplingDensity density = mgap::make_discrete_uniform(kDefaultDomain, Coordinate::kLog2Mpp);
  CHECK(density.cdf(0.2) == 0.0);
  CHECK(density.cdf(0.25) == doctest::Approx(0.25));
  CHECK(density.cdf(0.7) == doctest::Approx(0.5));
  CHECK(density.cdf(2.0) == doctest::Approx(1.0));
  CHECK(density.quantile(0.3) == 0.5);
  CHECK(density.quantile(0.25) == 0.25);
  const auto summary = density.summary();
  CHECK_FALSE(summary.has_entropy);
  for (const auto& octave : summary.octave_masses) {
    CHECK(octave.mass == doctest::Approx(octave.hi_mpp >= 2.0 ? 0.5 : 0.25));
  }
  for (const auto& band : summary.standard_mpp_masses) {
    CHECK(band.mass == doctest::Approx(0.25));
  }
}

TEST_CASE("inverse CDF sampling matches CDF") {
  const std::size_t count = 100000;
  SUBCASE("beta in log2 mpp") {
    const SamplingDensity density =
        mgap::make_beta(kDefaultDomain, Coordinate::kLog2Mpp, 128, 0.7, 1.8);
    mgap::RandomEngine engine(11);
    CHECK(kolmogorov_smirnov(density, density.sample(engine, count)) < ks_critical_value(count));
  }
  SUBCASE("continuous uniform in mpp") {
    const SamplingDensity density = mgap::make_continuous_uniform(kDefaultDomain, Coordinate::kMpp, 32);
    mgap::RandomEngine engine(12);
    CHECK(kolmogorov_smirnov(density, density.sample(engine, count)) < ks_critical_value(count));
  }
  SUBCASE("bins mixed with atoms") {
    std::vector<double> edges = mgap::equal_width_edges_mpp(kDefaultDomain, Coordinate::kLog2Mpp, 6);
    const SamplingDensity density(Coordinate::kLog2Mpp, kDefaultDomain, edges,
                                  {0.1, 0.05, 0.15, 0.1, 0.0, 0.2}, {{0.5, 0.3}, {0.8, 0.1}});
    mgap::RandomEngine engine(13);
    CHECK(kolmogorov_smirnov(density, density.sample(engine, count)) < ks_critical_value(count));
  }
  SUBCASE("detects a wrong density") {
    const SamplingDensity truth = mgap::make_continuous_uniform(kDefaultDomain, Coordinate::kMpp, 8);
    const SamplingDensity other =
        mgap::make_continuous_uniform(kDefaultDomain, Coordinate::kLog2Mpp, 8);
    mgap::RandomEngine engine(14);
    CHECK(kolmogorov_smirnov(truth, other.sample(engine, count)) > ks_critical_value(count));
  }
}

TEST_CASE("sampling is reproducible per seed") {
  const SamplingDensity density = mgap::make_continuous_uniform(kDefaultDomain, Coordinate::kLog2Mpp, 8);
  mgap::RandomEngine first(5);
  mgap::RandomEngine second(5);
  CHECK(density.sample(first, 100) == density.sample(second, 100));
}

TEST_CASE("density validation rejects bad input") {
  const std::vector<double> edges = {0.25, 0.5, 1.0, 2.0};
  CHECK_THROWS_AS(SamplingDensity(Coordinate::kLog2Mpp, kDefaultDomain, edges, {0.3, 0.3, 0.3}, {}),
                  mgap::InputError);
  CHECK_THROWS_AS(SamplingDensity(Coordinate::kLog2Mpp, kDefaultDomain, edges, {0.5, -0.1, 0.6}, {}),
                  mgap::InputError);
  CHECK_THROWS_AS(SamplingDensity(Coordinate::kLog2Mpp, kDefaultDomain, edges, {0.5, NAN, 0.5}, {}),
                  mgap::InputError);
  CHECK_THROWS_AS(SamplingDensity(Coordinate::kLog2Mpp, kDefaultDomain, {0.25, 1.0, 0.5, 2.0},
                                  {0.2, 0.3, 0.5}, {}),
                  mgap::InputError);
  CHECK_THROWS_AS(SamplingDensity(Coordinate::kLog2Mpp, kDefaultDomain, {}, {}, {{4.0, 1.0}}),
                  mgap::InputError);
  CHECK_THROWS_AS(SamplingDensity(Coordinate::kLog2Mpp, MppDomain{2.0, 0.25}, {}, {}, {{1.0, 1.0}}),
                  mgap::InputError);
  CHECK_NOTHROW(SamplingDensity(Coordinate::kLog2Mpp, kDefaultDomain, edges, {0.2, 0.3, 0.3},
                                {{1.0, 0.2}}));
}

TEST_CASE("density JSON round trip") {
  std::vector<double> edges = mgap::equal_width_edges_mpp(kDefaultDomain, Coordinate::kMpp, 5);
  const SamplingDensity density(Coordinate::kMpp, kDefaultDomain, edges,
                                {0.1, 0.2, 0.1, 0.2, 0.1}, {{0.5, 0.3}});
  const nlohmann::json provenance = {{"method", "test"}, {"seed", 3}};
  const std::string text = mgap::density_to_json(density, provenance).dump();
  const mgap::DensityFile parsed = mgap::parse_density_json(text, "memory");
  CHECK(parsed.density.coordinate() == Coordinate::kMpp);
  CHECK(parsed.density.edges_mpp() == density.edges_mpp());
  CHECK(parsed.density.bin_masses() == density.bin_masses());
  REQUIRE(parsed.density.atoms().size() == 1);
  CHECK(parsed.density.atoms()[0].mpp == 0.5);
  CHECK(parsed.provenance.at("seed") == 3);
  CHECK(mgap::density_to_json(parsed.density, parsed.provenance).dump() == text);
}

TEST_CASE("density JSON rejects bad files") {
  const SamplingDensity density = mgap::make_discrete_uniform(kDefaultDomain, Coordinate::kLog2Mpp);
  nlohmann::json good = mgap::density_to_json(density, {});

  nlohmann::json future = good;
  future["schema"] = "mgap.density/v2";
  CHECK_THROWS_WITH_AS(mgap::parse_density_json(future.dump(), "f.json"),
                       doctest::Contains("unsupported density schema version"), mgap::InputError);

  nlohmann::json not_normalized = good;
  not_normalized["atoms"][0]["mass"] = 0.5;
  CHECK_THROWS_WITH_AS(mgap::parse_density_json(not_normalized.dump(), "f.json"),
                       doctest::Contains("sum to"), mgap::InputError);

  nlohmann::json missing = good;
  missing.erase("coordinate");
  CHECK_THROWS_WITH_AS(mgap::parse_density_json(missing.dump(), "f.json"),
                       doctest::Contains("missing field 'coordinate'"), mgap::InputError);

  CHECK_THROWS_AS(mgap::parse_density_json("{not json", "f.json"), mgap::InputError);
}

TEST_CASE("resolve density by name") {
  CHECK(mgap::resolve_density("du", kDefaultDomain, Coordinate::kLog2Mpp, 8).atoms().size() == 4);
  CHECK(mgap::resolve_density("cu", kDefaultDomain, Coordinate::kMpp, 8).num_bins() == 8);
  CHECK(mgap::resolve_density("point:0.5", kDefaultDomain, Coordinate::kMpp, 8).atoms()[0].mpp == 0.5);
  CHECK_THROWS_AS(mgap::resolve_density("nonexistent.json", kDefaultDomain, Coordinate::kMpp, 8),
                  mgap::InputError);
}

TEST_CASE("truncated normal discretization") {
  // Centred at 1 mpp (u = 0) with sd 0.3 octave: symmetric in u inside [-2, 1] up to truncation
  // at the upper end 3.3 sd away, so the median is 1 mpp within the truncation effect (~1e-3).
  const SamplingDensity narrow =
      mgap::make_truncated_normal(kDefaultDomain, Coordinate::kLog2Mpp, 300, 1.0, 0.3);
  CHECK(narrow.quantile(0.5) == doctest::Approx(1.0).epsilon(2e-3));
  CHECK(narrow.mass_between(std::exp2(-0.3), std::exp2(0.3)) == doctest::Approx(0.6827).epsilon(1e-2));
  // A very wide normal is nearly uniform in the coordinate.
  const SamplingDensity wide =
      mgap::make_truncated_normal(kDefaultDomain, Coordinate::kMpp, 64, 1.0, 1e4);
  CHECK(wide.cdf(1.125) == doctest::Approx(0.5).epsilon(1e-6));
  CHECK_THROWS_AS(mgap::make_truncated_normal(kDefaultDomain, Coordinate::kMpp, 8, 1.0, 0.0),
                  mgap::InputError);
  CHECK_THROWS_AS(mgap::make_beta(kDefaultDomain, Coordinate::kMpp, 8, -1.0, 2.0), mgap::InputError);
}

TEST_CASE("density schema minor versions") {
  const SamplingDensity density = mgap::make_discrete_uniform(kDefaultDomain, Coordinate::kLog2Mpp);
  nlohmann::json json = mgap::density_to_json(density, {});
  json["schema"] = "mgap.density/v1.3";
  CHECK_NOTHROW(mgap::parse_density_json(json.dump(), "minor.json"));
  for (const char* schema : {"mgap.density/v10", "mgap.density/v1x", "mgap.density/v"}) {
    CAPTURE(schema);
    json["schema"] = schema;
    CHECK_THROWS_WITH_AS(mgap::parse_density_json(json.dump(), "f.json"),
                         doctest::Contains("unsupported density schema version"), mgap::InputError);
  }
  json["schema"] = "mgap.discrepancy/v1";
  CHECK_THROWS_WITH_AS(mgap::parse_density_json(json.dump(), "f.json"),
                       doctest::Contains("is not density JSON"), mgap::InputError);
}
