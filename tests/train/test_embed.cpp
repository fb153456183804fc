#include "torch_doctest.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "mgap/benchmark_dataset.hpp"
#include "mgap/embed.hpp"
#include "mgap/embedding_bundle.hpp"
#include "mgap/error.hpp"
#include "mgap/image_io.hpp"
#include "mgap/train.hpp"

namespace fs = std::filesystem;

namespace {

// Embeddings pass through float32 .npy files, which keep about 7 significant digits.
constexpr double kFloat32Tolerance = 1e-5;
// Two magnifications of the same tissue must be farther apart than float32 noise by far.
constexpr double kMinMppDifference = 1e-3;
constexpr int kTileSize = 32;

fs::path fresh_folder(const std::string& name) {
  const fs::path folder = fs::temp_directory_path() / ("mgap_test_embed_" + name);
  fs::remove_all(folder);
  fs::create_directories(folder);
  return folder;
}

// Tile `tile` of `slide` at `mpp` as 8-bit RGB, the pixels its PNG stores. The engine seed depends
// on slide and tile only, so both mpps are centred on the same tissue.
mgap::RgbImage procedural_tile(int slide, int tile, double mpp) {
  const auto source = mgap::make_procedural_tile_source(5);
  mgap::RandomEngine engine(static_cast<std::uint64_t>(10 * slide + tile));
  const mgap::TrainingTile pixels = source->read_tile(mpp, kTileSize, engine);
  mgap::RgbImage image(kTileSize, kTileSize);
  const std::size_t plane = static_cast<std::size_t>(kTileSize) * kTileSize;
  for (std::size_t pixel = 0; pixel < plane; ++pixel) {
    for (std::size_t channel = 0; channel < 3; ++channel) {
      image.pixels[3 * pixel + channel] =
          static_cast<std::uint8_t>(std::lround(255.0F * pixels.pixels[channel * plane + pixel]));
    }
  }
  return image;
}

// A TCGA-MS layout benchmark of procedural tissue: 3 slides x 2 tiles at 0.5 and 1.0 mpp.
fs::path write_benchmark(const fs::path& root) {
  std::vector<mgap::SlideLabel> labels;
  for (int slide = 0; slide < 3; ++slide) {
    const std::string slide_id = "slide" + std::to_string(slide);
    labels.push_back({slide_id, slide % 2,
                      {mgap::SplitRole::kTrain, mgap::SplitRole::kDev, mgap::SplitRole::kTest}});
    for (int tile = 0; tile < 2; ++tile) {
      for (const double mpp : {0.5, 1.0}) {
        const fs::path folder = root / (mpp == 0.5 ? "mpp_0.5" : "mpp_1.0");
        fs::create_directories(folder);
        mgap::write_png(procedural_tile(slide, tile, mpp),
                        folder / (slide_id + "_" + std::to_string(100 * tile) + "_0.png"), mpp);
      }
    }
  }
  mgap::write_labels_csv(root / "labels.csv", labels);
  return root;
}

// A TorchScript encoder defined in C++: mean colour and mean vertical gradient per channel,
// projected to 5 dimensions. The gradient term depends on the pixel size.
fs::path write_script_encoder(const fs::path& path) {
  torch::jit::Module module("GradientEncoder");
  torch::manual_seed(9);
  module.register_parameter("projection", torch::randn({6, 5}), false);
  module.define(R"(
def forward(self, images: Tensor) -> Tensor:
    gradient = (images[:, :, 1:, :] - images[:, :, :-1, :]).abs().mean([2, 3])
    return torch.cat([images.mean([2, 3]), gradient], 1) @ self.projection
)");
  module.save(path.string());
  return path;
}

double row_distance(const Eigen::MatrixXd& a, Eigen::Index row_a, const Eigen::MatrixXd& b,
                    Eigen::Index row_b) {
  return (a.row(row_a) - b.row(row_b)).norm();
}

}  // namespace

TEST_CASE("torchscript encoder embeds benchmark") {
  const fs::path folder = fresh_folder("script");
  const fs::path benchmark = write_benchmark(folder / "benchmark");
  mgap::EmbedOptions options;
  options.benchmark_root = benchmark;
  options.encoder_path = write_script_encoder(folder / "encoder.pt");
  options.output_dir = folder / "bundle";
  options.threads = 1;
  options.batch_size = 4;  // 6 tiles per mpp: one full batch and one partial
  options.progress_bar = false;
  const mgap::EmbedReport report = mgap::embed_benchmark(options);
  CHECK(report.encoder_kind == mgap::EncoderFileKind::kTorchScript);
  CHECK(report.embedding_dim == 5);
  CHECK(report.mpps == std::vector<double>{0.5, 1.0});
  CHECK(report.tiles_per_mpp == std::vector<int>{6, 6});

  const mgap::EmbeddingBundle bundle = mgap::read_embedding_bundle(report.manifest_path);
  REQUIRE(bundle.sets.size() == 2);
  const mgap::EmbeddingSet& fine = bundle.at_mpp(0.5);
  const mgap::EmbeddingSet& coarse = bundle.at_mpp(1.0);
  CHECK(fine.num_tiles() == 6);
  CHECK(fine.labels.size() == 6);
  CHECK(fine.groups.size() == 6);
  const auto pairs = mgap::pair_tiles(fine, coarse);
  REQUIRE(pairs.size() == 6);
  for (const auto& [row_fine, row_coarse] : pairs) {
    CHECK(row_distance(fine.embeddings, row_fine, coarse.embeddings, row_coarse) >
          kMinMppDifference);
  }

  SUBCASE("bundle matches direct forward") {
    const mgap::RgbImage image = procedural_tile(1, 1, 1.0);
    const torch::Tensor input =
        torch::from_blob(const_cast<std::uint8_t*>(image.pixels.data()), {1, kTileSize, kTileSize, 3},
                         torch::kUInt8)
            .permute({0, 3, 1, 2})
            .to(torch::kFloat32)
            .div(255.0);
    torch::jit::Module module = torch::jit::load(options.encoder_path.string());
    const torch::Tensor expected = module.forward({input}).toTensor().to(torch::kFloat64);
    const auto& ids = coarse.tile_ids;
    const auto row = std::find(ids.begin(), ids.end(), "slide1_100_0") - ids.begin();
    REQUIRE(row < static_cast<long>(ids.size()));
    for (int column = 0; column < 5; ++column) {
      CHECK(coarse.embeddings(row, column) ==
            doctest::Approx(expected[0][column].item<double>()).epsilon(kFloat32Tolerance));
    }
  }

  SUBCASE("batch size leaves embeddings unchanged") {
    mgap::EmbedOptions one = options;
    one.output_dir = folder / "bundle_batch1";
    one.batch_size = 1;
    one.mpps = {0.5};
    mgap::embed_benchmark(one);
    const mgap::EmbeddingBundle single = mgap::read_embedding_bundle(one.output_dir / "manifest.json");
    REQUIRE(single.sets.size() == 1);
    CHECK((single.at_mpp(0.5).embeddings - fine.embeddings).cwiseAbs().maxCoeff() <
          kFloat32Tolerance);
  }
}

TEST_CASE("checkpoint and torchscript export agree") {
  const fs::path folder = fresh_folder("checkpoint");
  const fs::path benchmark = write_benchmark(folder / "benchmark");
  mgap::TrainOptions train;
  train.encoder.base_channels = 4;
  train.encoder.head_hidden_dim = 16;
  train.encoder.head_bottleneck_dim = 8;
  train.encoder.num_prototypes = 16;
  train.tile_size = kTileSize;
  train.batch_size = 4;
  train.steps = 2;
  train.warmup_steps = 1;
  train.log_every = 1;
  train.heldout_tiles = 8;
  train.threads = 1;
  train.workers = 0;
  train.progress_bar = false;
  train.output_dir = folder / "run";
  const auto tiles = mgap::make_procedural_tile_source(1);
  mgap::train_encoder(train, *tiles, [](mgap::RandomEngine&) { return 0.5; });

  mgap::EmbedOptions options;
  options.benchmark_root = benchmark;
  options.threads = 1;
  options.progress_bar = false;
  options.encoder_path = folder / "run" / "checkpoint.pt";
  options.output_dir = folder / "from_checkpoint";
  const mgap::EmbedReport from_checkpoint = mgap::embed_benchmark(options);
  CHECK(from_checkpoint.encoder_kind == mgap::EncoderFileKind::kTrainCheckpoint);
  CHECK(from_checkpoint.embedding_dim == 32);
  options.encoder_path = folder / "run" / "encoder.pt";
  options.output_dir = folder / "from_script";
  const mgap::EmbedReport from_script = mgap::embed_benchmark(options);
  CHECK(from_script.encoder_kind == mgap::EncoderFileKind::kTorchScript);

  const auto a = mgap::read_embedding_bundle(from_checkpoint.manifest_path);
  const auto b = mgap::read_embedding_bundle(from_script.manifest_path);
  for (const double mpp : {0.5, 1.0}) {
    CHECK((a.at_mpp(mpp).embeddings - b.at_mpp(mpp).embeddings).cwiseAbs().maxCoeff() <
          kFloat32Tolerance);
  }
  const auto pairs = mgap::pair_tiles(a.at_mpp(0.5), a.at_mpp(1.0));
  REQUIRE(!pairs.empty());
  CHECK(row_distance(a.at_mpp(0.5).embeddings, pairs[0].first, a.at_mpp(1.0).embeddings,
                     pairs[0].second) > kMinMppDifference);
}

TEST_CASE("embed rejects missing mpp") {
  const fs::path folder = fresh_folder("missing_mpp");
  mgap::EmbedOptions options;
  options.benchmark_root = write_benchmark(folder / "benchmark");
  options.encoder_path = write_script_encoder(folder / "encoder.pt");
  options.output_dir = folder / "bundle";
  options.mpps = {0.75};
  options.progress_bar = false;
  CHECK_THROWS_AS(mgap::embed_benchmark(options), mgap::InputError);
  CHECK_FALSE(fs::exists(folder / "bundle" / "manifest.json"));
}

TEST_CASE("embed rejects non-model file") {
  const fs::path folder = fresh_folder("bad_encoder");
  mgap::EmbedOptions options;
  options.benchmark_root = write_benchmark(folder / "benchmark");
  options.encoder_path = folder / "labels_as_model.pt";
  fs::copy_file(folder / "benchmark" / "labels.csv", options.encoder_path);
  options.output_dir = folder / "bundle";
  options.progress_bar = false;
  CHECK_THROWS_AS(mgap::embed_benchmark(options), mgap::InputError);
}
