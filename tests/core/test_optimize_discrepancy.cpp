#include <doctest/doctest.h>

#include <cmath>

#include "mgap/atomic_file.hpp"
#include <nlohmann/json.hpp>

#include "mgap/embedding_bundle.hpp"
#include "mgap/magnification.hpp"
#include "mgap/random.hpp"
#include "program_runner.hpp"

namespace fs = std::filesystem;
using mgap::test::fresh_folder;
using mgap::test::run_program;

namespace {

// Embeddings whose mean moves along one axis in proportion to log2 mpp, so the mean distance
// between two mpps is kSlope |u_i - u_j|: a power law with a = kSlope and b = 1.
constexpr double kSlope = 3.0;
constexpr double kNoise = 0.01;

void write_linear_bundle(const fs::path& folder) {
  mgap::EmbeddingBundle bundle;
  mgap::RandomEngine engine(17);
  for (const double mpp : mgap::test_mpps()) {
    mgap::EmbeddingSet set;
    set.mpp = mpp;
    set.embeddings.resize(400, 8);
    for (Eigen::Index row = 0; row < set.embeddings.rows(); ++row) {
      for (Eigen::Index column = 0; column < set.embeddings.cols(); ++column) {
        set.embeddings(row, column) = kNoise * mgap::standard_normal(engine);
      }
      set.embeddings(row, 0) += kSlope * std::log2(mpp);
    }
    bundle.sets.push_back(std::move(set));
  }
  mgap::write_embedding_bundle(folder, bundle);
}

double objective_of(const fs::path& density) {
  return nlohmann::json::parse(mgap::read_text_file(density)).at("provenance").at("objective_value");
}

}  // namespace

TEST_CASE("optimizer uses measured discrepancy") {
  const fs::path folder = fresh_folder("optimize_discrepancy");
  write_linear_bundle(folder / "bundle");
  const std::string manifest = (folder / "bundle" / "manifest.json").string();

  const auto estimate = run_program("mgap-discrepancy", "--manifest " + manifest +
                                                            " --estimator mean-distance --bootstrap 20 "
                                                            "--log-level warn --output " +
                                                            (folder / "d.json").string());
  INFO(estimate.output);
  REQUIRE(estimate.exit_status == 0);

  const std::string common = " --objective minmax --bins 32 --targets grid:16 --starts 2 --log-level warn";
  const auto from_file = run_program("mgap-optimize", "--discrepancy " + (folder / "d.json").string() +
                                                          common + " --output " + (folder / "a.json").string());
  INFO(from_file.output);
  REQUIRE(from_file.exit_status == 0);
  const nlohmann::json provenance =
      nlohmann::json::parse(mgap::read_text_file(folder / "a.json")).at("provenance");
  const nlohmann::json& model = provenance.at("kernel").at("discrepancy");
  CHECK(model.at("model") == "power_law");
  CHECK(model.at("estimator") == "mean-distance");
  CHECK(model.at("normalization") == "d_octave");
  // Sample means of 400 rows with noise 0.01 move by ~5e-4, so a and b are recovered to ~1e-3.
  CHECK(model.at("a").get<double>() == doctest::Approx(kSlope).epsilon(1e-2));
  CHECK(model.at("b").get<double>() == doctest::Approx(1.0).epsilon(1e-2));

  // Normalized by d_octave, the measured model is delta = |du|^b with b ~ 1: the default power law.
  const auto reference = run_program("mgap-optimize", "--power-law 1,1" + common + " --output " +
                                                          (folder / "reference.json").string());
  REQUIRE(reference.exit_status == 0);
  CHECK(objective_of(folder / "a.json") ==
        doctest::Approx(objective_of(folder / "reference.json")).epsilon(1e-3));

  // --manifest runs both steps at once and reaches the same model.
  const auto direct = run_program("mgap-optimize", "--manifest " + manifest +
                                                       " --estimator mean-distance --bootstrap 20" + common +
                                                       " --output " + (folder / "b.json").string());
  INFO(direct.output);
  REQUIRE(direct.exit_status == 0);
  CHECK(objective_of(folder / "b.json") == doctest::Approx(objective_of(folder / "a.json")).epsilon(1e-9));

  const auto conflict = run_program("mgap-optimize", "--discrepancy " + (folder / "d.json").string() +
                                                         " --power-law 1,2 --output " + (folder / "c.json").string());
  CHECK(conflict.exit_status != 0);
  CHECK_FALSE(fs::exists(folder / "c.json"));
}
