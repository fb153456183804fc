#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>

#include "mgap/atomic_file.hpp"
#include "mgap/embedding_bundle.hpp"
#include "mgap/error.hpp"
#include "mgap/npy.hpp"
#include "npy_fixtures.hpp"

namespace {

using mgap::testing::scratch_folder;

// Small matrix with values exact in float32, so bundles written as float32 read back unchanged.
Eigen::MatrixXd small_matrix(Eigen::Index rows, Eigen::Index cols, double offset) {
  Eigen::MatrixXd matrix(rows, cols);
  for (Eigen::Index i = 0; i < rows; ++i) {
    for (Eigen::Index j = 0; j < cols; ++j) {
      matrix(i, j) = offset + 0.5 * static_cast<double>(i) - 0.25 * static_cast<double>(j);
    }
  }
  return matrix;
}

void write_manifest(const std::filesystem::path& folder, const std::string& sets,
                    const std::string& schema = "mgap.embeddings/v1") {
  mgap::write_file_atomically(folder / "manifest.json",
                              "{\"schema\": \"" + schema + "\", \"sets\": [" + sets + "]}");
}

std::string error_of(const std::filesystem::path& manifest,
                     const mgap::BundleReadOptions& options = {}) {
  try {
    mgap::read_embedding_bundle(manifest, options);
  } catch (const mgap::InputError& error) {
    return error.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("bundle write read round trip") {
  const auto folder = scratch_folder("bundle_round_trip");
  mgap::EmbeddingBundle bundle;
  for (const double mpp : {0.5, 0.25, 1.0}) {
    mgap::EmbeddingSet set;
    set.mpp = mpp;
    set.embeddings = small_matrix(4, 3, mpp);
    set.tile_ids = {"s1_0_0", "s1_0,1", "s2_\"q\"", "s2_1_1"};
    set.labels = {"tumor", "stroma", "tumor", "normal"};
    bundle.sets.push_back(set);
  }
  std::sort(bundle.sets.begin(), bundle.sets.end(),
            [](const auto& a, const auto& b) { return a.mpp < b.mpp; });
  mgap::write_embedding_bundle(folder / "bundle", bundle);

  const mgap::EmbeddingBundle read = mgap::read_embedding_bundle(folder / "bundle/manifest.json");
  REQUIRE(read.sets.size() == 3);
  CHECK(read.embedding_dim() == 3);
  CHECK(read.mpps() == std::vector<double>{0.25, 0.5, 1.0});
  CHECK(read.warnings.empty());
  CHECK(read.manifest_hash.size() == 16);
  for (const mgap::EmbeddingSet& set : read.sets) {
    CHECK(set.embeddings == small_matrix(4, 3, set.mpp));
    CHECK(set.tile_ids == bundle.sets.front().tile_ids);
    CHECK(set.labels == bundle.sets.front().labels);
    CHECK(set.groups.empty());
    CHECK(set.source.extension() == ".npy");
  }
  CHECK(read.at_mpp(0.5).mpp == 0.5);
  CHECK_THROWS_AS(read.at_mpp(0.75), mgap::InputError);
}

TEST_CASE("bundle csv embeddings with metadata") {
  const auto folder = scratch_folder("bundle_csv");
  mgap::write_file_atomically(folder / "a.csv",
                              "tile_id,e0,e1,label,group\nt1,1.5,-2,tumor,p1\nt2, 0.25 ,3e2,"
                              "normal,p2\n");
  mgap::write_npy(folder / "b.npy", small_matrix(3, 2, 0.0));
  mgap::write_file_atomically(folder / "b_rows.csv", "group,tile_id\np1,t2\np1,t1\np2,t3\n");
  write_manifest(folder, R"({"mpp": 2.0, "file": "b.npy", "rows": "b_rows.csv"},
                            {"mpp": 0.5, "file": "a.csv"})");
  const mgap::EmbeddingBundle bundle = mgap::read_embedding_bundle(folder / "manifest.json");
  REQUIRE(bundle.sets.size() == 2);
  const mgap::EmbeddingSet& first = bundle.sets[0];
  CHECK(first.mpp == 0.5);
  CHECK(first.embeddings(0, 0) == 1.5);
  CHECK(first.embeddings(1, 0) == 0.25);
  CHECK(first.embeddings(1, 1) == 300.0);
  CHECK(first.tile_ids == std::vector<std::string>{"t1", "t2"});
  CHECK(first.labels == std::vector<std::string>{"tumor", "normal"});
  CHECK(first.groups == std::vector<std::string>{"p1", "p2"});
  CHECK(bundle.sets[1].groups == std::vector<std::string>{"p1", "p1", "p2"});
  CHECK(bundle.sets[1].labels.empty());

  const auto pairs = mgap::pair_tiles(bundle.sets[0], bundle.sets[1]);
  REQUIRE(pairs.size() == 2);
  CHECK(pairs[0] == std::pair<Eigen::Index, Eigen::Index>{0, 1});
  CHECK(pairs[1] == std::pair<Eigen::Index, Eigen::Index>{1, 0});
}

TEST_CASE("bundle non-finite rows") {
  const auto folder = scratch_folder("bundle_nonfinite");
  Eigen::MatrixXd matrix = small_matrix(5, 2, 1.0);
  matrix(3, 1) = std::numeric_limits<double>::quiet_NaN();
  matrix(1, 0) = std::numeric_limits<double>::infinity();
  mgap::write_npy(folder / "a.npy", matrix);
  mgap::write_file_atomically(folder / "a.csv", "tile_id\nt0\nt1\nt2\nt3\nt4\n");
  write_manifest(folder, R"({"mpp": 0.5, "file": "a.npy", "rows": "a.csv"})");

  const std::string message = error_of(folder / "manifest.json");
  CHECK(contains(message, (folder / "a.npy").string()));
  CHECK(contains(message, "row 1 (0-based)"));
  CHECK(contains(message, "--drop-nonfinite"));

  const mgap::EmbeddingBundle bundle =
      mgap::read_embedding_bundle(folder / "manifest.json", {/*drop_nonfinite=*/true});
  REQUIRE(bundle.sets.size() == 1);
  CHECK(bundle.sets[0].num_tiles() == 3);
  CHECK(bundle.sets[0].tile_ids == std::vector<std::string>{"t0", "t2", "t4"});
  CHECK(bundle.sets[0].embeddings.row(1) == matrix.row(2));
  REQUIRE(bundle.warnings.size() == 1);
  CHECK(contains(bundle.warnings[0], "dropped 2 of 5 rows"));
}

TEST_CASE("bundle all-zero rows warned") {
  const auto folder = scratch_folder("bundle_zero");
  Eigen::MatrixXd matrix = small_matrix(4, 3, 1.0);
  matrix.row(2).setZero();
  mgap::write_npy(folder / "a.npy", matrix);
  write_manifest(folder, R"({"mpp": 0.5, "file": "a.npy"})");
  const mgap::EmbeddingBundle bundle = mgap::read_embedding_bundle(folder / "manifest.json");
  CHECK(bundle.sets[0].num_tiles() == 4);
  REQUIRE(bundle.warnings.size() == 1);
  CHECK(contains(bundle.warnings[0], "1 all-zero rows (first at row 2)"));
}

TEST_CASE("bundle rejects inconsistent inputs") {
  const auto folder = scratch_folder("bundle_rejects");
  mgap::write_npy(folder / "d3.npy", small_matrix(4, 3, 0.0));
  mgap::write_npy(folder / "d3b.npy", small_matrix(2, 3, 1.0));
  mgap::write_npy(folder / "d2.npy", small_matrix(4, 2, 0.0));
  mgap::write_npy(folder / "empty.npy", Eigen::MatrixXd(0, 3));
  mgap::write_file_atomically(folder / "three_rows.csv", "tile_id\na\nb\nc\n");
  mgap::write_file_atomically(folder / "dup_ids.csv", "tile_id\na\nb\na\nc\n");
  mgap::write_file_atomically(folder / "bad_cell.csv", "e0,e1\n1,2\n3,x\n");
  const auto manifest = folder / "manifest.json";

  SUBCASE("dimension mismatch") {
    write_manifest(folder, R"({"mpp": 0.5, "file": "d3.npy"}, {"mpp": 1.0, "file": "d2.npy"})");
    const std::string message = error_of(manifest);
    CHECK(contains(message, "embedding dimension 2"));
    CHECK(contains(message, "d2.npy"));
  }
  SUBCASE("empty file") {
    write_manifest(folder, R"({"mpp": 0.5, "file": "empty.npy"})");
    CHECK(contains(error_of(manifest), "empty embeddings (0 rows"));
  }
  SUBCASE("duplicate mpps") {
    write_manifest(folder, R"({"mpp": 0.5, "file": "d3.npy"}, {"mpp": 0.5, "file": "d3b.npy"})");
    CHECK(contains(error_of(manifest), "listed twice"));
  }
  SUBCASE("unknown major version") {
    write_manifest(folder, R"({"mpp": 0.5, "file": "d3.npy"})", "mgap.embeddings/v2");
    CHECK(contains(error_of(manifest), "unsupported embeddings schema version"));
  }
  SUBCASE("row count mismatch") {
    write_manifest(folder, R"({"mpp": 0.5, "file": "d3.npy", "rows": "three_rows.csv"})");
    CHECK(contains(error_of(manifest), "3 rows, but"));
  }
  SUBCASE("duplicate tile ids") {
    write_manifest(folder, R"({"mpp": 0.5, "file": "d3.npy", "rows": "dup_ids.csv"})");
    CHECK(contains(error_of(manifest), "tile id 'a' appears at rows 0 and 2"));
  }
  SUBCASE("missing file") {
    write_manifest(folder, R"({"mpp": 0.5, "file": "absent.npy"})");
    CHECK(contains(error_of(manifest), "absent.npy"));
  }
  SUBCASE("non-numeric csv cell") {
    write_manifest(folder, R"({"mpp": 0.5, "file": "bad_cell.csv"})");
    CHECK(contains(error_of(manifest), "bad_cell.csv:3: cell 'x' in column 'e1'"));
  }
  SUBCASE("non-positive mpp") {
    write_manifest(folder, R"({"mpp": -1, "file": "d3.npy"})");
    CHECK(contains(error_of(manifest), "positive number"));
  }
  SUBCASE("no sets") {
    write_manifest(folder, "");
    CHECK(contains(error_of(manifest), "non-empty array"));
  }
}

TEST_CASE("pair tiles needs ids") {
  mgap::EmbeddingSet with_ids;
  with_ids.embeddings = small_matrix(2, 2, 0.0);
  with_ids.tile_ids = {"a", "b"};
  mgap::EmbeddingSet without_ids;
  without_ids.embeddings = small_matrix(2, 2, 0.0);
  CHECK_THROWS_AS(mgap::pair_tiles(with_ids, without_ids), mgap::InputError);
  CHECK(mgap::pair_tiles(with_ids, with_ids).size() == 2);
}
