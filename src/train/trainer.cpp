// The training loop: DINO self-distillation with an EMA teacher on magnification-sampled tiles.

#include <Eigen/Core>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "checkpoint.hpp"
#include "data_pipeline.hpp"
#include "dino.hpp"
#include "distributed.hpp"
#include "encoder.hpp"
#include "mgap/atomic_file.hpp"
#include "mgap/error.hpp"
#include "mgap/rankme.hpp"
#include "mgap/train.hpp"
#include "mgap/version.hpp"
#include "progress.hpp"
#include "schedule.hpp"
#include "train_outputs.hpp"

namespace mgap {

namespace train_detail {

namespace {

// Independent random streams derived from the run seed.
constexpr std::uint64_t kModelInitStream = 0x6d6f64656cULL;   // weight initialization
constexpr std::uint64_t kHeldoutStream = 0x68656c646f7574ULL;  // held-out RankMe tiles
constexpr std::uint64_t kRankDataStream = 0x72616e6bULL;       // data of each rank of a group
// Held-out tiles embedded per forward pass, to bound memory.
constexpr int kHeldoutChunk = 64;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

torch::Device parse_device(const std::string& name) {
  torch::Device device(torch::kCPU);
  try {
    device = torch::Device(name);
  } catch (const c10::Error&) {
    throw InputError("invalid --device '" + name + "'; use cpu or cuda:N");
  }
  if (device.is_cuda() && !torch::cuda::is_available()) {
    throw InputError("--device " + name +
                     " requested but this LibTorch build sees no CUDA device; use --device cpu");
  }
  if (!device.is_cpu() && !device.is_cuda()) {
    throw InputError("unsupported --device '" + name + "'; use cpu or cuda:N");
  }
  return device;
}

// The seed of this process's data stream. A single process uses the run seed itself, so its
// tiles are those of runs made before distributed training existed. Rank r of a group uses a
// stream derived from the seed and r.
std::uint64_t data_seed(const TrainOptions& options) {
  if (!options.distributed.enabled()) {
    return options.seed;
  }
  return derive_seed(derive_seed(options.seed, kRankDataStream),
                     static_cast<std::uint64_t>(options.distributed.rank));
}

// Every value that must agree across the ranks: student and teacher weights, and the centre.
std::vector<torch::Tensor> replicated_tensors(TrainingState& state) {
  std::vector<torch::Tensor> tensors = state.student->parameters();
  for (const torch::Tensor& parameter : state.teacher->parameters()) {
    tensors.push_back(parameter);
  }
  tensors.push_back(state.center);
  return tensors;
}

struct HeldoutBatch {
  torch::Tensor tiles;  // [heldout_tiles, 3, T, T]
};

HeldoutBatch make_heldout_batch(const TrainOptions& options, const TrainingTileSource& tiles,
                                const MppSampler& sample_mpp) {
  const std::uint64_t seed = derive_seed(options.seed, kHeldoutStream);
  std::vector<torch::Tensor> plain;
  for (int index = 0; index < options.heldout_tiles; ++index) {
    plain.push_back(make_plain_tile(seed, tiles, sample_mpp, options.tile_size,
                                    static_cast<std::uint64_t>(index), nullptr));
  }
  return {torch::stack(plain)};
}

double heldout_rankme(DinoNetwork& teacher, const HeldoutBatch& heldout, torch::Device device) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> chunks;
  for (const torch::Tensor& chunk : heldout.tiles.split(kHeldoutChunk)) {
    chunks.push_back(teacher->encoder->forward(chunk.to(device)).to(torch::kCPU));
  }
  const torch::Tensor embeddings = torch::cat(chunks).to(torch::kFloat64).contiguous();
  using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Eigen::MatrixXd matrix = Eigen::Map<const RowMatrix>(
      embeddings.data_ptr<double>(), embeddings.size(0), embeddings.size(1));
  try {
    return rankme(matrix);
  } catch (const InputError&) {
    return 1.0;  // every row equal: zero covariance, fully collapsed
  }
}

}  // namespace

}  // namespace train_detail

using namespace train_detail;

TrainReport train_encoder(const TrainOptions& options, const TrainingTileSource& tiles,
                          const MppSampler& sample_mpp) {
  options.validate();
  const torch::Device device = parse_device(options.device.name);
  const int world_size = options.distributed.world_size;
  const int rank = options.distributed.rank;
  // Ranks on one host share its cores, so by default each takes an equal part.
  const int threads =
      options.threads > 0
          ? options.threads
          : std::max(1, static_cast<int>(std::max(1U, std::thread::hardware_concurrency())) /
                            world_size);
  torch::set_num_threads(threads);

  // Joining comes before any file is written, so a failed rendezvous leaves nothing behind.
  std::unique_ptr<DataParallelGroup> process_group;
  if (options.distributed.enabled()) {
    process_group = std::make_unique<DataParallelGroup>(options.distributed);
  }
  const bool writes_outputs = rank == 0;
  if (writes_outputs) {
    std::filesystem::create_directories(options.output_dir);
    if (options.checkpoint_every > 0) {
      std::filesystem::create_directories(options.output_dir / "checkpoints");
    }
  }
  const std::filesystem::path checkpoint_path = options.output_dir / "checkpoint.pt";
  const std::int64_t end_step = options.stop_at_step > 0 ? options.stop_at_step : options.steps;

  // Model, teacher, centre and optimizer, or their checkpointed state.
  torch::manual_seed(derive_seed(options.seed, kModelInitStream));
  TrainingState state;
  state.student = DinoNetwork(options.encoder);
  state.teacher = DinoNetwork(options.encoder);
  copy_weights(state.student, state.teacher);
  for (auto& parameter : state.teacher->parameters()) {
    parameter.set_requires_grad(false);
  }
  state.student->to(device);
  state.teacher->to(device);
  state.center = torch::zeros({options.encoder.num_prototypes}, torch::kFloat32).to(device);
  state.optimizer = std::make_unique<torch::optim::AdamW>(
      state.student->parameters(),
      torch::optim::AdamWOptions(options.learning_rate).weight_decay(options.weight_decay));

  CheckpointHeader header;
  header.steps = options.steps;
  header.encoder = options.encoder;
  header.tile_size = options.tile_size;
  header.batch_size = options.batch_size;
  header.seed = options.seed;
  header.density_hash = options.density_hash;
  header.world_size = world_size;

  std::int64_t start_step = 0;
  if (options.resume) {
    const CheckpointHeader stored = read_checkpoint_header(checkpoint_path);
    check_resumable(stored, header, checkpoint_path);
    load_checkpoint(checkpoint_path, state);
    state.center = state.center.to(device);
    start_step = stored.step;
    spdlog::info("resuming from {} at step {}", checkpoint_path.string(), start_step);
  }
  if (start_step >= end_step) {
    throw InputError("checkpoint '" + checkpoint_path.string() + "' is already at step " +
                     std::to_string(start_step) + "; raise --steps to train further");
  }
  if (process_group) {
    // Every rank seeds LibTorch alike or loads the same checkpoint, so this only guards against
    // ranks whose LibTorch builds initialize differently.
    process_group->broadcast_from_rank0(replicated_tensors(state));
  }

  spdlog::info("{}training on {} with {} LibTorch threads and {} data workers: {} steps of {} "
               "tiles of {} px, density {}, tiles from {}",
               process_group ? fmt::format("rank {} of {}: ", rank, world_size) : std::string(),
               device.str(), threads, options.workers, options.steps, options.batch_size,
               options.tile_size, options.density_name, tiles.describe());

  // Rank 0 alone checks RankMe, on the weights that every rank shares.
  HeldoutBatch heldout;
  if (writes_outputs) {
    heldout = make_heldout_batch(options, tiles, sample_mpp);
  }
  DataPipelineOptions pipeline_options;
  pipeline_options.seed = data_seed(options);
  pipeline_options.batch_size = options.batch_size;
  pipeline_options.tile_size = options.tile_size;
  pipeline_options.workers = options.workers;
  pipeline_options.prefetch_batches = options.prefetch_batches;
  DataPipeline pipeline(pipeline_options, tiles, sample_mpp, start_step);
  ProgressBar bar(start_step, end_step, options.progress_bar && writes_outputs);

  TrainReport report;
  report.start_step = start_step;
  report.threads_used = threads;
  report.device_used = device.str();
  report.rank = rank;
  report.world_size = world_size;

  // Interval accumulators for the metrics rows.
  double interval_loss = 0.0;
  std::int64_t interval_steps = 0;
  double interval_wait_seconds = 0.0;
  double interval_step_seconds = 0.0;

  state.student->train();
  state.teacher->train();
  for (std::int64_t step = start_step + 1; step <= end_step; ++step) {
    const auto step_start = std::chrono::steady_clock::now();
    TrainingBatch batch = pipeline.next();
    interval_wait_seconds += seconds_since(step_start);

    const std::int64_t step_index = step - 1;
    const double learning_rate = learning_rate_at(options, step_index);
    for (auto& group : state.optimizer->param_groups()) {
      static_cast<torch::optim::AdamWOptions&>(group.options()).lr(learning_rate);
    }
    const torch::Tensor views_a = batch.views_a.to(device);
    const torch::Tensor views_b = batch.views_b.to(device);
    torch::Tensor teacher_a;
    torch::Tensor teacher_b;
    torch::Tensor batch_center;  // [num_prototypes], teacher mean over the batch of every rank
    {
      torch::NoGradGuard no_grad;
      teacher_a = state.teacher->forward(views_a);
      teacher_b = state.teacher->forward(views_b);
      batch_center = torch::cat({teacher_a, teacher_b}).mean(0);
      if (process_group) {
        // Equal batch sizes make the mean of the ranks' means the mean over all their tiles.
        process_group->average({batch_center});
      }
    }
    if (step == 1) {
      // The centre starts at the first batch's teacher mean instead of zero, so the first steps
      // already see centred targets and the loss curve has no artificial low start.
      state.center = batch_center;
    }
    const torch::Tensor student_a = state.student->forward(views_a);
    const torch::Tensor student_b = state.student->forward(views_b);
    const torch::Tensor loss =
        dino_loss(student_a, student_b, teacher_a, teacher_b, state.center, options);
    state.optimizer->zero_grad();
    loss.backward();
    // The loss is a mean over the batch, so averaging the ranks' gradients gives the gradient of
    // the mean loss over all ranks' tiles, as one process with world_size times the batch would.
    const double loss_value =
        process_group
            ? average_gradients_and_loss(*process_group, state.student->parameters(), loss)
            : loss.item<double>();
    state.optimizer->step();

    const double momentum = teacher_momentum_at(options, step_index);
    update_teacher(state.student, state.teacher, momentum);
    {
      torch::NoGradGuard no_grad;
      state.center = state.center * options.center_momentum +
                     batch_center * (1.0 - options.center_momentum);
    }
    if (!std::isfinite(loss_value)) {
      throw std::runtime_error(fmt::format(
          "training diverged: loss {} at step {}; lower --lr", loss_value, step));
    }
    // Rows of one step list rank 0's tiles first, then rank 1's, and so on.
    const std::vector<double> step_mpps =
        process_group ? process_group->all_gather(batch.mpps) : batch.mpps;
    state.sampled_mpps.insert(state.sampled_mpps.end(), step_mpps.begin(), step_mpps.end());
    interval_loss += loss_value;
    ++interval_steps;
    interval_step_seconds += seconds_since(step_start);

    // Rows fall on multiples of log_every and on the run's final step, so a run split by
    // stop_at_step at a multiple of log_every writes the same rows as an uninterrupted one.
    const bool last = step == end_step;
    const bool rankme_due = last || (options.rankme_every > 0 && step % options.rankme_every == 0);
    const double rankme =
        rankme_due && writes_outputs ? heldout_rankme(state.teacher, heldout, device) : -1.0;
    if (last) {
      report.final_rankme = rankme;
    }
    if (writes_outputs && (step % options.log_every == 0 || step == options.steps)) {
      TrainMetricsRow row;
      row.step = step;
      row.loss = interval_loss / static_cast<double>(interval_steps);
      row.learning_rate = learning_rate;
      row.teacher_momentum = momentum;
      row.images_per_second =
          static_cast<double>(interval_steps * options.batch_size * world_size) /
          interval_step_seconds;
      row.data_wait_fraction = interval_wait_seconds / interval_step_seconds;
      row.rankme = rankme;
      state.metrics.push_back(row);
      bar.clear();
      spdlog::info("step {}/{}: loss {:.4f}, lr {:.2e}, {:.1f} images/s, data wait {:.1f}%{}", step,
                   options.steps, row.loss, row.learning_rate, row.images_per_second,
                   100.0 * row.data_wait_fraction,
                   row.rankme >= 0 ? fmt::format(", RankMe {:.1f}", row.rankme) : std::string());
      interval_loss = 0.0;
      interval_steps = 0;
      interval_wait_seconds = 0.0;
      interval_step_seconds = 0.0;
    }
    bar.update(step, fmt::format("loss {:.3f}", loss_value));

    const bool checkpoint_due =
        last || (options.checkpoint_every > 0 && step % options.checkpoint_every == 0);
    if (checkpoint_due && writes_outputs) {
      header.step = step;
      save_checkpoint(checkpoint_path, header, state);
      if (options.checkpoint_every > 0 && step % options.checkpoint_every == 0) {
        save_checkpoint(options.output_dir / "checkpoints" / fmt::format("step_{:08d}.pt", step),
                        header, state);
      }
      write_metrics_csv(options.output_dir / "metrics.csv", state.metrics);
      write_sampled_mpps_csv(options.output_dir / "sampled_mpps.csv", state.sampled_mpps,
                             options.batch_size * world_size);
    }
  }
  bar.finish();

  report.final_step = end_step;
  report.metrics = state.metrics;
  report.checkpoint_path = checkpoint_path;
  report.encoder_path = options.output_dir / "encoder.pt";
  report.weights_digest = digest_tensors(replicated_tensors(state));
  if (process_group) {
    spdlog::info("rank {} of {}: final weights digest {}", rank, world_size,
                 report.weights_digest);
  }
  if (writes_outputs) {
    const double threshold = kRankMeCollapseFraction * options.encoder.embedding_dim();
    report.collapse_warning = report.final_rankme < threshold;
    if (report.collapse_warning) {
      spdlog::warn("held-out RankMe {:.2f} is below {:.2f} ({} x embedding dimension {}): the "
                   "embeddings have collapsed; lower --lr or raise the teacher momentum",
                   report.final_rankme, threshold, kRankMeCollapseFraction,
                   options.encoder.embedding_dim());
    }
    state.teacher->to(torch::kCPU);
    export_torchscript_encoder(state.teacher->encoder, options.tile_size, report.encoder_path);
    write_train_summary(options.output_dir / "train_summary.json", options, report,
                        tiles.describe());
    spdlog::info("finished step {}: final RankMe {:.1f}; outputs in {}", end_step,
                 report.final_rankme, options.output_dir.string());
  }
  if (process_group) {
    // The other ranks return once rank 0 has written its files, so a launcher that waits for all
    // ranks finds the outputs complete.
    process_group->barrier();
  }
  return report;
}

}  // namespace mgap
