#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <sys/wait.h>

namespace fs = std::filesystem;

namespace {

// Runs a program from MGAP_BIN_DIR with `arguments` and returns its exit status.
int run_program(const std::string& program, const std::string& arguments) {
  const char* bin_dir = std::getenv("MGAP_BIN_DIR");
  const std::string folder = bin_dir != nullptr ? bin_dir : MGAP_BINARY_DIR "/bin";
  const std::string command =
      folder + "/" + program + " " + arguments + " --log-level error 2>/dev/null";
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

fs::path fresh_folder(const std::string& name) {
  const fs::path folder = fs::temp_directory_path() / ("mgap_test_programs_" + name);
  fs::remove_all(folder);
  fs::create_directories(folder);
  return folder;
}

}  // namespace

TEST_CASE("mgap-train cu run writes outputs") {
  const fs::path output = fresh_folder("train_cu") / "run";
  const int status = run_program(
      "mgap-train", "--density cu --slides procedural --steps 2 --batch-size 4 --tile-size 16 "
                    "--width 2 --prototypes 8 --heldout-tiles 8 --log-every 1 --threads 1 "
                    "--workers 1 --no-progress --output-dir " + output.string());
  CHECK(status == 0);
  for (const char* name : {"checkpoint.pt", "encoder.pt", "metrics.csv", "sampled_mpps.csv",
                           "train_summary.json"}) {
    CHECK(fs::is_regular_file(output / name));
  }
}

TEST_CASE("mgap-train rejects unknown density") {
  const fs::path output = fresh_folder("train_bad_density") / "run";
  CHECK(run_program("mgap-train", "--density nope --slides procedural --output-dir " +
                                      output.string()) == 2);
  CHECK_FALSE(fs::exists(output));
}

TEST_CASE("mgap-train rejects missing slide") {
  const fs::path output = fresh_folder("train_bad_slide") / "run";
  CHECK(run_program("mgap-train", "--density du --slides /nonexistent/slide.svs --output-dir " +
                                      output.string()) == 2);
  CHECK_FALSE(fs::exists(output));
}

TEST_CASE("mgap-embed rejects missing benchmark") {
  const fs::path folder = fresh_folder("embed_bad");
  CHECK(run_program("mgap-embed", "--benchmark /nonexistent/bench --encoder x.pt --output-dir " +
                                      (folder / "bundle").string()) == 2);
  CHECK_FALSE(fs::exists(folder / "bundle"));
}
