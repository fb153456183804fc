#pragma once

// Self-supervised pretraining of a small encoder with magnification sampling (LibTorch).
//
// Every training sample draws its mpp from a sampling density, reads a tile at that mpp, and makes
// two augmented views. A student network is trained to match the sharpened, centred output of an
// exponential-moving-average teacher on the other view (DINO self-distillation, Caron et al.,
// "Emerging Properties in Self-Supervised Vision Transformers", ICCV 2021). The loss for one pair
// of views (a, b), with K prototypes, is
//
//   L = -1/2 sum_k [ t_k(a) log s_k(b) + t_k(b) log s_k(a) ],
//   t(x) = softmax((g_teacher(x) - c) / tau_teacher),   s(x) = softmax(g_student(x) / tau_student),
//
// averaged over the batch, where c is the running centre of the teacher outputs. The teacher's
// weights follow the student's by EMA with a momentum that rises from `teacher_momentum` to 1 on a
// cosine schedule. docs/training.md describes the encoder, augmentations and files.
//
// This header stays free of LibTorch so other modules can include it cheaply.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "mgap/random.hpp"
#include "mgap/slide.hpp"

namespace mgap {

// One tile for training, before augmentation.
struct TrainingTile {
  std::vector<float> pixels;  // [3, tile_size, tile_size], RGB in [0, 1], C order
  double mpp = 0.0;           // the mpp the tile was rendered at
};

// Source of training tiles at a requested mpp. read_tile is called concurrently from several
// worker threads, so implementations must be thread-safe. Every random choice (slide, location)
// comes from `engine`, which makes a tile a deterministic function of the engine's state.
class TrainingTileSource {
 public:
  virtual ~TrainingTileSource() = default;
  // Returns a tile of `tile_size` x `tile_size` pixels at `mpp`. Throws InputError when the
  // source cannot provide that mpp (for example a region larger than the image).
  virtual TrainingTile read_tile(double mpp, int tile_size, RandomEngine& engine) const = 0;
  // Short description for logs and checkpoints.
  virtual std::string describe() const = 0;
};

// Draws one mpp from a sampling density.
using MppSampler = std::function<double(RandomEngine&)>;

// Compute device. Only the CPU is built on Debian 12; a CUDA build of LibTorch takes "cuda:N"
// unchanged.
struct TrainDevice {
  std::string name = "cpu";  // "cpu" or "cuda:N"
};

// Size of the convolutional encoder and the DINO projection head.
struct EncoderOptions {
  int base_channels = 16;      // channels of the first stage; stages double it up to 8x
  int head_hidden_dim = 256;   // hidden width of the projection head MLP
  int head_bottleneck_dim = 64;  // width of the L2-normalized bottleneck before the prototypes
  int num_prototypes = 256;    // K, the output dimension of the DINO head

  // The embedding dimension: channels of the last stage, 8 * base_channels.
  int embedding_dim() const { return 8 * base_channels; }
  // Throws InputError naming the first invalid field.
  void validate() const;
};

// Data-parallel process group of a run, in the terms of torchrun's environment variables. Each
// rank trains a copy of the model on its own tiles. Gradients are averaged over the ranks every
// step, so the ranks keep identical weights, and rank 0 alone writes the outputs.
struct DistributedOptions {
  int rank = 0;        // RANK, 0 to world_size - 1
  int world_size = 1;  // WORLD_SIZE; 1 trains in this process alone, without a process group
  std::string master_addr = "127.0.0.1";  // MASTER_ADDR, the host of rank 0's TCP store
  int master_port = 29500;                // MASTER_PORT, the port of rank 0's TCP store
  // Time every rank waits for all ranks to join (and a client for the store to accept it).
  double rendezvous_timeout_seconds = 60.0;

  bool enabled() const { return world_size > 1; }
  // Throws InputError naming the first invalid field and its fix.
  void validate() const;
};

// Reads RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT through `lookup`, which returns nullptr for
// an unset variable. Without WORLD_SIZE (or with WORLD_SIZE=1) the result is a single process.
// With WORLD_SIZE > 1 all four are required. Throws InputError naming the variable for a missing,
// non-numeric or out-of-range value.
DistributedOptions parse_distributed_environment(
    const std::function<const char*(const char*)>& lookup, double rendezvous_timeout_seconds);

// parse_distributed_environment on this process's environment.
DistributedOptions distributed_options_from_environment(double rendezvous_timeout_seconds);

struct TrainOptions {
  EncoderOptions encoder;
  int tile_size = 64;          // pixels per side of each tile and view
  std::int64_t steps = 300;    // total optimizer steps of the run (the schedules span this)
  // Stop after this step (0: run to `steps`). The schedules still span `steps`, so a run split
  // into parts by stop_at_step and resume matches one uninterrupted run.
  std::int64_t stop_at_step = 0;
  int batch_size = 32;         // tiles per step; each tile gives two views
  double learning_rate = 5e-4;  // peak AdamW learning rate after warm-up
  double min_learning_rate = 1e-5;  // learning rate at the end of the cosine decay
  double weight_decay = 0.04;
  std::int64_t warmup_steps = 20;   // linear warm-up from 0 to learning_rate
  double teacher_momentum = 0.996;  // initial EMA momentum; rises to 1 with a cosine schedule
  double teacher_temperature = 0.04;
  double student_temperature = 0.1;
  double center_momentum = 0.9;
  int threads = 0;             // LibTorch intra-op threads; 0 means cores / world size
  int workers = 1;             // data-loading threads; 0 loads in the training thread
  int prefetch_batches = 4;    // bound of the prefetch queue, in batches
  TrainDevice device;
  std::uint64_t seed = 0;
  std::int64_t checkpoint_every = 0;  // steps between checkpoints; 0 writes only the final one
  std::int64_t log_every = 10;        // steps between metrics rows and log lines
  std::int64_t rankme_every = 50;     // steps between RankMe checks; the final step always has one
  int heldout_tiles = 256;     // tiles of the held-out batch for the RankMe collapse check
  bool resume = false;         // continue from output_dir/checkpoint.pt
  std::filesystem::path output_dir;
  std::string density_hash;    // fnv1a hash of the density JSON (or its name), kept in checkpoints
  std::string density_name;    // for logs and the run summary
  bool progress_bar = true;    // draw a progress bar when stderr is a terminal
  DistributedOptions distributed;  // a single process unless world_size > 1

  // Throws InputError naming the first invalid field and its fix.
  void validate() const;
};

// One metrics row per logging interval.
struct TrainMetricsRow {
  std::int64_t step = 0;
  double loss = 0.0;            // mean DINO loss over the interval's steps
  double learning_rate = 0.0;   // at the interval's last step
  double teacher_momentum = 0.0;
  double images_per_second = 0.0;   // tiles per second of wall time over all ranks (two views each)
  double data_wait_fraction = 0.0;  // share of the interval spent waiting for the data pipeline
  double rankme = -1.0;         // RankMe of the held-out batch, or -1 when not computed
};

struct TrainReport {
  std::int64_t start_step = 0;   // 0, or the checkpoint step for a resumed run
  std::int64_t final_step = 0;
  std::vector<TrainMetricsRow> metrics;  // rows of this run and of the resumed one, in order
  double final_rankme = 0.0;
  bool collapse_warning = false;  // final RankMe below kRankMeCollapseFraction * embedding_dim
  int threads_used = 0;
  std::string device_used;
  std::filesystem::path checkpoint_path;
  std::filesystem::path encoder_path;  // TorchScript encoder loadable from Python and mgap-embed
  int rank = 0;
  int world_size = 1;
  // fnv1a hash of the final student, teacher and centre values; equal on every rank of a run.
  std::string weights_digest;
};

// A run whose held-out RankMe falls below this fraction of the embedding dimension is reported as
// collapsed; a fully collapsed model has RankMe 1. Short healthy runs of the default encoder
// measured about 0.09 x dim (docs/training.md).
// NOTE: no collapsed run has been measured with this covariance RankMe, so the threshold's margin
// on the collapsed side is unverified.
inline constexpr double kRankMeCollapseFraction = 0.05;

// Trains an encoder and writes, under options.output_dir: checkpoint.pt (and
// checkpoints/step_NNNNNNNN.pt every checkpoint_every steps), encoder.pt (TorchScript encoder),
// metrics.csv, sampled_mpps.csv and train_summary.json, all atomically. Throws InputError for
// invalid options, a missing checkpoint on resume, or a checkpoint made with other settings.
// With options.distributed.world_size > 1 it first joins the process group (Gloo over a TCP
// store at master_addr:master_port), and only rank 0 writes files; every rank returns the same
// weights_digest. Throws InputError when the ranks do not all join within the rendezvous
// timeout, and std::runtime_error when a peer fails during training.
TrainReport train_encoder(const TrainOptions& options, const TrainingTileSource& tiles,
                          const MppSampler& sample_mpp);

// Procedural H&E-like tissue defined in physical units (microns), so a tile rendered at a coarser
// mpp covers a larger field of view with smaller structures. Nuclei are 5 to 7 microns across on a
// jittered 12-micron lattice, and glands are about 120 microns apart. Deterministic in `seed`.
std::unique_ptr<TrainingTileSource> make_procedural_tile_source(std::uint64_t seed);

// Tiles from slides or images (anything the slide module opens): slide uniform over `paths`,
// centre uniform over the slide's tissue mask, region read at the requested mpp from the level
// just finer than it and downsampled with antialiasing. Opens every slide and computes its tissue
// mask up front. Throws InputError for an empty list, an unreadable slide, a slide without a
// usable mpp (see SlideOpenOptions), or a slide without tissue.
std::unique_ptr<TrainingTileSource> make_slide_tile_source(
    const std::vector<std::filesystem::path>& paths, const SlideOpenOptions& options);

}  // namespace mgap
