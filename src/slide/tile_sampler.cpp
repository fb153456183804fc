#include "mgap/tile_sampler.hpp"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <thread>

#include "mgap/error.hpp"
#include "mgap/region_reader.hpp"

namespace mgap {

void TileSamplerOptions::validate() const {
  if (tile_size_px <= 0) {
    throw InputError("invalid tile size " + std::to_string(tile_size_px) +
                     " px; use a positive size such as 224");
  }
  if (num_threads <= 0) {
    throw InputError("invalid number of sampler threads " + std::to_string(num_threads) +
                     "; use 1 or more");
  }
  if (queue_capacity <= 0) {
    throw InputError("invalid sampler queue capacity " + std::to_string(queue_capacity) +
                     "; use 1 or more tiles");
  }
  if (num_tiles < 0) {
    throw InputError("invalid number of tiles " + std::to_string(num_tiles) +
                     "; use 0 for an endless stream or a positive count");
  }
  slide.validate();
}

class TileSampler::Impl {
 public:
  Impl(SamplingDensity sampling_density, const TileSamplerOptions& sampler_options)
      : density(std::move(sampling_density)), options(sampler_options) {}

  Tile make_tile(std::int64_t index) const {
    RandomEngine engine(derive_seed(options.seed, static_cast<std::uint64_t>(index)));
    Tile tile;
    tile.index = index;
    tile.mpp = density.sample(engine);
    tile.slide_index = static_cast<int>(uniform_index(engine, slides.size()));
    const Point2d centre = sample_tissue_point(masks[tile.slide_index], engine);
    tile.x = centre.x;
    tile.y = centre.y;
    RegionRequest request;
    request.center_x = centre.x;
    request.center_y = centre.y;
    request.target_mpp = tile.mpp;
    request.width_px = options.tile_size_px;
    request.height_px = options.tile_size_px;
    Region region = read_region(slides[tile.slide_index], request);
    tile.level = region.level;
    tile.image = std::move(region.image);
    return tile;
  }

  void work() {
    while (true) {
      std::int64_t index = 0;
      {
        std::unique_lock<std::mutex> lock(mutex);
        space_available.wait(lock, [this]() {
          return stopping || next_claim < delivered + options.queue_capacity;
        });
        if (stopping || (options.num_tiles > 0 && next_claim >= options.num_tiles)) {
          return;
        }
        index = next_claim++;
      }
      std::optional<Tile> tile;
      std::exception_ptr failure;
      try {
        tile = make_tile(index);
      } catch (...) {
        failure = std::current_exception();
      }
      {
        std::lock_guard<std::mutex> lock(mutex);
        if (failure) {
          failures[index] = failure;
        } else {
          ready.emplace(index, std::move(*tile));
        }
      }
      tile_ready.notify_all();
    }
  }

  SamplingDensity density;
  TileSamplerOptions options;
  std::vector<Slide> slides;
  std::vector<TissueMask> masks;

  std::mutex mutex;
  std::condition_variable space_available;
  std::condition_variable tile_ready;
  std::map<std::int64_t, Tile> ready;  // reorder buffer
  std::map<std::int64_t, std::exception_ptr> failures;
  std::int64_t next_claim = 0;
  std::int64_t delivered = 0;
  bool stopping = false;
  std::vector<std::thread> workers;
};

TileSampler::TileSampler(const std::vector<std::filesystem::path>& slide_paths,
                         SamplingDensity density, const TileSamplerOptions& options) {
  options.validate();
  if (slide_paths.empty()) {
    throw InputError("no slides for the tile sampler; give at least one slide");
  }
  impl_ = std::make_unique<Impl>(std::move(density), options);
  for (const auto& path : slide_paths) {
    impl_->slides.emplace_back(path, options.slide);
    impl_->masks.push_back(compute_tissue_mask(impl_->slides.back()));
    if (impl_->masks.back().tissue_indices.empty()) {
      throw InputError("slide '" + path.string() + "' has no tissue in its mask; remove it "
                       "from the slide list");
    }
  }
  spdlog::info("tile sampler: {} slides, {} px tiles, {} threads, seed {}", slide_paths.size(),
               options.tile_size_px, options.num_threads, options.seed);
  for (int thread = 0; thread < options.num_threads; ++thread) {
    impl_->workers.emplace_back([impl = impl_.get()]() { impl->work(); });
  }
}

TileSampler::~TileSampler() {
  if (!impl_) {
    return;
  }
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->space_available.notify_all();
  for (auto& worker : impl_->workers) {
    worker.join();
  }
}

std::optional<Tile> TileSampler::next() {
  std::unique_lock<std::mutex> lock(impl_->mutex);
  const std::int64_t index = impl_->delivered;
  if (impl_->options.num_tiles > 0 && index >= impl_->options.num_tiles) {
    return std::nullopt;
  }
  impl_->tile_ready.wait(lock, [this, index]() {
    return impl_->ready.count(index) != 0 || impl_->failures.count(index) != 0;
  });
  if (const auto failure = impl_->failures.find(index); failure != impl_->failures.end()) {
    std::rethrow_exception(failure->second);
  }
  auto found = impl_->ready.find(index);
  Tile tile = std::move(found->second);
  impl_->ready.erase(found);
  ++impl_->delivered;
  lock.unlock();
  impl_->space_available.notify_all();
  return tile;
}

int TileSampler::num_slides() const { return static_cast<int>(impl_->slides.size()); }
const Slide& TileSampler::slide(int index) const { return impl_->slides.at(index); }
const TissueMask& TileSampler::tissue_mask(int index) const { return impl_->masks.at(index); }

}  // namespace mgap
