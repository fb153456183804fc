#include "vips_support.hpp"

#include <cstring>
#include <mutex>
#include <stdexcept>

namespace mgap::detail {

void ensure_vips_started() {
  static std::once_flag once;
  std::call_once(once, []() {
    if (vips_init("mgap") != 0) {
      throw std::runtime_error("libvips failed to start: " + std::string(vips_error_buffer()));
    }
    vips_cache_set_max(0);
  });
}

vips::VImage wrap_rgb(const RgbImage& image) {
  return vips::VImage::new_from_memory(const_cast<std::uint8_t*>(image.pixels.data()),
                                       image.pixels.size(), image.width, image.height, 3,
                                       VIPS_FORMAT_UCHAR);
}

RgbImage to_rgb(const vips::VImage& image) {
  RgbImage result;
  result.width = image.width();
  result.height = image.height();
  std::size_t size = 0;
  void* buffer = image.write_to_memory(&size);
  result.pixels.resize(size);
  std::memcpy(result.pixels.data(), buffer, size);
  g_free(buffer);
  if (size != static_cast<std::size_t>(result.width) * result.height * 3) {
    throw std::logic_error("libvips returned an image that is not 3-band 8-bit");
  }
  return result;
}

vips::VImage normalize_to_rgb(const vips::VImage& image) {
  vips::VImage result = image;
  if (result.interpretation() != VIPS_INTERPRETATION_sRGB) {
    result = result.colourspace(VIPS_INTERPRETATION_sRGB);
  }
  if (result.has_alpha()) {
    const std::vector<double> background(kBackgroundRgb.begin(), kBackgroundRgb.end());
    result = result.flatten(vips::VImage::option()->set("background", background));
  }
  if (result.bands() > 3) {
    result = result.extract_band(0, vips::VImage::option()->set("n", 3));
  }
  if (result.format() != VIPS_FORMAT_UCHAR) {
    result = result.cast(VIPS_FORMAT_UCHAR);
  }
  return result;
}

std::string vips_message(const vips::VError& error) {
  std::string text = error.what();
  for (char& character : text) {
    if (character == '\n') character = ' ';
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

}  // namespace mgap::detail
