#include "data_pipeline.hpp"

#include <utility>

#include "augment.hpp"

namespace mgap::train_detail {

namespace {

torch::Tensor tile_to_tensor(TrainingTile& tile, int tile_size) {
  return torch::from_blob(tile.pixels.data(), {3, tile_size, tile_size}, torch::kFloat32).clone();
}

}  // namespace

torch::Tensor make_plain_tile(std::uint64_t seed, const TrainingTileSource& tiles,
                              const MppSampler& sample_mpp, int tile_size,
                              std::uint64_t sample_index, double* mpp) {
  RandomEngine engine(derive_seed(seed, sample_index));
  const double drawn_mpp = sample_mpp(engine);
  TrainingTile tile = tiles.read_tile(drawn_mpp, tile_size, engine);
  if (mpp != nullptr) {
    *mpp = drawn_mpp;
  }
  return tile_to_tensor(tile, tile_size);
}

TrainingBatch make_training_batch(const DataPipelineOptions& options,
                                  const TrainingTileSource& tiles, const MppSampler& sample_mpp,
                                  std::int64_t batch_index) {
  torch::NoGradGuard no_grad;
  TrainingBatch batch;
  batch.index = batch_index;
  std::vector<torch::Tensor> views_a;
  std::vector<torch::Tensor> views_b;
  for (int item = 0; item < options.batch_size; ++item) {
    const auto sample_index = static_cast<std::uint64_t>(batch_index) * options.batch_size + item;
    RandomEngine engine(derive_seed(options.seed, sample_index));
    const double mpp = sample_mpp(engine);
    TrainingTile tile = tiles.read_tile(mpp, options.tile_size, engine);
    const torch::Tensor pixels = tile_to_tensor(tile, options.tile_size);
    views_a.push_back(augment_view(pixels, engine));
    views_b.push_back(augment_view(pixels, engine));
    batch.mpps.push_back(mpp);
  }
  batch.views_a = torch::stack(views_a);
  batch.views_b = torch::stack(views_b);
  return batch;
}

DataPipeline::DataPipeline(DataPipelineOptions options, const TrainingTileSource& tiles,
                           MppSampler sample_mpp, std::int64_t first_batch)
    : options_(options),
      tiles_(tiles),
      sample_mpp_(std::move(sample_mpp)),
      next_to_claim_(first_batch),
      next_to_deliver_(first_batch) {
  for (int worker = 0; worker < options_.workers; ++worker) {
    workers_.emplace_back([this]() { run_worker(); });
  }
}

DataPipeline::~DataPipeline() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  space_free_.notify_all();
  batch_ready_.notify_all();
  for (std::thread& worker : workers_) {
    worker.join();
  }
}

void DataPipeline::run_worker() {
  while (true) {
    std::int64_t batch_index = 0;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      // Claimed but undelivered batches, finished or not, stay within the prefetch bound.
      space_free_.wait(lock, [this]() {
        return stopping_ || failure_ != nullptr ||
               next_to_claim_ - next_to_deliver_ < options_.prefetch_batches;
      });
      if (stopping_ || failure_ != nullptr) {
        return;
      }
      batch_index = next_to_claim_++;
    }
    try {
      TrainingBatch batch = make_training_batch(options_, tiles_, sample_mpp_, batch_index);
      std::lock_guard<std::mutex> lock(mutex_);
      ready_.emplace(batch_index, std::move(batch));
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      failure_ = std::current_exception();
    }
    batch_ready_.notify_all();
  }
}

TrainingBatch DataPipeline::next() {
  if (options_.workers == 0) {
    return make_training_batch(options_, tiles_, sample_mpp_, next_to_deliver_++);
  }
  std::unique_lock<std::mutex> lock(mutex_);
  batch_ready_.wait(lock, [this]() {
    return failure_ != nullptr || ready_.count(next_to_deliver_) != 0;
  });
  if (failure_ != nullptr) {
    std::rethrow_exception(failure_);
  }
  auto found = ready_.find(next_to_deliver_);
  TrainingBatch batch = std::move(found->second);
  ready_.erase(found);
  ++next_to_deliver_;
  lock.unlock();
  space_free_.notify_all();
  return batch;
}

}  // namespace mgap::train_detail
