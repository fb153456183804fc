#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "../core/program_runner.hpp"
#include "benchmark_folder_fixture.hpp"
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

TEST_CASE("mgap-eval from benchmark folder") {
  const auto folder = mgap::test::fresh_folder("mgap_eval_from_folder");
  const auto fixture = mgap::test::tcga_fixture(folder / "labels.csv");
  mgap::test::write_fixture_folder(folder / "embeddings", fixture, 5);
  mgap::write_embedding_bundle(folder / "by_hand", mgap::test::fixture_bundle(fixture));
  const std::string common = " --labels " + (folder / "labels.csv").string() +
                             " --train-mpps 0.5,1.0 --c-grid 0.01,1,100 --k-grid 1,3,5" +
                             " --log-level warn";

  const auto by_hand = mgap::test::run_program(
      "mgap-eval", "--manifest " + (folder / "by_hand" / "manifest.json").string() + common +
                       " --output-dir " + (folder / "out_manifest").string());
  CAPTURE(by_hand.output);
  REQUIRE(by_hand.exit_status == 0);
  const auto from_folder = mgap::test::run_program(
      "mgap-eval", "--from-folder " + (folder / "embeddings").string() + " --layout tcga-ms" +
                       common + " --write-manifest " + (folder / "written").string() +
                       " --output-dir " + (folder / "out_folder").string());
  CAPTURE(from_folder.output);
  REQUIRE(from_folder.exit_status == 0);

  for (const char* file : {"results_logreg.csv", "results_knn.csv", "per_fold.csv",
                           "selection.csv", "rankme.csv", "folds.csv"}) {
    CAPTURE(file);
    CHECK(mgap::read_text_file(folder / "out_folder" / file) ==
          mgap::read_text_file(folder / "out_manifest" / file));
  }
  // The written bundle is the hand-written one, file for file.
  for (const char* file : {"manifest.json", "embeddings_mpp_0.5.npy", "rows_mpp_2.0.csv"}) {
    CAPTURE(file);
    CHECK(mgap::read_text_file(folder / "written" / file) ==
          mgap::read_text_file(folder / "by_hand" / file));
  }
}

TEST_CASE("mgap-eval folder errors") {
  const auto folder = mgap::test::fresh_folder("mgap_eval_folder_errors");
  const auto fixture = mgap::test::bracs_fixture(folder / "patients.csv");
  mgap::test::write_fixture_folder(folder / "embeddings", fixture, 6);
  const std::string output = " --output-dir " + (folder / "out").string() + " --write-manifest " +
                             (folder / "written").string();

  const auto no_layout = mgap::test::run_program(
      "mgap-eval", "--from-folder " + (folder / "embeddings").string() + output);
  CHECK(no_layout.exit_status == 2);
  CHECK(no_layout.output.find("--layout") != std::string::npos);

  const auto bad_layout = mgap::test::run_program(
      "mgap-eval", "--from-folder " + (folder / "embeddings").string() + " --layout camelyon" +
                       output);
  CHECK(bad_layout.exit_status == 2);
  CHECK(bad_layout.output.find("'camelyon'") != std::string::npos);

  // Six groups (four patients, two slides without a patient) cannot fill 5 outer folds and an
  // inner validation split: rejected after reading, and neither outputs nor bundle are written.
  const auto too_few_groups = mgap::test::run_program(
      "mgap-eval", "--from-folder " + (folder / "embeddings").string() + " --layout bracs-ms" +
                       " --patients " + (folder / "patients.csv").string() +
                       " --train-mpps 0.25,1.0" + output);
  CHECK(too_few_groups.exit_status == 2);
  CHECK_FALSE(std::filesystem::exists(folder / "out"));
  CHECK_FALSE(std::filesystem::exists(folder / "written"));

  const auto bracs = mgap::test::run_program(
      "mgap-eval", "--from-folder " + (folder / "embeddings").string() + " --layout bracs-ms" +
                       " --patients " + (folder / "patients.csv").string() +
                       " --train-mpps 0.25,1.0 --folds 2 --log-level warn" + output);
  CAPTURE(bracs.output);
  CHECK(bracs.exit_status == 0);
  CHECK(bracs.output.find("108, 109") != std::string::npos);
  CHECK(std::filesystem::exists(folder / "written" / "manifest.json"));
}
