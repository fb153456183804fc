#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "mgap/atomic_file.hpp"
#include "mgap/bound.hpp"
#include "mgap/density_json.hpp"
#include "program_runner.hpp"

namespace fs = std::filesystem;
using mgap::test::fresh_folder;
using mgap::test::run_program;

namespace {

constexpr int kExitInvalidInput = 2;

struct CurveRow {
  std::string distribution;
  double mpp;
  double bound;
  double coverage;
};

std::vector<CurveRow> read_curves(const fs::path& path) {
  std::istringstream input(mgap::read_text_file(path));
  std::string line;
  std::getline(input, line);
  REQUIRE(line == "distribution,mpp,log2_mpp,bound,coverage,discrepancy_term");
  std::vector<CurveRow> rows;
  while (std::getline(input, line)) {
    std::istringstream fields(line);
    CurveRow row;
    std::string value;
    std::getline(fields, row.distribution, ',');
    std::getline(fields, value, ',');
    row.mpp = std::stod(value);
    std::getline(fields, value, ',');  // log2_mpp
    std::getline(fields, value, ',');
    row.bound = std::stod(value);
    std::getline(fields, value, ',');
    row.coverage = std::stod(value);
    rows.push_back(row);
  }
  return rows;
}

// Writes a density JSON with the given modification applied to a valid DU file.
fs::path write_modified_density(const fs::path& folder, const std::string& name,
                                const std::function<void(nlohmann::json&)>& modify) {
  const mgap::SamplingDensity du =
      mgap::make_discrete_uniform(mgap::MppDomain{0.25, 2.0}, mgap::Coordinate::kLog2Mpp);
  nlohmann::json json = mgap::density_to_json(du, {});
  modify(json);
  const fs::path path = folder / name;
  std::ofstream(path) << json.dump();
  return path;
}

}  // namespace

TEST_CASE("default minmax run closes the gap") {
  const fs::path folder = fresh_folder("optimize_minmax");
  const auto run = run_program("mgap-optimize", "--objective minmax --seed 0 --log-level warn --output " +
                                                    (folder / "density.json").string() + " --curves " +
                                                    (folder / "curves.csv").string());
  INFO(run.output);
  REQUIRE(run.exit_status == 0);
  CHECK(run.output.find("du") != std::string::npos);

  const mgap::DensityFile file = mgap::read_density_json(folder / "density.json");
  CHECK(file.provenance.at("objective") == "minmax");
  CHECK(file.provenance.at("method") == "optimize");
  CHECK(file.provenance.at("seed") == 0);

  // Worst-case bound per distribution over the 64 grid targets.
  std::map<std::string, double> worst;
  std::vector<CurveRow> optimized;
  for (const CurveRow& row : read_curves(folder / "curves.csv")) {
    worst[row.distribution] = std::max(worst[row.distribution], row.bound);
    if (row.distribution == "optimized") {
      optimized.push_back(row);
    }
  }
  REQUIRE(optimized.size() == 64);
  CHECK(worst["optimized"] < worst["du"]);
  CHECK(worst["optimized"] < worst["cu"]);

  // Attained (within 1e-6 relative) at three or more targets, including the outer eighth of the
  // domain at each end (in log2 mpp: below -2 + 3/8 and above 1 - 3/8).
  std::vector<double> attained;
  for (const CurveRow& row : optimized) {
    if (row.bound >= worst["optimized"] * (1.0 - 1e-6)) {
      attained.push_back(std::log2(row.mpp));
    }
  }
  CHECK(attained.size() >= 3);
  CHECK(attained.front() <= -2.0 + 3.0 / 8.0);
  CHECK(attained.back() >= 1.0 - 3.0 / 8.0);

  // More mass than CU (1/8) in each outer eighth.
  const mgap::SamplingDensity& density = file.density;
  CHECK(density.mass_between(0.25, std::exp2(-2.0 + 3.0 / 8.0)) > 0.125);
  CHECK(density.mass_between(std::exp2(1.0 - 3.0 / 8.0), 2.0) > 0.125);
}

TEST_CASE("evaluate scores a given density") {
  const fs::path folder = fresh_folder("optimize_evaluate");
  const auto run = run_program("mgap-optimize", "--evaluate du --targets test --log-level warn --output " +
                                                    (folder / "du.json").string() + " --curves " +
                                                    (folder / "du.csv").string());
  INFO(run.output);
  REQUIRE(run.exit_status == 0);
  const mgap::DensityFile file = mgap::read_density_json(folder / "du.json");
  CHECK(file.density.atoms().size() == 4);
  CHECK(file.provenance.at("method") == "evaluate");
  // The average bound over the seven test mpps, recomputed in-process.
  const mgap::TransferModel model(mgap::TransferModelOptions{},
                                  mgap::NormalizedDiscrepancy::power_law(1.0, 1.0));
  const mgap::BoundCurve curve =
      mgap::evaluate_bound(file.density, model, mgap::BoundParameters{}, mgap::test_mpps());
  double average = 0.0;
  for (const double value : curve.bound) {
    average += value / 7.0;
  }
  CHECK(file.provenance.at("objective_value").get<double>() == doctest::Approx(average).epsilon(1e-12));
}

TEST_CASE("same seed gives identical density") {
  const fs::path folder = fresh_folder("optimize_reproducible");
  const std::string common = "--bins 32 --targets grid:16 --starts 3 --seed 7 --log-level warn --output ";
  REQUIRE(run_program("mgap-optimize", common + (folder / "a.json").string()).exit_status == 0);
  REQUIRE(run_program("mgap-optimize", common + (folder / "b.json").string()).exit_status == 0);
  const auto a = mgap::read_density_json(folder / "a.json");
  const auto b = mgap::read_density_json(folder / "b.json");
  CHECK(a.density.bin_masses() == b.density.bin_masses());
}

TEST_CASE("bad input fails cleanly") {
  const fs::path folder = fresh_folder("optimize_bad_input");
  const fs::path output = folder / "out.json";

  struct BadCase {
    std::string name;
    std::string arguments;
    std::string expected_message;
  };
  std::vector<BadCase> cases = {
      {"unknown objective", "--objective best", "unknown objective 'best'"},
      {"domain LO >= HI", "--domain 2.0,0.25", "invalid mpp domain"},
      {"domain LO = HI", "--domain 1,1", "invalid mpp domain"},
      {"unknown criterion", "--criterion accuracy", "unknown criterion"},
      {"negative amplitude", "--amplitude -1", "invalid amplitude"},
      {"targets outside domain", "--targets 0.1,1.0", "outside the domain"},
      {"bad power law", "--power-law 1", "invalid --power-law"},
      {"non-numeric bins", "--bins abc", "Could not convert"},
      {"misspelled option", "--objectve minmax", "see --help"},
      {"missing output folder", "--output-not-an-option x", "see --help"},
      {"bad point density", "--evaluate point:0.5abc", "invalid number '0.5abc'"},
      {"negative threads", "--threads -1", "invalid --threads -1"},
      {"zero evaluations", "--max-evaluations 0", "invalid --max-evaluations 0"},
  };
  const fs::path sum = write_modified_density(folder, "sum.json", [](nlohmann::json& json) {
    json["atoms"][0]["mass"] = 0.3;
  });
  cases.push_back({"masses not summing to 1", "--evaluate " + sum.string(), "sum to"});
  const fs::path negative = write_modified_density(folder, "negative.json", [](nlohmann::json& json) {
    json["atoms"][0]["mass"] = -0.25;
    json["atoms"][1]["mass"] = 0.75;
  });
  cases.push_back({"negative mass", "--evaluate " + negative.string(), "atom masses must be > 0"});
  const fs::path version = write_modified_density(folder, "version.json", [](nlohmann::json& json) {
    json["schema"] = "mgap.density/v9";
  });
  cases.push_back({"unknown schema version", "--evaluate " + version.string(), "unsupported density schema version"});
  const fs::path nan_path = folder / "nan.json";
  std::ofstream(nan_path) << R"({"schema": "mgap.density/v1", "coordinate": "log2_mpp", "domain_mpp": [0.25, 2.0],
    "bins": {"edges_mpp": [0.25, 2.0], "mass": [NaN]}, "atoms": []})";
  cases.push_back({"NaN mass", "--evaluate " + nan_path.string(), "not valid JSON"});
  const fs::path null_path = folder / "null.json";
  std::ofstream(null_path) << R"({"schema": "mgap.density/v1", "coordinate": "log2_mpp", "domain_mpp": [0.25, 2.0],
    "bins": {"edges_mpp": [0.25, 2.0], "mass": [null]}, "atoms": []})";
  cases.push_back({"null mass", "--evaluate " + null_path.string(), "wrong type"});

  for (const BadCase& bad : cases) {
    CAPTURE(bad.name);
    const auto run = run_program("mgap-optimize", bad.arguments + " --output " + output.string());
    INFO(run.output);
    CHECK(run.exit_status == kExitInvalidInput);
    CHECK(run.output.find(bad.expected_message) != std::string::npos);
    CHECK(run.output.find("error") != std::string::npos);
    CHECK_FALSE(fs::exists(output));
  }
  // No temporary files are left behind either.
  for (const auto& entry : fs::directory_iterator(folder)) {
    CHECK(entry.path().filename().string().find(".tmp-") == std::string::npos);
  }
}

TEST_CASE("narrow domain keeps DU inside it") {
  const fs::path folder = fresh_folder("optimize_narrow");
  const auto run = run_program("mgap-optimize", "--domain 0.5,2 --objective minmax --bins 32 --starts 2 "
                                                "--log-level warn --output " + (folder / "d.json").string() +
                                                " --curves " + (folder / "c.csv").string());
  INFO(run.output);
  REQUIRE(run.exit_status == 0);
  for (const CurveRow& row : read_curves(folder / "c.csv")) {
    CHECK(row.mpp >= 0.5);
  }
  const auto none = run_program("mgap-optimize", "--domain 0.3,0.4 --evaluate du --output " +
                                                     (folder / "none.json").string());
  CHECK(none.exit_status == kExitInvalidInput);
  CHECK(none.output.find("none of the standard mpps") != std::string::npos);
}

TEST_CASE("missing output folder fails before work") {
  const fs::path folder = fresh_folder("optimize_output_folder");
  const auto run = run_program("mgap-optimize", "--output " + (folder / "d.json").string() + " --curves " +
                                                    (folder / "missing" / "c.csv").string());
  CHECK(run.exit_status == kExitInvalidInput);
  CHECK(run.output.find("does not exist") != std::string::npos);
  CHECK_FALSE(fs::exists(folder / "d.json"));
}

TEST_CASE("infeasible preserve exits without output") {
  const fs::path folder = fresh_folder("optimize_infeasible");
  const fs::path output = folder / "out.json";
  const auto run = run_program("mgap-optimize", "--bins 16 --targets grid:8 --starts 2 --preserve du "
                                                "--preserve-tolerance 0 --output " + output.string());
  CHECK(run.exit_status != 0);
  CHECK(run.output.find("no start") != std::string::npos);
  CHECK_FALSE(fs::exists(output));
}

TEST_CASE("sample program draws reproducibly") {
  const fs::path folder = fresh_folder("sample_program");
  const std::string arguments = "--density du --count 400 --seed 3 --log-level warn --output ";
  REQUIRE(run_program("mgap-sample", arguments + (folder / "a.csv").string()).exit_status == 0);
  REQUIRE(run_program("mgap-sample", arguments + (folder / "b.csv").string()).exit_status == 0);
  const std::string a = mgap::read_text_file(folder / "a.csv");
  CHECK(a == mgap::read_text_file(folder / "b.csv"));
  // DU draws only the four standard mpps, each about a quarter of the time (binomial sd ~ 8.7).
  std::istringstream input(a);
  std::string line;
  std::getline(input, line);
  std::map<double, int> counts;
  while (std::getline(input, line)) {
    counts[std::stod(line.substr(line.find(',') + 1))]++;
  }
  REQUIRE(counts.size() == 4);
  for (const auto& [mpp, count] : counts) {
    CHECK(mgap::is_standard_mpp(mpp));
    CHECK(std::abs(count - 100) < 45);
  }
  const auto bad = run_program("mgap-sample", "--density du --count 0");
  CHECK(bad.exit_status == kExitInvalidInput);
}
