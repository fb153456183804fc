#pragma once

// Batches of two-view training tiles made on worker threads with a bounded prefetch queue.
// Private to the train module (includes torch.h).
//
// Sample i of the run draws its mpp, its tile and its augmentations from a RandomEngine seeded
// with derive_seed(seed, i). Batch b (samples b*B .. b*B+B-1) is therefore the same whatever the
// number of workers and whether the run was resumed, and the stream's only state is the next batch
// index.

#include <torch/torch.h>

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "mgap/train.hpp"

namespace mgap::train_detail {

struct TrainingBatch {
  std::int64_t index = 0;
  torch::Tensor views_a;     // [batch_size, 3, tile_size, tile_size]
  torch::Tensor views_b;     // [batch_size, 3, tile_size, tile_size]
  std::vector<double> mpps;  // [batch_size], the mpp of each tile
};

struct DataPipelineOptions {
  std::uint64_t seed = 0;
  int batch_size = 32;
  int tile_size = 64;
  int workers = 1;           // 0 builds batches in the calling thread
  int prefetch_batches = 4;  // batches made ahead of the consumer, at most
};

// Builds batch `batch_index` in the calling thread.
TrainingBatch make_training_batch(const DataPipelineOptions& options,
                                  const TrainingTileSource& tiles, const MppSampler& sample_mpp,
                                  std::int64_t batch_index);

// Reads the tile of sample `sample_index` without augmentation, as a tensor [3, T, T], with its mpp.
torch::Tensor make_plain_tile(std::uint64_t seed, const TrainingTileSource& tiles,
                              const MppSampler& sample_mpp, int tile_size,
                              std::uint64_t sample_index, double* mpp);

// Delivers batches first_batch, first_batch + 1, ... in order. Workers claim batch indices in
// turn and stop working ahead once `prefetch_batches` finished batches wait. An exception thrown
// on a worker is rethrown by next() in the consumer.
class DataPipeline {
 public:
  DataPipeline(DataPipelineOptions options, const TrainingTileSource& tiles,
               MppSampler sample_mpp, std::int64_t first_batch);
  ~DataPipeline();
  DataPipeline(const DataPipeline&) = delete;
  DataPipeline& operator=(const DataPipeline&) = delete;

  // Blocks until the next batch is ready and returns it.
  TrainingBatch next();

 private:
  void run_worker();

  DataPipelineOptions options_;
  const TrainingTileSource& tiles_;
  MppSampler sample_mpp_;
  std::int64_t next_to_claim_;
  std::int64_t next_to_deliver_;
  std::map<std::int64_t, TrainingBatch> ready_;
  std::exception_ptr failure_;
  bool stopping_ = false;
  std::mutex mutex_;
  std::condition_variable batch_ready_;
  std::condition_variable space_free_;
  std::vector<std::thread> workers_;
};

}  // namespace mgap::train_detail
