#include <doctest/doctest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "mgap/atomic_file.hpp"
#include "mgap/discrepancy_model.hpp"
#include "npy_fixtures.hpp"
#include "synthetic_bundle.hpp"

namespace {

std::string program(const std::string& name) {
  const char* folder = std::getenv("MGAP_BIN_DIR");
  return (std::filesystem::path(folder != nullptr ? folder : MGAP_BINARY_DIR "/bin") / name)
      .string();
}

int run(const std::string& command) {
  return std::system((command + " 2>/dev/null").c_str());
}

}  // namespace

TEST_CASE("end to end exponent recovery") {
  const auto folder = mgap::testing::scratch_folder("discrepancy_end_to_end");
  mgap::testing::SyntheticBundleOptions synthetic;
  synthetic.hurst = 0.6;
  synthetic.embedding_dim = 128;
  synthetic.num_tiles = 200;
  synthetic.seed = 2;
  mgap::write_embedding_bundle(folder / "bundle", mgap::testing::synthetic_bundle(synthetic));

  const std::string output = (folder / "d.json").string();
  const std::string csv = (folder / "d.csv").string();
  REQUIRE(run(program("mgap-discrepancy") + " --manifest " + (folder / "bundle/manifest.json").string() +
              " --estimator mean-distance --bootstrap 50 --seed 1 --output " + output +
              " --csv " + csv) == 0);

  const nlohmann::json result = nlohmann::json::parse(mgap::read_text_file(output));
  CHECK(result.at("schema") == "mgap.discrepancy/v1");
  CHECK(result.at("embedding_dim") == 128);
  CHECK(result.at("provenance").at("bootstrap") == 50);
  CHECK(result.at("provenance").at("manifest_hash").get<std::string>().size() == 16);
  // The mean shift of 128 independent fBm paths follows |du|^H to within a few percent; the
  // estimation noise (200 tiles) adds a small positive bias at short separations. Measured
  // exponents for seeds 0-4 lie within 0.05 of H, so 0.1 leaves room without hiding a wrong fit.
  constexpr double kExponentTolerance = 0.1;
  const double exponent = result.at("model").at("b").get<double>();
  CHECK(std::abs(exponent - synthetic.hurst) < kExponentTolerance);
  CHECK(result.at("model").at("r_squared").get<double>() > 0.9);
  CHECK(result.at("normalization").at("kind") == "d_octave");

  // The optimizer's reader sees the same model, normalized to 1 one octave apart.
  const mgap::DiscrepancyModel model = mgap::read_discrepancy_json(output);
  CHECK(model.b == exponent);
  CHECK(mgap::normalized_discrepancy(model, -1.0, 0.0) == doctest::Approx(1.0));
  CHECK(mgap::read_text_file(csv).find("0.25,0.375,mean-distance,") != std::string::npos);

  // mgap-optimize builds its kernel from the file and records the model in the density.
  const std::string density = (folder / "density.json").string();
  if (!std::filesystem::exists(program("mgap-optimize"))) {
    MESSAGE("skipped the mgap-optimize step: the core programs are not built");
    return;
  }
  REQUIRE(run(program("mgap-optimize") + " --discrepancy " + output + " --output " + density +
              " --bins 16 --starts 1 --targets grid:16 --log-level warn > /dev/null") == 0);
  const nlohmann::json provenance =
      nlohmann::json::parse(mgap::read_text_file(density)).at("provenance");
  const nlohmann::json& used = provenance.at("kernel").at("discrepancy");
  CHECK(used.at("b").get<double>() == exponent);
  CHECK(used.at("normalization") == "d_octave");
  CHECK(used.at("source_hash") == model.source_hash);
}

TEST_CASE("discrepancy program rejects bad input") {
  const auto folder = mgap::testing::scratch_folder("discrepancy_cli");
  const std::string output = (folder / "d.json").string();
  CHECK(run(program("mgap-discrepancy") + " --manifest " + (folder / "absent.json").string() +
            " --output " + output) == 2 * 256);
  CHECK_FALSE(std::filesystem::exists(output));
  mgap::testing::SyntheticBundleOptions synthetic;
  synthetic.num_tiles = 20;
  synthetic.embedding_dim = 4;
  mgap::write_embedding_bundle(folder / "bundle", mgap::testing::synthetic_bundle(synthetic));
  CHECK(run(program("mgap-discrepancy") + " --manifest " + (folder / "bundle/manifest.json").string() +
            " --estimator kl --output " + output) == 2 * 256);
  CHECK(run(program("mgap-discrepancy") + " --manifest " + (folder / "bundle/manifest.json").string() +
            " --bootstrap -1 --output " + output) == 2 * 256);
  CHECK_FALSE(std::filesystem::exists(output));
}
