// mgap-train: self-supervised pretraining of a small encoder whose tiles are drawn at mpps from a
// sampling density.

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

#include "mgap/cli.hpp"
#include "mgap/density_json.hpp"
#include "mgap/error.hpp"
#include "mgap/hash.hpp"
#include "mgap/train.hpp"
#include "slide_list.hpp"

namespace {

struct ProgramOptions {
  std::string density;
  std::string domain = "0.25,2.0";
  std::string coordinate = "log2_mpp";
  int bins = 128;
  std::string slides;
  double slide_mpp = 0.0;
  double rendezvous_timeout_seconds = 60.0;
};

// The tile source named by --slides: "procedural" or slide files.
std::unique_ptr<mgap::TrainingTileSource> open_tile_source(const ProgramOptions& options,
                                                           std::uint64_t seed) {
  if (options.slides == "procedural") {
    return mgap::make_procedural_tile_source(seed);
  }
  mgap::SlideOpenOptions slide_options;
  if (options.slide_mpp > 0.0) {
    slide_options.mpp.override_mpp = options.slide_mpp;
  }
  slide_options.validate();
  return mgap::make_slide_tile_source(mgap::tools::expand_slide_list(options.slides),
                                      slide_options);
}

int run(const ProgramOptions& options, mgap::TrainOptions train_options,
        const mgap::cli::CommonOptions& common) {
  const std::vector<double> bounds = mgap::cli::parse_double_list(options.domain, "--domain");
  if (bounds.size() != 2) {
    throw mgap::InputError("invalid --domain '" + options.domain + "'; give LO,HI in mpp");
  }
  const mgap::MppDomain domain{bounds[0], bounds[1]};
  domain.validate();
  const auto density = std::make_shared<mgap::SamplingDensity>(mgap::resolve_density(
      options.density, domain, mgap::coordinate_from_string(options.coordinate), options.bins));

  // RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT, as torchrun and
  // scripts/launch_distributed.sh set them; unset means one process.
  train_options.distributed =
      mgap::distributed_options_from_environment(options.rendezvous_timeout_seconds);
  train_options.seed = common.seed;
  train_options.density_name = options.density;
  // The hash covers the resolved distribution, so "cu" and a JSON file of the same density agree.
  train_options.density_hash = mgap::fnv1a_hex(mgap::density_to_json(*density, {}).dump());
  train_options.validate();

  const auto tiles = open_tile_source(options, common.seed);
  const mgap::TrainReport report = mgap::train_encoder(
      train_options, *tiles, [density](mgap::RandomEngine& engine) { return density->sample(engine); });
  if (report.rank == 0) {
    spdlog::info("encoder: {}; checkpoint: {}", report.encoder_path.string(),
                 report.checkpoint_path.string());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Self-supervised pretraining (DINO self-distillation) of a small CNN encoder on tiles whose "
      "mpp is drawn from a sampling density. Writes checkpoint.pt, encoder.pt (TorchScript), "
      "metrics.csv, sampled_mpps.csv and train_summary.json into --output-dir. With the "
      "torchrun environment variables RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT set, trains "
      "data-parallel over Gloo (see scripts/launch_distributed.sh) and rank 0 writes the files."};
  app.name("mgap-train");
  ProgramOptions options;
  mgap::TrainOptions train;
  std::string output_dir;
  bool no_progress = false;
  mgap::cli::CommonOptions common;

  app.add_option("--density", options.density,
                 "Sampling density: a density JSON file, du, cu or point:MPP")
      ->required();
  app.add_option("--domain", options.domain, "Domain LO,HI in mpp for du, cu and point")
      ->capture_default_str();
  app.add_option("--coordinate", options.coordinate, "Coordinate of cu: log2_mpp or mpp")
      ->capture_default_str();
  app.add_option("--bins", options.bins, "Bins of cu")->capture_default_str();
  app.add_option("--slides", options.slides,
                 "Slides: a folder, a comma-separated list of slide or image files, or "
                 "'procedural' for built-in synthetic tissue")
      ->required();
  app.add_option("--slide-mpp", options.slide_mpp,
                 "Pixel size in mpp of slides whose metadata has none (0: require metadata)")
      ->capture_default_str();
  app.add_option("--output-dir", output_dir, "Folder for the run's files (created if missing)")
      ->required();
  app.add_option("--tile-size", train.tile_size, "Tile side in pixels")->capture_default_str();
  app.add_option("--steps", train.steps, "Optimizer steps of the whole run")->capture_default_str();
  app.add_option("--stop-at-step", train.stop_at_step,
                 "Stop after this step and keep the schedules of --steps (0: run to --steps); "
                 "continue later with --resume")
      ->capture_default_str();
  app.add_option("--batch-size", train.batch_size, "Tiles per step (two views each)")
      ->capture_default_str();
  app.add_option("--lr", train.learning_rate, "Peak AdamW learning rate")->capture_default_str();
  app.add_option("--min-lr", train.min_learning_rate, "Learning rate at the end of the cosine decay")
      ->capture_default_str();
  app.add_option("--weight-decay", train.weight_decay, "AdamW weight decay")->capture_default_str();
  app.add_option("--warmup-steps", train.warmup_steps, "Steps of linear learning-rate warm-up")
      ->capture_default_str();
  app.add_option("--teacher-momentum", train.teacher_momentum,
                 "Initial EMA momentum of the teacher (rises to 1)")
      ->capture_default_str();
  app.add_option("--width", train.encoder.base_channels,
                 "Channels of the first encoder stage; the embedding has 8x as many")
      ->capture_default_str();
  app.add_option("--prototypes", train.encoder.num_prototypes, "Output dimension of the DINO head")
      ->capture_default_str();
  app.add_option("--threads", train.threads,
                 "LibTorch intra-op threads per rank (0: number of cores / WORLD_SIZE)")
      ->capture_default_str();
  app.add_option("--workers", train.workers, "Data-loading threads (0: load in the training thread)")
      ->capture_default_str();
  app.add_option("--prefetch", train.prefetch_batches, "Batches prepared ahead, at most")
      ->capture_default_str();
  app.add_option("--device", train.device.name, "Device: cpu or cuda:N")->capture_default_str();
  app.add_option("--checkpoint-every", train.checkpoint_every,
                 "Steps between numbered checkpoints (0: only checkpoint.pt at the end)")
      ->capture_default_str();
  app.add_option("--log-every", train.log_every, "Steps between metrics rows")->capture_default_str();
  app.add_option("--rankme-every", train.rankme_every,
                 "Steps between RankMe collapse checks (0: final step only)")
      ->capture_default_str();
  app.add_option("--heldout-tiles", train.heldout_tiles, "Tiles of the held-out RankMe batch")
      ->capture_default_str();
  app.add_flag("--resume", train.resume, "Continue from --output-dir/checkpoint.pt");
  app.add_option("--rendezvous-timeout", options.rendezvous_timeout_seconds,
                 "Seconds to wait for every rank to join a distributed run (WORLD_SIZE > 1)")
      ->capture_default_str();
  app.add_flag("--no-progress", no_progress, "Draw no progress bar even on a terminal");
  mgap::cli::add_common_options(app, common);

  return mgap::cli::run_program(app, argc, argv, common, [&]() {
    train.output_dir = output_dir;
    train.progress_bar = !no_progress;
    return run(options, train, common);
  });
}
