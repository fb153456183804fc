#include "torch_doctest.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "checkpoint.hpp"
#include "encoder.hpp"
#include "mgap/density.hpp"
#include "mgap/error.hpp"
#include "mgap/train.hpp"

namespace fs = std::filesystem;

namespace {

constexpr double kLowMpp = 0.25;
constexpr double kHighMpp = 2.0;

// Kolmogorov-Smirnov critical value factor at significance 0.001 (c(alpha) = sqrt(-ln(alpha/2)/2)).
constexpr double kKsFactorAlpha001 = 1.949;
// Forward passes of the same weights in LibTorch C++ and in TorchScript run the same kernels in
// float32, so they agree to rounding.
constexpr double kScriptTolerance = 1e-5;

fs::path fresh_folder(const std::string& name) {
  const fs::path folder = fs::temp_directory_path() / ("mgap_test_train_" + name);
  fs::remove_all(folder);
  fs::create_directories(folder);
  return folder;
}

// Continuous uniform in log2 mpp over [0.25, 2] mpp (log-uniform in mpp), sampled by inverse CDF.
const mgap::SamplingDensity& continuous_uniform() {
  static const mgap::SamplingDensity density = mgap::make_continuous_uniform(
      mgap::MppDomain{kLowMpp, kHighMpp}, mgap::Coordinate::kLog2Mpp, 16);
  return density;
}

double sample_log_uniform(mgap::RandomEngine& engine) { return continuous_uniform().sample(engine); }

mgap::TrainOptions tiny_options(const fs::path& output_dir) {
  mgap::TrainOptions options;
  options.encoder.base_channels = 4;
  options.encoder.head_hidden_dim = 32;
  options.encoder.head_bottleneck_dim = 16;
  options.encoder.num_prototypes = 32;
  options.tile_size = 24;
  options.batch_size = 16;
  options.steps = 40;
  options.warmup_steps = 5;
  options.log_every = 5;
  options.rankme_every = 20;
  options.heldout_tiles = 64;
  options.threads = 1;
  options.workers = 2;
  options.seed = 7;
  options.density_hash = "log-uniform";
  options.density_name = "log-uniform";
  options.progress_bar = false;
  options.output_dir = output_dir;
  return options;
}

std::vector<double> read_csv_column(const fs::path& path, const std::string& column) {
  std::ifstream input(path);
  std::string line;
  std::getline(input, line);
  std::vector<std::string> header;
  std::stringstream header_stream(line);
  for (std::string field; std::getline(header_stream, field, ',');) {
    header.push_back(field);
  }
  const auto position = std::find(header.begin(), header.end(), column) - header.begin();
  std::vector<double> values;
  while (std::getline(input, line)) {
    std::stringstream row(line);
    std::string field;
    for (long index = 0; index <= position; ++index) {
      std::getline(row, field, ',');
    }
    values.push_back(std::stod(field));
  }
  return values;
}

// Parameters of the student and teacher stored in a checkpoint, by name.
std::vector<std::pair<std::string, torch::Tensor>> checkpoint_weights(const fs::path& path) {
  const mgap::train_detail::CheckpointHeader header =
      mgap::train_detail::read_checkpoint_header(path);
  torch::serialize::InputArchive archive;
  archive.load_from(path.string());
  std::vector<std::pair<std::string, torch::Tensor>> weights;
  for (const std::string network : {"student", "teacher"}) {
    mgap::train_detail::DinoNetwork model(header.encoder);
    torch::serialize::InputArchive nested;
    archive.read(network, nested);
    model->load(nested);
    for (const auto& item : model->named_parameters()) {
      weights.emplace_back(network + "." + item.key(), item.value().clone());
    }
  }
  torch::Tensor center;
  archive.read("center", center, true);
  weights.emplace_back("center", center);
  return weights;
}

}  // namespace

TEST_CASE("tiny run learns and logs") {
  const fs::path folder = fresh_folder("tiny");
  const auto tiles = mgap::make_procedural_tile_source(1);
  const mgap::TrainReport report =
      mgap::train_encoder(tiny_options(folder), *tiles, sample_log_uniform);

  REQUIRE(report.metrics.size() == 8);
  const double first_loss = report.metrics.front().loss;
  const double last_loss = report.metrics.back().loss;
  CHECK(last_loss < first_loss);
  CHECK(report.final_step == 40);
  CHECK(report.final_rankme > 1.0);
  CHECK(report.threads_used == 1);
  CHECK(report.device_used == "cpu");
  for (const char* name : {"checkpoint.pt", "encoder.pt", "metrics.csv", "sampled_mpps.csv",
                           "train_summary.json"}) {
    CHECK(fs::is_regular_file(folder / name));
  }

  SUBCASE("sampled mpps follow the density") {
    std::vector<double> mpps = read_csv_column(folder / "sampled_mpps.csv", "mpp");
    REQUIRE(mpps.size() == 40 * 16);
    std::sort(mpps.begin(), mpps.end());
    double statistic = 0.0;
    const double n = static_cast<double>(mpps.size());
    for (std::size_t i = 0; i < mpps.size(); ++i) {
      const double cdf = continuous_uniform().cdf(mpps[i]);
      statistic = std::max({statistic, (static_cast<double>(i) + 1.0) / n - cdf,
                            cdf - static_cast<double>(i) / n});
    }
    CHECK(statistic < kKsFactorAlpha001 / std::sqrt(n));
    CHECK(mpps.front() >= kLowMpp);
    CHECK(mpps.back() <= kHighMpp);
  }

  SUBCASE("torchscript encoder matches checkpoint") {
    torch::jit::Module script = torch::jit::load((folder / "encoder.pt").string());
    mgap::train_detail::CheckpointHeader header;
    mgap::train_detail::Encoder encoder =
        mgap::train_detail::load_teacher_encoder(folder / "checkpoint.pt", &header);
    torch::manual_seed(1);
    const torch::Tensor images = torch::rand({3, 3, 24, 24});
    torch::NoGradGuard no_grad;
    const torch::Tensor expected = encoder->forward(images);
    const torch::Tensor actual = script.forward({images}).toTensor();
    REQUIRE(actual.sizes() == expected.sizes());
    CHECK(actual.size(1) == 32);
    CHECK((actual - expected).abs().max().item<double>() < kScriptTolerance);
    CHECK(script.attr("embedding_dim").toInt() == 32);
    CHECK(script.attr("tile_size").toInt() == 24);
  }

  SUBCASE("python loads the encoder") {
    const fs::path script = folder / "load.py";
    std::ofstream(script) << "import sys, torch\n"
                             "m = torch.jit.load(sys.argv[1])\n"
                             "y = m(torch.rand(2, 3, 24, 24))\n"
                             "assert tuple(y.shape) == (2, int(m.embedding_dim)), y.shape\n"
                             "ckpt = torch.jit.load(sys.argv[2])\n"
                             "names = [n for n, _ in ckpt.named_parameters()]\n"
                             "assert any(n.startswith('teacher.encoder.') for n in names), names\n";
    const std::string command = "/usr/bin/python3 " + script.string() + " " +
                                (folder / "encoder.pt").string() + " " +
                                (folder / "checkpoint.pt").string();
    CHECK(std::system(command.c_str()) == 0);
  }
}

TEST_CASE("resume gives identical weights") {
  const auto tiles = mgap::make_procedural_tile_source(2);
  const fs::path whole = fresh_folder("resume_whole");
  const fs::path split = fresh_folder("resume_split");

  mgap::TrainOptions options = tiny_options(whole);
  options.steps = 6;
  options.log_every = 2;
  options.warmup_steps = 2;
  mgap::train_encoder(options, *tiles, sample_log_uniform);

  options.output_dir = split;
  options.stop_at_step = 4;  // a multiple of log_every, so both runs log the same rows
  options.workers = 0;  // the data stream must not depend on the worker count either
  mgap::train_encoder(options, *tiles, sample_log_uniform);
  options.stop_at_step = 0;
  options.resume = true;
  options.workers = 3;
  const mgap::TrainReport resumed = mgap::train_encoder(options, *tiles, sample_log_uniform);
  CHECK(resumed.start_step == 4);
  CHECK(resumed.final_step == 6);

  const auto expected = checkpoint_weights(whole / "checkpoint.pt");
  const auto actual = checkpoint_weights(split / "checkpoint.pt");
  REQUIRE(expected.size() == actual.size());
  for (std::size_t index = 0; index < expected.size(); ++index) {
    INFO(expected[index].first);
    CHECK(torch::equal(expected[index].second, actual[index].second));
  }
  CHECK(read_csv_column(whole / "sampled_mpps.csv", "mpp") ==
        read_csv_column(split / "sampled_mpps.csv", "mpp"));
  CHECK(read_csv_column(whole / "metrics.csv", "loss") ==
        read_csv_column(split / "metrics.csv", "loss"));
}

TEST_CASE("resume rejects other settings") {
  const auto tiles = mgap::make_procedural_tile_source(3);
  const fs::path folder = fresh_folder("resume_mismatch");
  mgap::TrainOptions options = tiny_options(folder);
  options.steps = 2;
  options.log_every = 1;
  options.warmup_steps = 1;
  mgap::train_encoder(options, *tiles, sample_log_uniform);
  options.steps = 4;
  options.resume = true;
  options.seed = 8;
  CHECK_THROWS_AS(mgap::train_encoder(options, *tiles, sample_log_uniform), mgap::InputError);
}

TEST_CASE("resume without checkpoint fails") {
  const auto tiles = mgap::make_procedural_tile_source(3);
  mgap::TrainOptions options = tiny_options(fresh_folder("resume_missing"));
  options.resume = true;
  CHECK_THROWS_AS(mgap::train_encoder(options, *tiles, sample_log_uniform), mgap::InputError);
}

TEST_CASE("cuda request fails clearly on cpu build") {
  const auto tiles = mgap::make_procedural_tile_source(3);
  mgap::TrainOptions options = tiny_options(fresh_folder("cuda"));
  options.device.name = "cuda:0";
  if (!torch::cuda::is_available()) {
    CHECK_THROWS_AS(mgap::train_encoder(options, *tiles, sample_log_uniform), mgap::InputError);
  }
  options.device.name = "tpu";
  CHECK_THROWS_AS(mgap::train_encoder(options, *tiles, sample_log_uniform), mgap::InputError);
}
