#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "../core/program_runner.hpp"
#include "mgap/atomic_file.hpp"

namespace {

const std::filesystem::path kFixture =
    std::filesystem::path(MGAP_SOURCE_DIR) / "tests" / "evaluation" / "data" / "parity";

std::string first_line(const std::filesystem::path& path) {
  std::ifstream stream(path);
  std::string line;
  std::getline(stream, line);
  return line;
}

}  // namespace

TEST_CASE("mgap-eval writes every output") {
  const auto folder = mgap::test::fresh_folder("mgap_eval_outputs");
  const auto run = mgap::test::run_program(
      "mgap-eval", "--manifest " + (kFixture / "manifest.json").string() + " --labels " +
                       (kFixture / "labels.csv").string() + " --seed 3 --log-level warn" +
                       " --output-dir " + (folder / "out").string());
  CAPTURE(run.output);
  REQUIRE(run.exit_status == 0);
  CHECK(run.output.find("logreg bal. acc.") != std::string::npos);
  CHECK(run.output.find("intermediate penalty") != std::string::npos);

  const std::string header =
      "Test_MPP,Avg_accuracy,Std_accuracy,Avg_balanced_accuracy,Std_balanced_accuracy,"
      "Avg_f1_macro,Std_f1_macro,Avg_f1_weighted,Std_f1_weighted";
  CHECK(first_line(folder / "out" / "results_logreg.csv") == header);
  CHECK(first_line(folder / "out" / "results_knn.csv") == header);
  CHECK(first_line(folder / "out" / "rankme.csv") == "mpp,rankme,num_tiles,embedding_dim");
  CHECK(std::filesystem::exists(folder / "out" / "per_fold.csv"));
  CHECK(std::filesystem::exists(folder / "out" / "selection.csv"));
  // The fold plan written back equals the one read.
  CHECK(mgap::read_text_file(folder / "out" / "folds.csv") ==
        mgap::read_text_file(kFixture / "labels.csv"));

  const auto summary =
      nlohmann::json::parse(mgap::read_text_file(folder / "out" / "summary.json"));
  CHECK(summary["schema"] == "mgap.evaluation/v1");
  CHECK(summary["provenance"]["seed"] == 3);
  CHECK(summary["provenance"]["manifest_hash"].get<std::string>().size() == 16);
  CHECK(summary["classifiers"]["knn"]["per_mpp"].size() == 7);
}

TEST_CASE("mgap-eval rejects bad input") {
  const auto folder = mgap::test::fresh_folder("mgap_eval_errors");
  const std::string output = " --output-dir " + (folder / "out").string();

  const auto missing = mgap::test::run_program(
      "mgap-eval", "--manifest " + (folder / "absent.json").string() + output);
  CHECK(missing.exit_status == 2);
  CHECK(missing.output.find("error:") != std::string::npos);

  const auto unknown_mpp = mgap::test::run_program(
      "mgap-eval",
      "--manifest " + (kFixture / "manifest.json").string() + " --test-mpps 0.3" + output);
  CHECK(unknown_mpp.exit_status == 2);
  CHECK(unknown_mpp.output.find("0.3") != std::string::npos);

  const auto bad_classifier = mgap::test::run_program(
      "mgap-eval",
      "--manifest " + (kFixture / "manifest.json").string() + " --classifier svm" + output);
  CHECK(bad_classifier.exit_status == 2);
  CHECK(bad_classifier.output.find("svm") != std::string::npos);

  // Nothing is written when the input is rejected.
  CHECK_FALSE(std::filesystem::exists(folder / "out"));
}
