#pragma once

// Small benchmark embedding folders written by the tests: per mpp an embeddings_mpp_{mpp}.npy and
// a tiles_mpp_{mpp}.txt, with the rows of every mpp in a different (seeded) order.

#include <Eigen/Core>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "mgap/atomic_file.hpp"
#include "mgap/embedding_bundle.hpp"
#include "mgap/magnification.hpp"
#include "mgap/npy.hpp"
#include "mgap/random.hpp"

namespace mgap::test {

// One tile of a fixture: its file name, label and group, and its embedding at each mpp.
struct FixtureTile {
  std::string file_name;  // with the .png extension
  std::string label;
  std::string group;
  std::vector<Eigen::VectorXd> embedding_at;  // [num_mpps] vectors of embedding_dim
};

struct FixtureFolder {
  std::vector<double> mpps;
  std::vector<FixtureTile> tiles;
};

// Embedding of a tile of class `label_index` at mpp index `m`: a class centre that drifts with
// the mpp, plus unit noise. Values are rounded to float32 so that .npy files hold them exactly.
inline Eigen::VectorXd fixture_embedding(int label_index, int m, int embedding_dim,
                                         RandomEngine& engine) {
  Eigen::VectorXd vector(embedding_dim);
  for (int d = 0; d < embedding_dim; ++d) {
    const double centre = (d % 3 == label_index % 3 ? 2.0 : 0.0) + 0.1 * m * (d % 2);
    vector(d) = static_cast<float>(centre + standard_normal(engine));
  }
  return vector;
}

// Writes `fixture` into `folder` with the rows at each mpp in a seeded random order. The tile
// names are bare file names at even mpp indices and `mpp_{mpp}/{file name}` paths at odd ones.
inline void write_fixture_folder(const std::filesystem::path& folder, const FixtureFolder& fixture,
                                 std::uint64_t seed, NpyDtype dtype = NpyDtype::kFloat32) {
  std::filesystem::create_directories(folder);
  RandomEngine engine(seed);
  for (std::size_t m = 0; m < fixture.mpps.size(); ++m) {
    std::vector<std::size_t> order(fixture.tiles.size());
    for (std::size_t i = 0; i < order.size(); ++i) {
      order[i] = i;
    }
    for (std::size_t i = order.size(); i > 1; --i) {
      std::swap(order[i - 1], order[uniform_index(engine, i)]);
    }
    const Eigen::Index dim = fixture.tiles.front().embedding_at[m].size();
    Eigen::MatrixXd matrix(static_cast<Eigen::Index>(order.size()), dim);
    std::string names;
    const std::string mpp_text = format_mpp(fixture.mpps[m]);
    for (std::size_t r = 0; r < order.size(); ++r) {
      const FixtureTile& tile = fixture.tiles[order[r]];
      matrix.row(static_cast<Eigen::Index>(r)) = tile.embedding_at[m].transpose();
      names += (m % 2 == 1 ? "mpp_" + mpp_text + "/" : std::string()) + tile.file_name + "\n";
    }
    write_npy(folder / ("embeddings_mpp_" + mpp_text + ".npy"), matrix, dtype);
    write_file_atomically(folder / ("tiles_mpp_" + mpp_text + ".txt"), names);
  }
}

// The bundle a user would write by hand for `fixture`: tiles sorted by file name at every mpp,
// tile ids without the extension.
inline EmbeddingBundle fixture_bundle(const FixtureFolder& fixture) {
  std::vector<std::size_t> order(fixture.tiles.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    order[i] = i;
  }
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return fixture.tiles[a].file_name < fixture.tiles[b].file_name;
  });
  EmbeddingBundle bundle;
  for (std::size_t m = 0; m < fixture.mpps.size(); ++m) {
    EmbeddingSet set;
    set.mpp = fixture.mpps[m];
    const Eigen::Index dim = fixture.tiles.front().embedding_at[m].size();
    set.embeddings.resize(static_cast<Eigen::Index>(order.size()), dim);
    for (std::size_t r = 0; r < order.size(); ++r) {
      const FixtureTile& tile = fixture.tiles[order[r]];
      set.embeddings.row(static_cast<Eigen::Index>(r)) = tile.embedding_at[m].transpose();
      set.tile_ids.push_back(std::filesystem::path(tile.file_name).stem().string());
      set.labels.push_back(tile.label);
      set.groups.push_back(tile.group);
    }
    bundle.sets.push_back(std::move(set));
  }
  return bundle;
}

// TCGA-MS fixture: 9 slides (ids with an underscore), 3 classes (label_id = slide % 3), 4 tiles per
// slide, 3 mpps. labels.csv has 3 folds: fold f tests slides 3f..3f+2 and validates on the next
// three, so every part contains one slide of each class.
inline FixtureFolder tcga_fixture(const std::filesystem::path& labels_csv) {
  constexpr int kNumSlides = 9;
  constexpr int kTilesPerSlide = 4;
  constexpr int kEmbeddingDim = 6;
  FixtureFolder fixture;
  fixture.mpps = {0.5, 1.0, 2.0};
  RandomEngine engine(11);
  std::string labels = "slide_uuid,label_id,fold_0,fold_1,fold_2\n";
  for (int slide = 0; slide < kNumSlides; ++slide) {
    const std::string slide_id = "TCGA-A" + std::to_string(slide) + "-01Z_DX1";
    const int label = slide % 3;
    labels += slide_id + "," + std::to_string(label);
    for (int fold = 0; fold < 3; ++fold) {
      const int part = slide / 3;
      labels += part == fold ? ",test" : part == (fold + 1) % 3 ? ",dev" : ",train";
    }
    labels += "\n";
    for (int tile = 0; tile < kTilesPerSlide; ++tile) {
      FixtureTile fixture_tile;
      fixture_tile.file_name = slide_id + "_" + std::to_string(224 * tile) + "_448.png";
      fixture_tile.label = std::to_string(label);
      fixture_tile.group = slide_id;
      for (std::size_t m = 0; m < fixture.mpps.size(); ++m) {
        fixture_tile.embedding_at.push_back(
            fixture_embedding(label, static_cast<int>(m), kEmbeddingDim, engine));
      }
      fixture.tiles.push_back(std::move(fixture_tile));
    }
  }
  write_file_atomically(labels_csv, labels);
  return fixture;
}

// BRACS-MS fixture: 10 WSIs of 2 subtypes (PB and DCIS, label ids 1 and 5), 3 tiles per WSI,
// 2 mpps. The patient table maps WSIs 100..107 to patients P0..P3 (two WSIs each) and lacks 108
// and 109.
inline FixtureFolder bracs_fixture(const std::filesystem::path& patients_csv) {
  constexpr int kNumWsis = 10;
  constexpr int kTilesPerWsi = 3;
  constexpr int kEmbeddingDim = 5;
  constexpr int kWsisWithPatient = 8;
  FixtureFolder fixture;
  fixture.mpps = {0.25, 1.0};
  RandomEngine engine(12);
  std::string patients = "patient,wsi\n";
  for (int wsi = 0; wsi < kNumWsis; ++wsi) {
    const std::string wsi_id = std::to_string(100 + wsi);
    const bool ductal = wsi % 2 == 1;
    const std::string patient = "P" + std::to_string(wsi / 2);
    if (wsi < kWsisWithPatient) {
      patients += patient + ",BRACS_" + wsi_id + "\n";
    }
    for (int tile = 0; tile < kTilesPerWsi; ++tile) {
      FixtureTile fixture_tile;
      fixture_tile.file_name = "BRACS_" + wsi_id + (ductal ? "_DCIS_" : "_PB_") +
                               std::to_string(tile) + ".png";
      fixture_tile.label = ductal ? "5" : "1";
      fixture_tile.group = wsi < kWsisWithPatient ? patient : wsi_id;
      for (std::size_t m = 0; m < fixture.mpps.size(); ++m) {
        fixture_tile.embedding_at.push_back(
            fixture_embedding(ductal ? 1 : 0, static_cast<int>(m), kEmbeddingDim, engine));
      }
      fixture.tiles.push_back(std::move(fixture_tile));
    }
  }
  write_file_atomically(patients_csv, patients);
  return fixture;
}

}  // namespace mgap::test
