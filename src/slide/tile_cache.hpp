#pragma once

// Process-wide LRU cache of decoded blocks of OpenSlide levels, shared by every Slide.
//
// OpenSlide 3.4 keeps a fixed 32 MiB cache of decoded tiles per slide handle. That is about a
// third of a 4096 x 4096 slide, so random tiles keep decoding the same JPEG tiles again. Blocks
// here are kTileCacheBlockPx squares of a level (smaller at the right and bottom edges) in RGB.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "mgap/rgb_image.hpp"

namespace mgap::detail {

inline constexpr int kTileCacheBlockPx = 256;

struct BlockKey {
  std::uint64_t slide_serial = 0;  // unique per opened Slide, never reused
  int level = 0;
  std::int64_t column = 0;  // block index along x
  std::int64_t row = 0;
  bool operator==(const BlockKey& other) const {
    return slide_serial == other.slide_serial && level == other.level &&
           column == other.column && row == other.row;
  }
};

// Returns the cached block, or decodes it with `decode` (outside the lock) and caches it.
std::shared_ptr<const RgbImage> cached_block(const BlockKey& key,
                                             const std::function<RgbImage()>& decode);

// A new serial number for an opened slide.
std::uint64_t next_slide_serial();

}  // namespace mgap::detail
