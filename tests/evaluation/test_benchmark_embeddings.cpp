#include <doctest/doctest.h>

#include <filesystem>
#include <functional>
#include <string>

#include "../core/program_runner.hpp"
#include "benchmark_folder_fixture.hpp"
#include "mgap/atomic_file.hpp"
#include "mgap/benchmark_embeddings.hpp"
#include "mgap/benchmark_names.hpp"
#include "mgap/error.hpp"

namespace {

using mgap::BenchmarkEmbeddingsOptions;
using mgap::BenchmarkLayout;

// The InputError message of `action`, or "" when it does not throw one.
std::string error_message(const std::function<void()>& action) {
  try {
    action();
  } catch (const mgap::InputError& error) {
    return error.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Checks that `read` equals `expected` row for row (same tiles, metadata and embeddings).
void check_same_bundle(const mgap::EmbeddingBundle& read, const mgap::EmbeddingBundle& expected) {
  REQUIRE(read.sets.size() == expected.sets.size());
  for (std::size_t m = 0; m < read.sets.size(); ++m) {
    CAPTURE(m);
    CHECK(read.sets[m].mpp == expected.sets[m].mpp);
    CHECK(read.sets[m].tile_ids == expected.sets[m].tile_ids);
    CHECK(read.sets[m].labels == expected.sets[m].labels);
    CHECK(read.sets[m].groups == expected.sets[m].groups);
    CHECK(read.sets[m].embeddings == expected.sets[m].embeddings);
  }
}

BenchmarkEmbeddingsOptions tcga_options(const std::filesystem::path& folder) {
  BenchmarkEmbeddingsOptions options;
  options.folder = folder / "embeddings";
  options.layout = BenchmarkLayout::kTcgaMs;
  options.labels_csv = folder / "labels.csv";
  return options;
}

}  // namespace

TEST_CASE("tile name parsing") {
  const auto tcga = mgap::parse_tcga_tile_name("TCGA-A1_DX1_224_-448");
  REQUIRE(tcga.has_value());
  CHECK(tcga->slide_id == "TCGA-A1_DX1");
  CHECK(tcga->x == 224);
  CHECK(tcga->y == -448);
  CHECK_FALSE(mgap::parse_tcga_tile_name("TCGA-A1_224").has_value());
  CHECK_FALSE(mgap::parse_tcga_tile_name("TCGA-A1_x_448").has_value());
  CHECK_FALSE(mgap::parse_tcga_tile_name("_1_2").has_value());

  const auto bracs = mgap::parse_bracs_tile_name("BRACS_1003728_DCIS_12");
  REQUIRE(bracs.has_value());
  CHECK(bracs->wsi_id == "1003728");
  CHECK(bracs->subtype == "DCIS");
  CHECK(bracs->label_id == 5);
  CHECK(bracs->index == "12");
  const auto unknown = mgap::parse_bracs_tile_name("BRACS_1_XYZ_2");
  REQUIRE(unknown.has_value());
  CHECK(unknown->label_id == -1);
  CHECK_FALSE(mgap::parse_bracs_tile_name("BRACS_1_N").has_value());
  CHECK_FALSE(mgap::parse_bracs_tile_name("BRACS__N_2").has_value());
  CHECK_FALSE(mgap::parse_bracs_tile_name("TCGA_1_N_2").has_value());
}

TEST_CASE("tcga folder pairs shuffled rows") {
  const auto folder = mgap::test::fresh_folder("benchmark_tcga_pairs");
  const auto fixture = mgap::test::tcga_fixture(folder / "labels.csv");
  mgap::test::write_fixture_folder(folder / "embeddings", fixture, 5);

  const auto read = mgap::read_benchmark_embeddings(tcga_options(folder));
  check_same_bundle(read.bundle, mgap::test::fixture_bundle(fixture));
  CHECK(read.storage_dtype == mgap::NpyDtype::kFloat32);
  CHECK(read.warnings.empty());
  CHECK(read.bundle.manifest_hash.size() == 16);
  // Paired rows: row r is the same tile at every mpp.
  CHECK(mgap::pair_tiles(read.bundle.sets[0], read.bundle.sets[2]).front() ==
        std::pair<Eigen::Index, Eigen::Index>{0, 0});
}

TEST_CASE("bracs folder groups by patient") {
  const auto folder = mgap::test::fresh_folder("benchmark_bracs_groups");
  const auto fixture = mgap::test::bracs_fixture(folder / "patients.csv");
  mgap::test::write_fixture_folder(folder / "embeddings", fixture, 6, mgap::NpyDtype::kFloat64);

  BenchmarkEmbeddingsOptions options;
  options.folder = folder / "embeddings";
  options.layout = BenchmarkLayout::kBracsMs;
  options.patients_csv = folder / "patients.csv";
  const auto read = mgap::read_benchmark_embeddings(options);
  check_same_bundle(read.bundle, mgap::test::fixture_bundle(fixture));
  CHECK(read.storage_dtype == mgap::NpyDtype::kFloat64);
  // WSIs 108 and 109 are not in the patient table: grouped by WSI, with one warning naming them.
  REQUIRE(read.warnings.size() == 1);
  CHECK(contains(read.warnings.front(), "108, 109"));

  options.patients_csv.reset();
  const auto without_table = mgap::read_benchmark_embeddings(options);
  CHECK(without_table.bundle.sets.front().groups.front() == "100");
  REQUIRE(without_table.warnings.size() == 1);
  CHECK(contains(without_table.warnings.front(), "10 of the BRACS slides"));
}

TEST_CASE("folder tile missing at one mpp") {
  const auto folder = mgap::test::fresh_folder("benchmark_missing_tile");
  auto fixture = mgap::test::tcga_fixture(folder / "labels.csv");
  mgap::test::write_fixture_folder(folder / "embeddings", fixture, 5);
  // Rewrite the 2.0 mpp files without the first tile.
  const std::string dropped = fixture.tiles.front().file_name;
  fixture.tiles.erase(fixture.tiles.begin());
  fixture.mpps = {2.0};
  for (auto& tile : fixture.tiles) {
    tile.embedding_at = {tile.embedding_at.back()};
  }
  mgap::test::write_fixture_folder(folder / "embeddings", fixture, 7);

  const std::string message =
      error_message([&] { mgap::read_benchmark_embeddings(tcga_options(folder)); });
  CAPTURE(message);
  CHECK(contains(message, std::filesystem::path(dropped).stem().string()));
  CHECK(contains(message, "tiles_mpp_2.0.txt"));
  CHECK(contains(message, "missing"));
}

TEST_CASE("folder unknown bracs subtype") {
  const auto folder = mgap::test::fresh_folder("benchmark_unknown_subtype");
  auto fixture = mgap::test::bracs_fixture(folder / "patients.csv");
  fixture.tiles[4].file_name = "BRACS_101_XYZ_1.png";
  mgap::test::write_fixture_folder(folder / "embeddings", fixture, 6);

  BenchmarkEmbeddingsOptions options;
  options.folder = folder / "embeddings";
  options.layout = BenchmarkLayout::kBracsMs;
  const std::string message = error_message([&] { mgap::read_benchmark_embeddings(options); });
  CAPTURE(message);
  CHECK(contains(message, "'XYZ'"));
  CHECK(contains(message, "tiles_mpp_0.25.txt:"));
  CHECK(contains(message, "DCIS"));
}

TEST_CASE("folder slide absent from labels") {
  const auto folder = mgap::test::fresh_folder("benchmark_unlabelled_slide");
  auto fixture = mgap::test::tcga_fixture(folder / "labels.csv");
  fixture.tiles[5].file_name = "TCGA-ZZ_0_0.png";
  mgap::test::write_fixture_folder(folder / "embeddings", fixture, 5);

  const std::string message =
      error_message([&] { mgap::read_benchmark_embeddings(tcga_options(folder)); });
  CAPTURE(message);
  CHECK(contains(message, "'TCGA-ZZ'"));
  CHECK(contains(message, "labels.csv"));
  CHECK(contains(message, "tiles_mpp_0.5.txt:"));
}

TEST_CASE("folder rejects malformed input") {
  const auto folder = mgap::test::fresh_folder("benchmark_malformed");
  const auto fixture = mgap::test::tcga_fixture(folder / "labels.csv");
  mgap::test::write_fixture_folder(folder / "embeddings", fixture, 5);
  const auto options = tcga_options(folder);

  SUBCASE("tcga without labels") {
    auto without_labels = options;
    without_labels.labels_csv.reset();
    CHECK(contains(error_message([&] { mgap::read_benchmark_embeddings(without_labels); }),
                   "--labels"));
  }
  SUBCASE("name count differs from rows") {
    const auto tiles = options.folder / "tiles_mpp_1.0.txt";
    mgap::write_file_atomically(tiles, mgap::read_text_file(tiles) + "TCGA-A0-01Z_DX1_9_9.png\n");
    const std::string message = error_message([&] { mgap::read_benchmark_embeddings(options); });
    CHECK(contains(message, "lists 37 tiles"));
    CHECK(contains(message, "36 rows"));
  }
  SUBCASE("tile listed twice") {
    const auto tiles = options.folder / "tiles_mpp_1.0.txt";
    // Replace the second line by a copy of the first.
    const std::string text = mgap::read_text_file(tiles);
    const std::size_t first_end = text.find('\n') + 1;
    const std::size_t second_end = text.find('\n', first_end) + 1;
    mgap::write_file_atomically(tiles, text.substr(0, first_end) + text.substr(0, first_end) +
                                           text.substr(second_end));
    CHECK(contains(error_message([&] { mgap::read_benchmark_embeddings(options); }),
                   "listed twice"));
  }
  SUBCASE("tile name off the layout") {
    auto renamed = fixture;
    renamed.tiles[0].file_name = "tile.png";
    mgap::test::write_fixture_folder(options.folder, renamed, 5);
    const std::string message = error_message([&] { mgap::read_benchmark_embeddings(options); });
    CHECK(contains(message, "'tile'"));
    CHECK(contains(message, "{slide}_{x}_{y}"));
  }
  SUBCASE("embeddings without names") {
    std::filesystem::remove(options.folder / "tiles_mpp_2.0.txt");
    CHECK(contains(error_message([&] { mgap::read_benchmark_embeddings(options); }),
                   "tiles_mpp_2.0.txt"));
  }
  SUBCASE("names without embeddings") {
    std::filesystem::remove(options.folder / "embeddings_mpp_2.0.npy");
    CHECK(contains(error_message([&] { mgap::read_benchmark_embeddings(options); }),
                   "embeddings_mpp_2.0.npy"));
  }
  SUBCASE("empty folder") {
    auto empty = options;
    empty.folder = folder;
    CHECK(contains(error_message([&] { mgap::read_benchmark_embeddings(empty); }),
                   "no embeddings_mpp_"));
  }
}
