#pragma once

// Helpers shared by the slide tests: scratch folders, TIFF writing with chosen resolution tags,
// and image comparison.

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <unistd.h>
#include <vector>

#include "mgap/rgb_image.hpp"
#include "vips_support.hpp"

namespace mgap::test {

// An empty scratch folder under the build tree, removed when the object goes out of scope.
class ScratchFolder {
 public:
  explicit ScratchFolder(const std::string& name)
      : path_(std::filesystem::path(MGAP_BINARY_DIR) / "test-scratch" /
              (name + "-" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchFolder() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

struct TestTiffOptions {
  std::optional<double> xres_px_per_mm;  // unset: libvips's default of 1 pixel per millimetre
  std::optional<double> yres_px_per_mm;
  std::string resolution_unit = "cm";    // "cm" or "inch"
  bool pyramid = true;
  int tile_size_px = 64;
  std::string description;               // TIFF ImageDescription, empty for none
};

// Writes `image` as a tiled, uncompressed TIFF with the given resolution tags.
inline void write_test_tiff(const RgbImage& image, const std::filesystem::path& path,
                            const TestTiffOptions& options) {
  detail::ensure_vips_started();
  vips::VImage source = detail::wrap_rgb(image).copy();
  if (options.xres_px_per_mm) {
    source = source.copy(vips::VImage::option()
                             ->set("xres", *options.xres_px_per_mm)
                             ->set("yres", options.yres_px_per_mm.value_or(
                                               *options.xres_px_per_mm)));
  }
  if (!options.description.empty()) {
    source.set("image-description", options.description.c_str());
  }
  source.tiffsave(path.c_str(),
                  vips::VImage::option()
                      ->set("tile", true)
                      ->set("tile_width", options.tile_size_px)
                      ->set("tile_height", options.tile_size_px)
                      ->set("pyramid", options.pyramid)
                      ->set("resunit", options.resolution_unit == "inch"
                                           ? VIPS_FOREIGN_TIFF_RESUNIT_INCH
                                           : VIPS_FOREIGN_TIFF_RESUNIT_CM));
}

// Rewrites the ResolutionUnit tag (296) of every IFD of a little-endian classic TIFF to 1 ("no
// absolute unit"), which libvips cannot write. Returns the number of tags changed.
inline int clear_resolution_unit(const std::filesystem::path& path) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  auto read_u16 = [&file](std::uint64_t offset) {
    std::uint8_t bytes[2];
    file.seekg(static_cast<std::streamoff>(offset));
    file.read(reinterpret_cast<char*>(bytes), 2);
    return static_cast<std::uint16_t>(bytes[0] | (bytes[1] << 8));
  };
  auto read_u32 = [&file](std::uint64_t offset) {
    std::uint8_t bytes[4];
    file.seekg(static_cast<std::streamoff>(offset));
    file.read(reinterpret_cast<char*>(bytes), 4);
    return static_cast<std::uint32_t>(bytes[0] | (bytes[1] << 8) | (bytes[2] << 16) |
                                      (static_cast<std::uint32_t>(bytes[3]) << 24));
  };
  int changed = 0;
  std::uint32_t ifd = read_u32(4);
  while (ifd != 0) {
    const std::uint16_t count = read_u16(ifd);
    for (std::uint16_t entry = 0; entry < count; ++entry) {
      const std::uint64_t offset = ifd + 2 + 12ULL * entry;
      if (read_u16(offset) == 296) {
        const char none[2] = {1, 0};
        file.seekp(static_cast<std::streamoff>(offset + 8));
        file.write(none, 2);
        ++changed;
      }
    }
    ifd = read_u32(ifd + 2 + 12ULL * count);
  }
  return changed;
}

// Peak signal-to-noise ratio in dB between two images of equal size (peak 255).
inline double psnr_db(const RgbImage& a, const RgbImage& b) {
  double sum = 0.0;
  for (std::size_t i = 0; i < a.pixels.size(); ++i) {
    const double difference = static_cast<double>(a.pixels[i]) - b.pixels[i];
    sum += difference * difference;
  }
  const double mse = sum / static_cast<double>(a.pixels.size());
  return mse == 0.0 ? 1e9 : 10.0 * std::log10(255.0 * 255.0 / mse);
}

}  // namespace mgap::test
