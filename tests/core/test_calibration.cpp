#include <doctest/doctest.h>

#include <cmath>
#include <fmt/format.h>

#include <fstream>

#include "mgap/atomic_file.hpp"
#include "mgap/calibration.hpp"
#include "mgap/error.hpp"
#include "program_runner.hpp"
#include "test_support.hpp"

using namespace mgap;

namespace {

// Runs whose "measured" errors are the bound itself at known parameters.
std::vector<CalibrationRun> synthetic_runs(const CalibratedParameters& truth) {
  const MppDomain domain = test::kDefaultDomain;
  std::vector<SamplingDensity> densities = {
      make_discrete_uniform(domain, Coordinate::kLog2Mpp),
      make_continuous_uniform(domain, Coordinate::kLog2Mpp, 32),
      make_point(domain, Coordinate::kLog2Mpp, 0.7),
      make_beta(domain, Coordinate::kLog2Mpp, 32, 4.0, 1.5),
  };
  const std::vector<std::string> names = {"du", "cu", "point", "beta"};
  TransferModelOptions transfer;
  transfer.transfer_length = truth.transfer_length;
  const TransferModel model(transfer, NormalizedDiscrepancy::power_law(1.0, 1.0));
  std::vector<CalibrationRun> runs;
  for (std::size_t i = 0; i < densities.size(); ++i) {
    const BoundCurve curve = evaluate_bound(densities[i], model, truth.bound, test_mpps());
    runs.push_back({names[i], densities[i], test_mpps(), curve.bound});
  }
  return runs;
}

}  // namespace

TEST_CASE("calibration recovers generating parameters") {
  CalibratedParameters truth;
  truth.bound = {0.1, 0.6, 0.08, 0.03};
  truth.transfer_length = 0.8;
  const std::vector<CalibrationRun> runs = synthetic_runs(truth);

  CalibrationOptions options;
  options.leave_one_out = true;
  options.num_starts = 2;
  const CalibrationReport report =
      calibrate_bound(runs, TransferModelOptions{}, NormalizedDiscrepancy::power_law(1.0, 1.0), options);
  // Noise-free data: the fit is exact up to BOBYQA's tolerance, so parameters agree to ~1e-5.
  constexpr double kRecoveryTolerance = 1e-4;
  CHECK(report.parameters.bound.amplitude == doctest::Approx(0.1).epsilon(kRecoveryTolerance));
  CHECK(report.parameters.bound.exponent == doctest::Approx(0.6).epsilon(kRecoveryTolerance));
  CHECK(report.parameters.bound.discrepancy_weight == doctest::Approx(0.08).epsilon(kRecoveryTolerance));
  CHECK(report.parameters.bound.floor == doctest::Approx(0.03).epsilon(kRecoveryTolerance));
  CHECK(report.parameters.transfer_length == doctest::Approx(0.8).epsilon(kRecoveryTolerance));
  CHECK(report.r_squared > 1.0 - 1e-8);
  CHECK(report.leave_one_out_rms < 1e-4);
  REQUIRE(report.runs.size() == 4);
}

TEST_CASE("calibration recovers per-mpp floors") {
  // The measured errors are the floorless bound plus a floor that rises with the test mpp's
  // difficulty, as on a benchmark whose classes are harder to tell apart at some mpps.
  CalibratedParameters truth;
  truth.bound = {0.1, 0.6, 0.08, 0.0};
  truth.transfer_length = 0.8;
  std::vector<CalibrationRun> runs = synthetic_runs(truth);
  const std::vector<double> floors = {0.30, 0.25, 0.20, 0.16, 0.12, 0.09, 0.10};
  for (CalibrationRun& run : runs) {
    for (std::size_t t = 0; t < run.measured_error.size(); ++t) {
      run.measured_error[t] += floors[t];
    }
  }

  CalibrationOptions options;
  options.num_starts = 2;
  options.floor_per_mpp = true;
  const CalibrationReport report =
      calibrate_bound(runs, TransferModelOptions{}, NormalizedDiscrepancy::power_law(1.0, 1.0), options);
  // Noise-free data: BOBYQA's tolerance bounds the error of every parameter well below 1e-4.
  constexpr double kRecoveryTolerance = 1e-4;
  CHECK(report.parameters.bound.amplitude == doctest::Approx(0.1).epsilon(kRecoveryTolerance));
  CHECK(report.parameters.bound.exponent == doctest::Approx(0.6).epsilon(kRecoveryTolerance));
  CHECK(report.parameters.bound.discrepancy_weight == doctest::Approx(0.08).epsilon(kRecoveryTolerance));
  CHECK(report.parameters.transfer_length == doctest::Approx(0.8).epsilon(kRecoveryTolerance));
  CHECK(report.parameters.bound.floor == 0.0);
  REQUIRE(report.parameters.floor_mpps == test_mpps());
  for (std::size_t t = 0; t < floors.size(); ++t) {
    CHECK(report.parameters.floors[t] == doctest::Approx(floors[t]).epsilon(kRecoveryTolerance));
    CHECK(report.parameters.floor_at(test_mpps()[t]) == report.parameters.floors[t]);
  }
  CHECK(report.r_squared > 1.0 - 1e-8);
  CHECK(report.leave_one_out_rms < 1e-4);
  CHECK_THROWS_AS(report.parameters.floor_at(0.3), InputError);

  // One shared floor cannot follow the difficulty per mpp, so its fit is clearly worse.
  options.floor_per_mpp = false;
  const CalibrationReport shared =
      calibrate_bound(runs, TransferModelOptions{}, NormalizedDiscrepancy::power_law(1.0, 1.0), options);
  CHECK(shared.r_squared < 0.9);
  CHECK(shared.parameters.floor_mpps.empty());
}

TEST_CASE("calibration reports misfit honestly") {
  // Errors that no bound can produce (higher at the standard mpps under DU) leave a visible misfit.
  CalibratedParameters truth;
  std::vector<CalibrationRun> runs = synthetic_runs(truth);
  for (CalibrationRun& run : runs) {
    for (std::size_t t = 0; t < run.test_mpps.size(); ++t) {
      run.measured_error[t] = is_standard_mpp(run.test_mpps[t]) ? 0.4 : 0.1;
    }
  }
  CalibrationOptions options;
  options.leave_one_out = false;
  options.num_starts = 2;
  const CalibrationReport report =
      calibrate_bound(runs, TransferModelOptions{}, NormalizedDiscrepancy::power_law(1.0, 1.0), options);
  CHECK(report.r_squared < 0.5);
  CHECK(std::isnan(report.leave_one_out_rms));
}

TEST_CASE("calibration rejects invalid runs") {
  std::vector<CalibrationRun> runs = synthetic_runs(CalibratedParameters{});
  runs[0].measured_error[0] = 1.5;
  CHECK_THROWS_AS(calibrate_bound(runs, TransferModelOptions{}, NormalizedDiscrepancy::power_law(1.0, 1.0),
                                  CalibrationOptions{}),
                  InputError);
  CHECK_THROWS_AS(calibrate_bound({}, TransferModelOptions{}, NormalizedDiscrepancy::power_law(1.0, 1.0),
                                  CalibrationOptions{}),
                  InputError);
}

TEST_CASE("runs CSV feeds mgap-optimize calibration") {
  const auto folder = test::fresh_folder("calibrate_program");
  CalibratedParameters truth;
  truth.bound = {0.12, 0.6, 0.05, 0.02};
  truth.transfer_length = 0.7;
  const std::vector<CalibrationRun> runs = synthetic_runs(truth);
  std::ofstream csv(folder / "runs.csv");
  csv << "run,density,test_mpp,balanced_error\n";
  const std::vector<std::string> specifications = {"du", "cu", "point:0.7"};
  for (std::size_t r = 0; r < 3; ++r) {
    // The CU run of synthetic_runs uses 32 bins, so the CSV names cu with --bins 32 below.
    for (std::size_t t = 0; t < runs[r].test_mpps.size(); ++t) {
      csv << runs[r].name << "," << specifications[r] << "," << runs[r].test_mpps[t] << ","
          << fmt::format("{:.17g}", runs[r].measured_error[t]) << "\n";
    }
  }
  csv.close();
  const auto run = test::run_program(
      "mgap-optimize", "--calibrate " + (folder / "runs.csv").string() +
                           " --bins 32 --targets grid:16 --starts 2 --log-level warn --output " +
                           (folder / "density.json").string());
  INFO(run.output);
  REQUIRE(run.exit_status == 0);
  const nlohmann::json density = nlohmann::json::parse(read_text_file(folder / "density.json"));
  const nlohmann::json& calibration = density.at("provenance").at("calibration");
  CHECK(calibration.at("transfer_length").get<double>() == doctest::Approx(0.7).epsilon(1e-3));
  CHECK(density.at("provenance").at("bound").at("amplitude").get<double>() ==
        doctest::Approx(0.12).epsilon(1e-3));

  std::ofstream(folder / "bad.csv") << "run,density,mpp,error\nr,du,0.5,0.1\n";
  const auto bad = test::run_program("mgap-optimize", "--calibrate " + (folder / "bad.csv").string() +
                                                          " --output " + (folder / "bad.json").string());
  CHECK(bad.exit_status == 2);
  CHECK(bad.output.find("expected 'run,density,test_mpp,balanced_error'") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(folder / "bad.json"));
}
