#pragma once

// Writing RGB images with their pixel size: tiled pyramidal TIFF (readable by OpenSlide) and PNG.

#include <filesystem>
#include <string>

#include "mgap/rgb_image.hpp"

namespace mgap {

enum class TiffCompression {
  kJpeg,
  kDeflate,
  kNone,
};
std::string to_string(TiffCompression compression);
// Accepts "jpeg", "deflate" and "none"; throws InputError naming the value otherwise.
TiffCompression tiff_compression_from_string(const std::string& text);

struct PyramidalTiffOptions {
  double mpp = 0.25;  // written as XResolution/YResolution in pixels per centimetre
  int tile_size_px = 256;
  TiffCompression compression = TiffCompression::kJpeg;
  int jpeg_quality = 90;
  bool pyramid = true;
};

// Writes `image` as a tiled (pyramidal) TIFF with resolution tags, atomically.
void write_pyramidal_tiff(const RgbImage& image, const std::filesystem::path& path,
                          const PyramidalTiffOptions& options);
// Writes `image` as PNG with its pixel size in the pHYs chunk, atomically.
void write_png(const RgbImage& image, const std::filesystem::path& path, double mpp);

}  // namespace mgap
