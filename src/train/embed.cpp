// mgap-embed's library part: a benchmark's tiles through a trained encoder into an embeddings
// bundle.

#include <spdlog/spdlog.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <thread>

#include "checkpoint.hpp"
#include "encoder.hpp"
#include "mgap/atomic_file.hpp"
#include "mgap/benchmark_dataset.hpp"
#include "mgap/embed.hpp"
#include "mgap/embedding_bundle.hpp"
#include "mgap/error.hpp"
#include "mgap/hash.hpp"
#include "mgap/magnification.hpp"
#include "mgap/slide.hpp"
#include "mgap/version.hpp"
#include "progress.hpp"

namespace mgap {

namespace {

// ImageNet channel statistics used by torchvision's pretrained models.
constexpr double kImagenetMean[3] = {0.485, 0.456, 0.406};
constexpr double kImagenetStd[3] = {0.229, 0.224, 0.225};
constexpr double kMppMatchTolerance = 1e-9;  // relative, as the embeddings module matches mpps

bool same_mpp(double a, double b) { return std::abs(a - b) <= kMppMatchTolerance * std::abs(b); }

// An encoder behind one call: the trainer's teacher or a TorchScript module.
class LoadedEncoder {
 public:
  LoadedEncoder(const std::filesystem::path& path, torch::Device device) : device_(device) {
    if (!std::filesystem::is_regular_file(path)) {
      throw InputError("encoder '" + path.string() +
                       "' not found; give a checkpoint.pt or encoder.pt from mgap-train or a "
                       "TorchScript file");
    }
    if (is_train_checkpoint(path)) {
      kind_ = EncoderFileKind::kTrainCheckpoint;
      trained_ = train_detail::load_teacher_encoder(path, nullptr);
      trained_->to(device_);
      trained_->eval();
      return;
    }
    kind_ = EncoderFileKind::kTorchScript;
    try {
      script_ = torch::jit::load(path.string(), device_);
    } catch (const c10::Error& error) {
      throw InputError("cannot load encoder '" + path.string() + "' as TorchScript (" +
                       error.what_without_backtrace() +
                       "); save it with torch.jit.save or use an mgap-train checkpoint");
    }
    script_.eval();
  }

  EncoderFileKind kind() const { return kind_; }

  // images [N, 3, H, W] -> embeddings [N, D] on the CPU, float64.
  torch::Tensor embed(const torch::Tensor& images) {
    torch::NoGradGuard no_grad;
    const torch::Tensor input = images.to(device_);
    torch::Tensor output;
    if (kind_ == EncoderFileKind::kTrainCheckpoint) {
      output = trained_->forward(input);
    } else {
      const c10::IValue result = script_.forward({input});
      if (!result.isTensor()) {
        throw InputError("the TorchScript encoder returned a " + result.tagKind() +
                         ", not a tensor [N, D]; export a module whose forward returns embeddings");
      }
      output = result.toTensor();
    }
    if (output.dim() != 2 || output.size(0) != images.size(0)) {
      throw InputError(fmt::format(
          "the encoder returned shape [{}] for {} images; it must return embeddings [N, D]",
          fmt::join(output.sizes(), ", "), images.size(0)));
    }
    return output.to(torch::kCPU, torch::kFloat64);
  }

 private:
  static bool is_train_checkpoint(const std::filesystem::path& path) {
    try {
      torch::serialize::InputArchive archive;
      archive.load_from(path.string());
      c10::IValue format;
      return archive.try_read("format", format) && format.isString() &&
             format.toStringRef() == train_detail::kCheckpointFormat;
    } catch (const c10::Error&) {
      return false;
    }
  }

  torch::Device device_;
  EncoderFileKind kind_ = EncoderFileKind::kTorchScript;
  train_detail::Encoder trained_{nullptr};
  torch::jit::Module script_;
};

// Reads a PNG tile as [3, H, W] float in [0, 1].
torch::Tensor read_tile_image(const BenchmarkTile& tile) {
  SlideOpenOptions options;
  options.mpp.override_mpp = tile.mpp;  // benchmark PNGs carry their mpp in the folder name
  const Slide image(tile.path, options);
  const RgbImage pixels = image.read_level_region(0, 0, 0, static_cast<int>(image.width()),
                                                  static_cast<int>(image.height()));
  torch::Tensor tensor =
      torch::from_blob(const_cast<std::uint8_t*>(pixels.pixels.data()),
                       {pixels.height, pixels.width, 3}, torch::kUInt8)
          .permute({2, 0, 1})
          .to(torch::kFloat32)
          .div(255.0);
  return tensor.contiguous();
}

torch::Tensor normalize(const torch::Tensor& images, InputNormalization normalization) {
  if (normalization == InputNormalization::kUnit) {
    return images;
  }
  const torch::Tensor mean =
      torch::tensor({kImagenetMean[0], kImagenetMean[1], kImagenetMean[2]}, torch::kFloat32)
          .reshape({1, 3, 1, 1});
  const torch::Tensor std =
      torch::tensor({kImagenetStd[0], kImagenetStd[1], kImagenetStd[2]}, torch::kFloat32)
          .reshape({1, 3, 1, 1});
  return (images - mean) / std;
}

// Embeds `tiles` (all at one mpp) in batches of equal image size.
EmbeddingSet embed_tiles(LoadedEncoder& encoder, const std::vector<const BenchmarkTile*>& tiles,
                         const BenchmarkDataset& dataset, const EmbedOptions& options,
                         train_detail::ProgressBar& bar, std::int64_t& done) {
  EmbeddingSet set;
  set.mpp = tiles.front()->mpp;
  std::vector<torch::Tensor> outputs;
  std::vector<torch::Tensor> pending;
  auto flush = [&]() {
    if (!pending.empty()) {
      outputs.push_back(encoder.embed(normalize(torch::stack(pending), options.normalization)));
      pending.clear();
    }
  };
  for (const BenchmarkTile* tile : tiles) {
    torch::Tensor image = read_tile_image(*tile);
    if (!pending.empty() && image.sizes() != pending.front().sizes()) {
      flush();
    }
    pending.push_back(std::move(image));
    if (static_cast<int>(pending.size()) == options.batch_size) {
      flush();
    }
    set.tile_ids.push_back(tile->tile_id);
    set.groups.push_back(tile->group);
    set.labels.push_back(dataset.label_names.empty()
                             ? std::to_string(tile->label_id)
                             : dataset.label_names.at(static_cast<std::size_t>(tile->label_id)));
    bar.update(++done, fmt::format("{} mpp", format_mpp(set.mpp)));
  }
  flush();
  const torch::Tensor embeddings = torch::cat(outputs).contiguous();
  using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  set.embeddings = Eigen::Map<const RowMatrix>(embeddings.data_ptr<double>(), embeddings.size(0),
                                               embeddings.size(1));
  return set;
}

void write_embed_summary(const EmbedOptions& options, const EmbedReport& report) {
  nlohmann::json summary;
  summary["program"] = "mgap-embed";
  summary["version"] = kVersion;
  summary["benchmark"] = options.benchmark_root.string();
  summary["encoder"] = {{"path", options.encoder_path.string()},
                        {"kind", to_string(report.encoder_kind)},
                        {"hash", report.encoder_hash}};
  summary["normalization"] = to_string(options.normalization);
  summary["requested"] = {{"threads", options.threads}, {"device", options.device.name}};
  summary["used"] = {{"threads", report.threads_used}, {"device", report.device_used}};
  summary["embedding_dim"] = report.embedding_dim;
  nlohmann::json sets = nlohmann::json::array();
  for (std::size_t index = 0; index < report.mpps.size(); ++index) {
    sets.push_back({{"mpp", report.mpps[index]}, {"num_tiles", report.tiles_per_mpp[index]}});
  }
  summary["sets"] = sets;
  write_file_atomically(options.output_dir / "embed_summary.json", summary.dump(2) + "\n");
}

}  // namespace

std::string to_string(InputNormalization normalization) {
  return normalization == InputNormalization::kUnit ? "unit" : "imagenet";
}

InputNormalization input_normalization_from_string(const std::string& text) {
  if (text == "unit") {
    return InputNormalization::kUnit;
  }
  if (text == "imagenet") {
    return InputNormalization::kImagenet;
  }
  throw InputError("invalid normalization '" + text + "'; use unit or imagenet");
}

std::string to_string(EncoderFileKind kind) {
  return kind == EncoderFileKind::kTrainCheckpoint ? "mgap-train checkpoint" : "TorchScript";
}

void EmbedOptions::validate() const {
  if (benchmark_root.empty() || !std::filesystem::is_directory(benchmark_root)) {
    throw InputError("benchmark folder '" + benchmark_root.string() +
                     "' not found; give the root of a TCGA-MS layout benchmark");
  }
  if (output_dir.empty()) {
    throw InputError("missing --output-dir; give a folder for the embeddings bundle");
  }
  if (batch_size < 1) {
    throw InputError("invalid --batch-size " + std::to_string(batch_size) + "; use at least 1");
  }
  if (threads < 0) {
    throw InputError("invalid --threads " + std::to_string(threads) +
                     "; use 0 (all cores) or a positive count");
  }
}

EmbedReport embed_benchmark(const EmbedOptions& options) {
  options.validate();
  torch::Device device(torch::kCPU);
  try {
    device = torch::Device(options.device.name);
  } catch (const c10::Error&) {
    throw InputError("invalid --device '" + options.device.name + "'; use cpu or cuda:N");
  }
  if (device.is_cuda() && !torch::cuda::is_available()) {
    throw InputError("--device " + options.device.name +
                     " requested but this LibTorch build sees no CUDA device; use --device cpu");
  }
  EmbedReport report;
  report.threads_used = options.threads > 0
                            ? options.threads
                            : static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  torch::set_num_threads(report.threads_used);
  report.device_used = device.str();

  const BenchmarkDataset dataset = read_tcga_ms(options.benchmark_root);
  const std::vector<double> mpps = options.mpps.empty() ? dataset.mpps : options.mpps;
  LoadedEncoder encoder(options.encoder_path, device);
  report.encoder_kind = encoder.kind();
  report.encoder_hash = fnv1a_hex(read_text_file(options.encoder_path));
  // Tiles per requested mpp, checked before any work.
  std::vector<std::vector<const BenchmarkTile*>> groups;
  std::int64_t total = 0;
  for (const double mpp : mpps) {
    std::vector<const BenchmarkTile*> tiles;
    for (const BenchmarkTile& tile : dataset.tiles) {
      if (same_mpp(tile.mpp, mpp)) {
        tiles.push_back(&tile);
      }
    }
    if (tiles.empty()) {
      throw InputError("benchmark '" + options.benchmark_root.string() + "' has no tiles at " +
                       format_mpp(mpp) + " mpp; choose --mpps among its mpp_* folders");
    }
    total += static_cast<std::int64_t>(tiles.size());
    groups.push_back(std::move(tiles));
  }
  spdlog::info("embedding {} tiles of {} at {} mpps with {} ({})", total,
               options.benchmark_root.string(), mpps.size(), options.encoder_path.string(),
               to_string(report.encoder_kind));

  EmbeddingBundle bundle;
  train_detail::ProgressBar bar(0, total, options.progress_bar);
  std::int64_t done = 0;
  for (const auto& tiles : groups) {
    bundle.sets.push_back(embed_tiles(encoder, tiles, dataset, options, bar, done));
  }
  bar.finish();
  std::sort(bundle.sets.begin(), bundle.sets.end(),
            [](const EmbeddingSet& a, const EmbeddingSet& b) { return a.mpp < b.mpp; });
  for (const EmbeddingSet& set : bundle.sets) {
    report.mpps.push_back(set.mpp);
    report.tiles_per_mpp.push_back(static_cast<int>(set.num_tiles()));
  }
  report.embedding_dim = static_cast<int>(bundle.embedding_dim());

  std::filesystem::create_directories(options.output_dir);
  write_embedding_bundle(options.output_dir, bundle);
  report.manifest_path = options.output_dir / "manifest.json";
  write_embed_summary(options, report);
  spdlog::info("wrote {} ({} mpps, embedding dimension {})", report.manifest_path.string(),
               report.mpps.size(), report.embedding_dim);
  return report;
}

}  // namespace mgap
