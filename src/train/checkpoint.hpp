#pragma once

// Training checkpoints as LibTorch archives. Private to the train module (includes torch.h).
//
// An archive contains the student and teacher networks, the DINO centre, the AdamW state, the step,
// the state of LibTorch's default CPU generator, the settings that must match on resume, and the
// density hash. The data stream needs no saved generator: sample i always draws from
// derive_seed(seed, i), so the step fixes where it continues. In a data-parallel run rank 0
// writes the archive and every rank resumes from it. The ranks hold identical weights, centre
// and optimizer state, and the data seed of rank r is a function of the run seed and r, so the
// other ranks' data streams also continue from the step alone. LibTorch's generator draws only
// the initial weights, so its state is the same on every rank.

#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "encoder.hpp"
#include "mgap/train.hpp"

namespace mgap::train_detail {

inline constexpr const char* kCheckpointFormat = "mgap.train_checkpoint/v1";

// Settings stored beside the weights; a resumed run must use the same ones.
struct CheckpointHeader {
  std::int64_t step = 0;
  std::int64_t steps = 0;
  EncoderOptions encoder;
  int tile_size = 0;
  int batch_size = 0;
  std::uint64_t seed = 0;
  std::string density_hash;
  int world_size = 1;  // ranks of a data-parallel run; archives without the key are from 1
};

struct TrainingState {
  DinoNetwork student{nullptr};
  DinoNetwork teacher{nullptr};
  torch::Tensor center;  // [num_prototypes]
  std::unique_ptr<torch::optim::AdamW> optimizer;
  std::vector<TrainMetricsRow> metrics;  // every row logged so far
  std::vector<double> sampled_mpps;      // [step * batch_size], the mpp of every sample so far
};

// Throws InputError unless `stored` (from the checkpoint at `path`) was made with the same
// settings as `requested`, naming the first field that differs.
void check_resumable(const CheckpointHeader& stored, const CheckpointHeader& requested,
                     const std::filesystem::path& path);

// Writes the state to `path` atomically (temporary file, then rename).
void save_checkpoint(const std::filesystem::path& path, const CheckpointHeader& header,
                     TrainingState& state);

// Reads only the settings. Throws InputError for a missing file or another format.
CheckpointHeader read_checkpoint_header(const std::filesystem::path& path);

// Loads weights, centre, optimizer state and the CPU generator state into `state`, which must be
// built with the header's encoder options.
void load_checkpoint(const std::filesystem::path& path, TrainingState& state);

// Builds the teacher's encoder from a checkpoint (the teacher is the network DINO evaluates).
Encoder load_teacher_encoder(const std::filesystem::path& path, CheckpointHeader* header);

}  // namespace mgap::train_detail
