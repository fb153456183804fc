#include "tile_cache.hpp"

#include <atomic>
#include <list>
#include <mutex>
#include <unordered_map>

#include "mgap/slide.hpp"

namespace mgap {
namespace {

struct KeyHash {
  std::size_t operator()(const detail::BlockKey& key) const {
    std::size_t hash = std::hash<std::uint64_t>()(key.slide_serial);
    hash = hash * 1000003u ^ std::hash<int>()(key.level);
    hash = hash * 1000003u ^ std::hash<std::int64_t>()(key.column);
    return hash * 1000003u ^ std::hash<std::int64_t>()(key.row);
  }
};

class BlockCache {
 public:
  std::shared_ptr<const RgbImage> find(const detail::BlockKey& key) {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto found = entries_.find(key);
    if (found == entries_.end()) {
      return nullptr;
    }
    order_.splice(order_.begin(), order_, found->second.position);
    return found->second.block;
  }

  void insert(const detail::BlockKey& key, std::shared_ptr<const RgbImage> block) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (entries_.count(key) != 0 || block->pixels.size() > capacity_bytes_) {
      return;
    }
    order_.push_front(key);
    used_bytes_ += block->pixels.size();
    entries_.emplace(key, Entry{std::move(block), order_.begin()});
    evict();
  }

  void set_capacity(std::size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    capacity_bytes_ = bytes;
    evict();
  }

  std::size_t capacity() {
    std::lock_guard<std::mutex> lock(mutex_);
    return capacity_bytes_;
  }

 private:
  struct Entry {
    std::shared_ptr<const RgbImage> block;
    std::list<detail::BlockKey>::iterator position;
  };

  void evict() {
    while (used_bytes_ > capacity_bytes_ && !order_.empty()) {
      const auto oldest = entries_.find(order_.back());
      used_bytes_ -= oldest->second.block->pixels.size();
      entries_.erase(oldest);
      order_.pop_back();
    }
  }

  std::mutex mutex_;
  std::size_t capacity_bytes_ = kDefaultTileCacheBytes;
  std::size_t used_bytes_ = 0;
  std::list<detail::BlockKey> order_;  // most recently used first
  std::unordered_map<detail::BlockKey, Entry, KeyHash> entries_;
};

BlockCache& block_cache() {
  static BlockCache cache;
  return cache;
}

}  // namespace

void set_tile_cache_capacity(std::size_t bytes) { block_cache().set_capacity(bytes); }

std::size_t tile_cache_capacity() { return block_cache().capacity(); }

namespace detail {

std::shared_ptr<const RgbImage> cached_block(const BlockKey& key,
                                             const std::function<RgbImage()>& decode) {
  if (auto block = block_cache().find(key)) {
    return block;
  }
  // Two threads may decode the same block at once; the second insert is dropped.
  auto block = std::make_shared<const RgbImage>(decode());
  block_cache().insert(key, block);
  return block;
}

std::uint64_t next_slide_serial() {
  static std::atomic<std::uint64_t> serial{1};
  return serial++;
}

}  // namespace detail
}  // namespace mgap
