#pragma once

// A whole-slide image or a plain image, opened for reading regions at any pyramid level.
//
// Files that OpenSlide recognizes (Aperio SVS, generic tiled TIFF, Hamamatsu, ...) are read with
// OpenSlide. Any other image that libvips can load (PNG, JPEG, stripped TIFF) is read with libvips
// as a single-level slide. Reading is thread-safe: several threads may read one Slide at once.
// OpenSlide and libvips headers stay out of this header.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "mgap/mpp_resolution.hpp"
#include "mgap/rgb_image.hpp"

namespace mgap {

enum class SlideBackend {
  kOpenSlide,
  kLibvips,
};

std::string to_string(SlideBackend backend);

// One pyramid level. Downsamples are per axis (level-0 size / level size) and need not be powers
// of two or integers.
struct SlideLevel {
  std::int64_t width = 0;   // pixels
  std::int64_t height = 0;  // pixels
  double downsample_x = 1.0;
  double downsample_y = 1.0;
};

struct SlideOpenOptions {
  MppResolutionOptions mpp;

  void validate() const { mpp.validate(); }
};

// Default capacity of the decoded-block cache shared by all slides read with OpenSlide: 256 MiB
// holds a 4096 x 4096 slide with its pyramid about four times over, or parts of many slides.
inline constexpr std::size_t kDefaultTileCacheBytes = std::size_t{256} << 20;

// Sets the capacity of the process-wide cache of decoded OpenSlide blocks (RGB bytes); 0 turns it
// off. Blocks beyond the capacity are evicted least recently used first.
void set_tile_cache_capacity(std::size_t bytes);
std::size_t tile_cache_capacity();

class Slide {
 public:
  // Opens `path` and resolves its pixel size. Throws InputError if the file is missing, is not an
  // image that OpenSlide or libvips can read (truncated files included), or has no usable mpp.
  explicit Slide(const std::filesystem::path& path, const SlideOpenOptions& options = {});
  ~Slide();
  Slide(Slide&&) noexcept;
  Slide& operator=(Slide&&) noexcept;
  Slide(const Slide&) = delete;
  Slide& operator=(const Slide&) = delete;

  const std::filesystem::path& path() const;
  SlideBackend backend() const;
  const std::vector<SlideLevel>& levels() const;
  int num_levels() const { return static_cast<int>(levels().size()); }
  std::int64_t width() const { return levels().front().width; }
  std::int64_t height() const { return levels().front().height; }
  // Pixel size of level 0 and the key that gave it.
  const MppResolution& mpp() const;
  // Metadata as OpenSlide names it; for libvips images the resolution appears as tiff.XResolution,
  // tiff.YResolution and tiff.ResolutionUnit.
  const std::map<std::string, std::string>& properties() const;

  // Reads the rectangle [x, x + width) x [y, y + height) in pixels of `level`. Pixels outside the
  // image are kBackgroundRgb; transparent pixels inside it are composited over kBackgroundRgb.
  // Throws InputError for an invalid level or size, and if the file cannot be decoded.
  RgbImage read_level_region(int level, std::int64_t x, std::int64_t y, int width,
                             int height) const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace mgap
