#pragma once

// An 8-bit RGB image in memory, the pixel type that slides, regions and tiles share.

#include <array>
#include <cstdint>
#include <vector>

namespace mgap {

// Colour of pixels outside a slide or image: white, the colour of empty glass in bright-field
// microscopy, so that padding looks like background to a tissue mask and to an encoder.
inline constexpr std::array<std::uint8_t, 3> kBackgroundRgb{255, 255, 255};

struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> pixels;  // [height, width, 3], row-major, interleaved RGB

  RgbImage() = default;
  // Creates an image filled with `fill`.
  RgbImage(int width_px, int height_px,
           std::array<std::uint8_t, 3> fill = kBackgroundRgb);

  std::uint8_t* pixel(int x, int y) { return pixels.data() + 3 * (static_cast<std::size_t>(y) * width + x); }
  const std::uint8_t* pixel(int x, int y) const {
    return pixels.data() + 3 * (static_cast<std::size_t>(y) * width + x);
  }
};

}  // namespace mgap
