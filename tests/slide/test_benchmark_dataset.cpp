#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>

#include "mgap/atomic_file.hpp"
#include "mgap/benchmark_dataset.hpp"
#include "mgap/error.hpp"
#include "mgap/image_io.hpp"
#include "mgap/magnification.hpp"
#include "mgap/slide.hpp"
#include "mgap/synthetic_tissue.hpp"
#include "slide_test_support.hpp"

namespace {

using mgap::SplitRole;

int run_command(const std::string& arguments) {
  const char* bin = std::getenv("MGAP_BIN_DIR");
  const std::string program = std::string(bin != nullptr ? bin : MGAP_BINARY_DIR "/bin") +
                              "/mgap-dataset";
  const int status = std::system((program + " " + arguments + " >/dev/null 2>&1").c_str());
  return WEXITSTATUS(status);
}

}  // namespace

TEST_CASE("synthetic slides are reproducible") {
  mgap::SyntheticSlideOptions options;
  options.width_px = 256;
  options.height_px = 192;
  options.seed = 9;
  const auto first = mgap::render_synthetic_slide(options);
  const auto second = mgap::render_synthetic_slide(options);
  CHECK(first.pixels == second.pixels);
  options.seed = 10;
  CHECK(mgap::render_synthetic_slide(options).pixels != first.pixels);
  options.class_id = 4;
  CHECK_THROWS_AS(mgap::render_synthetic_slide(options), mgap::InputError);
}

TEST_CASE("synthetic classes differ in nuclei") {
  // Hematoxylin-dark pixels: larger nuclei (coarse classes) cover more of the tissue.
  auto dark_fraction = [](int class_id) {
    mgap::SyntheticSlideOptions options;
    options.width_px = 768;
    options.height_px = 768;
    options.class_id = class_id;
    options.seed = 3;
    const auto image = mgap::render_synthetic_slide(options);
    std::int64_t dark = 0;
    for (std::size_t i = 0; i < image.pixels.size(); i += 3) {
      dark += image.pixels[i] < 120 ? 1 : 0;
    }
    return static_cast<double>(dark) / (image.pixels.size() / 3);
  };
  CHECK(dark_fraction(1) > 1.5 * dark_fraction(0));
  CHECK(dark_fraction(3) > 1.5 * dark_fraction(2));
}

TEST_CASE("synth then build then read") {
  mgap::test::ScratchFolder scratch("dataset-pipeline");
  mgap::SyntheticCohortOptions synth;
  synth.output_dir = scratch / "cohort";
  synth.num_slides = 8;
  synth.slide_size_px = 512;
  synth.region_size_px = 224;  // 56 um at 0.25 mpp
  synth.seed = 4;
  const auto cohort = mgap::write_synthetic_cohort(synth);
  REQUIRE(cohort.slides.size() == 8);
  REQUIRE(cohort.regions.size() == 8 * 4);  // a 2 x 2 grid per slide
  const mgap::Slide slide(scratch / "cohort" / cohort.slides[0].path);
  CHECK(slide.mpp().mpp_x == doctest::Approx(0.25).epsilon(1e-9));
  CHECK(std::filesystem::exists(scratch / "cohort" / "regions.csv"));

  // One region too small for 24 px at 2 mpp (48 um): it is skipped and counted.
  const auto small = scratch / "cohort" / "regions" / "0_fine-sparse" / "synth-900_0_0.png";
  mgap::write_png(mgap::RgbImage(100, 100, {200, 100, 200}), small, 0.25);

  mgap::BuildBenchmarkOptions build;
  build.input_dir = scratch / "cohort" / "regions";
  build.output_dir = scratch / "benchmark";
  build.tile_size_px = 24;
  build.num_folds = 4;
  build.seed = 2;
  const auto report = mgap::build_benchmark(build);
  CHECK(report.num_regions == 33);
  CHECK(report.num_written == 32);
  CHECK(report.num_skipped_too_small == 1);
  CHECK(report.num_slides == 8);
  CHECK(report.class_names.size() == 4);

  const auto dataset = mgap::read_tcga_ms(scratch / "benchmark");
  CHECK(dataset.mpps == mgap::test_mpps());
  CHECK(dataset.tiles.size() == 32 * 7);
  std::map<std::string, int> tiles_per_id;
  for (const auto& tile : dataset.tiles) {
    ++tiles_per_id[tile.tile_id];
    CHECK(tile.slide_id.rfind("synth-", 0) == 0);
    // Each slide's label is its class: slide i has class i mod 4.
    CHECK(tile.label_id == std::stoi(tile.slide_id.substr(6)) % 4);
  }
  for (const auto& [id, count] : tiles_per_id) {
    CHECK_MESSAGE(count == 7, id);
  }
  const mgap::Slide tile(dataset.tiles.back().path);
  CHECK(tile.width() == 24);
  CHECK(tile.mpp().mpp_x == doctest::Approx(2.0).epsilon(1e-6));

  // At the regions' own mpp the tile is the exact centre crop of the region.
  const auto& region = cohort.regions.front();
  const mgap::Slide source(scratch / "cohort" / region.path);
  const std::string name = region.slide_id + "_" + std::to_string(region.x) + "_" +
                           std::to_string(region.y) + ".png";
  const mgap::Slide same_mpp(scratch / "benchmark" / "mpp_0.25" / name);
  CHECK(same_mpp.read_level_region(0, 0, 0, 24, 24).pixels ==
        source.read_level_region(0, 100, 100, 24, 24).pixels);

  // Every slide is tested in exactly one fold and validated in exactly one other.
  REQUIRE(dataset.folds.size() == 8);
  for (const auto& [slide_id, roles] : dataset.folds) {
    CHECK(roles.size() == 4);
    CHECK(std::count(roles.begin(), roles.end(), SplitRole::kTest) == 1);
    CHECK(std::count(roles.begin(), roles.end(), SplitRole::kDev) == 1);
  }

  // The output folder is never overwritten.
  CHECK_THROWS_AS(mgap::build_benchmark(build), mgap::InputError);
}

TEST_CASE("grouped folds are stratified") {
  // 3 labels with 7, 5 and 3 slides over 5 folds.
  std::vector<int> labels;
  for (int label = 0; label < 3; ++label) {
    for (int i = 0; i < 7 - 2 * label; ++i) labels.push_back(label);
  }
  const auto roles = mgap::assign_grouped_folds(labels, 5, 1);
  REQUIRE(roles.size() == labels.size());
  for (int fold = 0; fold < 5; ++fold) {
    std::map<int, int> tested;
    int dev = 0;
    for (std::size_t group = 0; group < labels.size(); ++group) {
      if (roles[group][fold] == SplitRole::kTest) ++tested[labels[group]];
      if (roles[group][fold] == SplitRole::kDev) ++dev;
    }
    // Each label's slides are spread as evenly as its count allows.
    CHECK(tested[0] >= 1);
    CHECK(tested[0] <= 2);
    CHECK(tested[1] == 1);
    CHECK(tested[2] <= 1);
    CHECK(dev >= 3);
  }
  CHECK(mgap::assign_grouped_folds(labels, 5, 1) == roles);
  CHECK_THROWS_AS(mgap::assign_grouped_folds(labels, 2, 1), mgap::InputError);
  CHECK_THROWS_AS(mgap::assign_grouped_folds({0, 1}, 3, 1), mgap::InputError);
}

TEST_CASE("labels csv round trip") {
  mgap::test::ScratchFolder scratch("dataset-labels");
  const std::vector<mgap::SlideLabel> labels = {
      {"TCGA-A1", 0, {SplitRole::kTrain, SplitRole::kDev, SplitRole::kTest}},
      {"TCGA-B2", 2, {SplitRole::kTest, SplitRole::kTrain, SplitRole::kDev}},
  };
  mgap::write_labels_csv(scratch / "labels.csv", labels);
  CHECK(mgap::read_text_file(scratch / "labels.csv") ==
        "slide_uuid,label_id,fold_0,fold_1,fold_2\nTCGA-A1,0,train,dev,test\n"
        "TCGA-B2,2,test,train,dev\n");
  const auto read = mgap::read_labels_csv(scratch / "labels.csv");
  REQUIRE(read.size() == 2);
  CHECK(read[1].slide_id == "TCGA-B2");
  CHECK(read[1].label_id == 2);
  CHECK(read[1].folds == labels[1].folds);

  mgap::write_file_atomically(scratch / "bad.csv", "slide_uuid,label_id,fold_0\nA,0,validate\n");
  CHECK_THROWS_AS(mgap::read_labels_csv(scratch / "bad.csv"), mgap::InputError);
  mgap::write_file_atomically(scratch / "twice.csv", "slide_uuid,label_id\nA,0\nA,1\n");
  CHECK_THROWS_AS(mgap::read_labels_csv(scratch / "twice.csv"), mgap::InputError);
}

TEST_CASE("BRACS layout reader") {
  mgap::test::ScratchFolder scratch("dataset-bracs");
  const mgap::RgbImage tile(16, 16, {220, 120, 200});
  for (const char* mpp : {"0.25", "0.5"}) {
    const auto folder = scratch / (std::string("BRACS_") + mpp + "mpp");
    std::filesystem::create_directories(folder);
    for (const char* name : {"BRACS_1003_DCIS_2.png", "BRACS_1003_N_1.png", "BRACS_745_IC_1.png",
                             "BRACS_745_XX_1.png", "notes.png"}) {
      mgap::write_png(tile, folder / name, std::stod(mpp));
    }
  }
  mgap::write_file_atomically(scratch / "patients.csv", "wsi,patient\n1003,P7\n745,P7\n");

  const auto dataset = mgap::read_bracs_ms(scratch.path(), scratch / "patients.csv");
  CHECK(dataset.mpps == std::vector<double>{0.25, 0.5});
  REQUIRE(dataset.tiles.size() == 6);
  CHECK(dataset.num_skipped_files == 4);
  const auto& first = dataset.tiles.front();  // sorted by mpp, then tile id
  CHECK(first.tile_id == "BRACS_1003_DCIS_2");
  CHECK(first.slide_id == "1003");
  CHECK(first.group == "P7");
  CHECK(first.label_id == 5);
  CHECK(dataset.label_names[first.label_id] == "DCIS");
  CHECK(dataset.tiles[2].label_id == 6);  // BRACS_745_IC_1

  CHECK_THROWS_AS(mgap::read_bracs_ms(scratch / "BRACS_0.25mpp"), mgap::InputError);
}

TEST_CASE("mgap-dataset command line") {
  mgap::test::ScratchFolder scratch("dataset-cli");
  const std::string output = (scratch / "cohort").string();
  CHECK(run_command("--help") == 0);
  CHECK(run_command("synth --output " + output + " --slides 1 --size 256 --region-size 100 "
                    "--seed 3") == 0);
  CHECK(std::filesystem::exists(scratch / "cohort" / "slides" / "synth-000.tif"));
  CHECK(run_command("info " + (scratch / "cohort" / "slides" / "synth-000.tif").string()) == 0);

  // Tiles from a density: the same seed writes the same stream.
  const std::string slide = (scratch / "cohort" / "slides" / "synth-000.tif").string();
  for (const char* name : {"tiles-a", "tiles-b"}) {
    CHECK(run_command("tiles --slides " + slide + " --density du --count 12 --tile-size 32 "
                      "--threads 3 --seed 8 --output " + (scratch / name).string()) == 0);
  }
  const std::string listing = mgap::read_text_file(scratch / "tiles-a" / "tiles.csv");
  CHECK(listing.rfind("index,slide,mpp,x,y,level,path\n", 0) == 0);
  CHECK(listing == mgap::read_text_file(scratch / "tiles-b" / "tiles.csv"));
  CHECK(std::filesystem::exists(scratch / "tiles-a" / "tiles" / "000011.png"));
  CHECK(run_command("tiles --slides " + slide + " --density nonsense --output " +
                    (scratch / "tiles-c").string()) == 2);
  CHECK_FALSE(std::filesystem::exists(scratch / "tiles-c"));

  // Invalid input: one message, exit status 2, nothing left behind.
  CHECK(run_command("synth --output " + (scratch / "bad").string() + " --size 256 "
                    "--compression lzw") == 2);
  CHECK_FALSE(std::filesystem::exists(scratch / "bad"));
  CHECK(run_command("synth --output " + output + " --size 256") == 2);  // not empty
  CHECK(run_command("build --input " + (scratch / "missing").string() + " --output " +
                    (scratch / "out").string()) == 2);
  CHECK_FALSE(std::filesystem::exists(scratch / "out"));
  for (const auto& entry : std::filesystem::directory_iterator(scratch.path())) {
    CHECK_MESSAGE(entry.path().filename().string().rfind(".", 0) != 0, entry.path().string());
  }
}
