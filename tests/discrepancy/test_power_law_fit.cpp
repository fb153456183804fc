#include <doctest/doctest.h>

#include <cmath>

#include "mgap/atomic_file.hpp"
#include "mgap/discrepancy_json.hpp"
#include "mgap/error.hpp"
#include "mgap/power_law_fit.hpp"
#include "mgap/random.hpp"
#include "npy_fixtures.hpp"

namespace {

// Recovery of parameters from exact model values is limited by the solver tolerance only.
constexpr double kRecoveryTolerance = 1e-6;

const std::vector<double> kMpps = {0.25, 0.375, 0.5, 0.75, 1.0, 1.5, 2.0};

// A report whose matrix is a |log2 mpp_i - log2 mpp_j|^b times (1 + noise_fraction * z_ij).
mgap::DiscrepancyReport model_report(double a, double b, double noise_fraction,
                                     std::uint64_t seed) {
  mgap::RandomEngine engine(seed);
  mgap::DiscrepancyReport report;
  report.mpps = kMpps;
  const auto size = static_cast<Eigen::Index>(kMpps.size());
  report.matrix = Eigen::MatrixXd::Zero(size, size);
  report.ci_low = Eigen::MatrixXd::Zero(size, size);
  report.ci_high = Eigen::MatrixXd::Zero(size, size);
  for (Eigen::Index i = 0; i < size; ++i) {
    for (Eigen::Index j = i + 1; j < size; ++j) {
      const double separation = std::abs(std::log2(kMpps[static_cast<std::size_t>(i)]) -
                                         std::log2(kMpps[static_cast<std::size_t>(j)]));
      const double value =
          a * std::pow(separation, b) * (1.0 + noise_fraction * mgap::standard_normal(engine));
      report.matrix(i, j) = value;
      report.matrix(j, i) = value;
      // Intervals as a bootstrap would give them: +/- 1.96 noise standard deviations.
      const double half_width = 1.96 * noise_fraction * a * std::pow(separation, b);
      report.ci_low(i, j) = report.ci_low(j, i) = value - half_width;
      report.ci_high(i, j) = report.ci_high(j, i) = value + half_width;
    }
  }
  report.pair_counts = Eigen::MatrixXd::Zero(size, size);
  report.sample_counts.assign(kMpps.size(), 100);
  report.embedding_dim = 8;
  return report;
}

}  // namespace

TEST_CASE("power law recovers exact parameters") {
  for (const auto& [a, b] : {std::pair{0.3, 0.7}, std::pair{2.5, 1.0}, std::pair{0.01, 2.2}}) {
    CAPTURE(a);
    CAPTURE(b);
    const mgap::PowerLawFit fit = mgap::fit_power_law(model_report(a, b, 0.0, 1));
    CHECK(fit.a == doctest::Approx(a).epsilon(kRecoveryTolerance));
    CHECK(fit.b == doctest::Approx(b).epsilon(kRecoveryTolerance));
    CHECK(fit.r_squared == doctest::Approx(1.0).epsilon(kRecoveryTolerance));
    CHECK(fit.converged);
    REQUIRE(fit.residuals.size() == 21);
    CHECK(std::abs(fit.residuals[0].observed - fit.residuals[0].fitted) < 1e-9 * a);
  }
}

TEST_CASE("power law noisy data within interval") {
  const double a = 0.8;
  const double b = 0.6;
  const int num_runs = 100;
  int num_covered = 0;
  for (std::uint64_t seed = 1; seed <= num_runs; ++seed) {
    const mgap::PowerLawFit fit = mgap::fit_power_law(model_report(a, b, 0.05, seed));
    CHECK(fit.a_std_error > 0.0);
    CHECK(fit.b_std_error > 0.0);
    num_covered += (fit.a_ci_low <= a && a <= fit.a_ci_high && fit.b_ci_low <= b &&
                    b <= fit.b_ci_high)
                       ? 1
                       : 0;
  }
  // Both nominal 95% intervals cover the truth jointly in 87% of runs: scipy's curve_fit with the
  // same weights gave 0.8705 over 2,000 simulated runs. So 100 runs give 87 +/- 3.4, and the
  // seeded count must not fall 3 standard deviations below that.
  MESSAGE("runs with both parameters inside their intervals: " << num_covered);
  CHECK(num_covered >= 77);
}

TEST_CASE("power law exponent stays in bounds") {
  // Nearly constant discrepancies pull b toward 0, so the fit stops at 0.2 and flags the bound.
  mgap::DiscrepancyReport report = model_report(1.0, 1.0, 0.0, 1);
  report.matrix = (report.matrix.array() > 0.0).cast<double>().matrix();
  report.ci_low = report.matrix;
  report.ci_high = report.matrix;
  const mgap::PowerLawFit fit = mgap::fit_power_law(report);
  CHECK(fit.b == doctest::Approx(mgap::kPowerLawMinExponent));
  CHECK(fit.b_at_bound);
  CHECK(fit.a > 0.0);
}

TEST_CASE("interval weights have a floor") {
  const std::vector<double> weights = mgap::interval_weights({0.1, 0.2, 0.4, 0.0}, 0.25);
  // Median positive width 0.2, floor 0.05.
  CHECK(weights[0] == doctest::Approx(100.0));
  CHECK(weights[1] == doctest::Approx(25.0));
  CHECK(weights[3] == doctest::Approx(400.0));
  CHECK(mgap::interval_weights({0.0, 0.0}, 0.25) == std::vector<double>{1.0, 1.0});
}

TEST_CASE("power law rejects all zero") {
  mgap::DiscrepancyReport report = model_report(1.0, 1.0, 0.0, 1);
  report.matrix.setZero();
  CHECK_THROWS_AS(mgap::fit_power_law(report), mgap::InputError);
}

TEST_CASE("model normalization and table") {
  const mgap::DiscrepancyReport report = model_report(0.4, 0.8, 0.0, 1);
  const mgap::PowerLawFit fit = mgap::fit_power_law(report);

  const mgap::DiscrepancyModel power =
      mgap::make_discrepancy_model(report, fit, mgap::DiscrepancyModelKind::kPowerLaw);
  CHECK(power.normalization == mgap::NormalizationKind::kOctave);
  CHECK(power.scale == doctest::Approx(0.4).epsilon(kRecoveryTolerance));
  // One octave apart the normalized discrepancy is 1 by construction, two octaves 2^b.
  CHECK(mgap::normalized_discrepancy(power, -1.0, 0.0) == doctest::Approx(1.0));
  CHECK(mgap::normalized_discrepancy(power, -2.0, 0.0) ==
        doctest::Approx(std::pow(2.0, 0.8)).epsilon(kRecoveryTolerance));
  CHECK(mgap::normalized_discrepancy(power, 0.5, 0.5) == 0.0);

  const mgap::DiscrepancyModel user =
      mgap::make_discrepancy_model(report, fit, mgap::DiscrepancyModelKind::kPowerLaw, 2.0);
  CHECK(user.normalization == mgap::NormalizationKind::kUser);
  CHECK(mgap::normalized_discrepancy(user, -1.0, 0.0) == doctest::Approx(0.2).epsilon(1e-6));

  mgap::DiscrepancyReport error_report = report;
  error_report.estimator = mgap::DiscrepancyEstimator::kProxyA;
  const mgap::DiscrepancyModel error_units =
      mgap::make_discrepancy_model(error_report, fit, mgap::DiscrepancyModelKind::kPowerLaw);
  CHECK(error_units.normalization == mgap::NormalizationKind::kErrorUnits);
  CHECK(error_units.scale == 1.0);

  const mgap::DiscrepancyModel table =
      mgap::make_discrepancy_model(report, fit, mgap::DiscrepancyModelKind::kTable);
  // At grid nodes the table returns the measured matrix.
  CHECK(mgap::model_discrepancy(table, std::log2(0.25), std::log2(1.0)) ==
        doctest::Approx(report.matrix(0, 4)));
  // Between nodes along one axis it interpolates linearly in log2 mpp.
  const double middle = 0.5 * (std::log2(1.0) + std::log2(1.5));
  CHECK(mgap::model_discrepancy(table, std::log2(0.25), middle) ==
        doctest::Approx(0.5 * (report.matrix(0, 4) + report.matrix(0, 5))));
  // Symmetric, and the power law outside the measured range.
  CHECK(mgap::model_discrepancy(table, middle, -2.0) ==
        doctest::Approx(mgap::model_discrepancy(table, -2.0, middle)));
  CHECK(mgap::model_discrepancy(table, -3.0, 0.0) ==
        doctest::Approx(0.4 * std::pow(3.0, 0.8)).epsilon(kRecoveryTolerance));
}

TEST_CASE("discrepancy json round trip") {
  const auto folder = mgap::testing::scratch_folder("discrepancy_json");
  const mgap::DiscrepancyReport report = model_report(0.4, 0.8, 0.02, 3);
  const mgap::PowerLawFit fit = mgap::fit_power_law(report);
  for (const auto kind : {mgap::DiscrepancyModelKind::kPowerLaw, mgap::DiscrepancyModelKind::kTable}) {
    CAPTURE(mgap::to_string(kind));
    const mgap::DiscrepancyModel model = mgap::make_discrepancy_model(report, fit, kind);
    const auto path = folder / ("d_" + mgap::to_string(kind) + ".json");
    mgap::write_discrepancy_json(path, report, fit, model, {{"program", "test"}});
    const mgap::DiscrepancyModel read = mgap::read_discrepancy_json(path);
    CHECK(read.kind == kind);
    CHECK(read.a == model.a);
    CHECK(read.b == model.b);
    CHECK(read.scale == model.scale);
    CHECK(read.normalization == model.normalization);
    CHECK(read.estimator == "mmd");
    CHECK(read.source_hash.size() == 16);
    CHECK(read.table == model.table);
    for (const double x : {-2.5, -1.7, -0.3, 0.9, 1.4}) {
      CHECK(mgap::normalized_discrepancy(read, x, -1.0) ==
            mgap::normalized_discrepancy(model, x, -1.0));
    }
  }
  mgap::write_discrepancy_csv(folder / "d.csv", report);
  const std::string csv = mgap::read_text_file(folder / "d.csv");
  CHECK(csv.rfind("mpp_a,mpp_b,estimator,value,ci_low,ci_high\n0.25,0.375,mmd,", 0) == 0);
}

TEST_CASE("discrepancy json rejects other versions") {
  CHECK_THROWS_WITH_AS(mgap::parse_discrepancy_json(R"({"schema": "mgap.discrepancy/v2"})", "d.json"),
                       doctest::Contains("unsupported discrepancy schema version"),
                       mgap::InputError);
  CHECK_THROWS_AS(mgap::parse_discrepancy_json(R"({"schema": "mgap.density/v1"})", "d.json"),
                  mgap::InputError);
  CHECK_THROWS_AS(mgap::parse_discrepancy_json(R"({"schema": "mgap.discrepancy/v1"})", "d.json"),
                  mgap::InputError);
}
