#include "mgap/slide.hpp"

#include <openslide.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <system_error>

#include "mgap/error.hpp"
#include "tile_cache.hpp"
#include "vips_support.hpp"

namespace mgap {
namespace {

// Millimetres per centimetre and per inch, for translating libvips resolutions (pixels per
// millimetre) into TIFF units.
constexpr double kMillimetresPerCentimetre = 10.0;
constexpr double kMillimetresPerInch = 25.4;

}  // namespace

RgbImage::RgbImage(int width_px, int height_px, std::array<std::uint8_t, 3> fill)
    : width(width_px), height(height_px), pixels(static_cast<std::size_t>(width_px) * height_px * 3) {
  for (std::size_t i = 0; i < pixels.size(); i += 3) {
    pixels[i] = fill[0];
    pixels[i + 1] = fill[1];
    pixels[i + 2] = fill[2];
  }
}

std::string to_string(SlideBackend backend) {
  return backend == SlideBackend::kOpenSlide ? "openslide" : "libvips";
}

class Slide::Impl {
 public:
  std::filesystem::path path;
  SlideBackend backend = SlideBackend::kOpenSlide;
  std::vector<SlideLevel> levels;
  std::vector<double> openslide_downsamples;  // as OpenSlide converts level-0 coordinates
  MppResolution mpp;
  std::map<std::string, std::string> properties;
  openslide_t* openslide = nullptr;
  std::uint64_t serial = detail::next_slide_serial();  // key of this slide's cached blocks
  vips::VImage image;  // libvips backend: the whole image in memory, 3-band uchar

  ~Impl() {
    if (openslide != nullptr) {
      openslide_close(openslide);
    }
  }

  void open_with_openslide();
  void open_with_libvips();
  void read_openslide(int level, std::int64_t x, std::int64_t y, int width, int height,
                      RgbImage& out, int out_x, int out_y) const;
  void read_cached(int level, std::int64_t x, std::int64_t y, int width, int height,
                   RgbImage& out, int out_x, int out_y) const;
  void read_libvips(std::int64_t x, std::int64_t y, int width, int height, RgbImage& out,
                    int out_x, int out_y) const;
};

void Slide::Impl::open_with_openslide() {
  backend = SlideBackend::kOpenSlide;
  openslide = openslide_open(path.c_str());
  if (openslide == nullptr) {
    throw InputError("failed to open slide '" + path.string() + "' with OpenSlide; check the file");
  }
  if (const char* error = openslide_get_error(openslide)) {
    throw InputError("failed to read slide '" + path.string() + "': " + error +
                     "; the file may be truncated or corrupt");
  }
  for (const char* const* name = openslide_get_property_names(openslide); *name != nullptr;
       ++name) {
    properties[*name] = openslide_get_property_value(openslide, *name);
  }
  const int count = openslide_get_level_count(openslide);
  std::int64_t width0 = 0;
  std::int64_t height0 = 0;
  openslide_get_level_dimensions(openslide, 0, &width0, &height0);
  const bool generic_tiff = properties["openslide.vendor"] == "generic-tiff";
  for (int level = 0; level < count; ++level) {
    SlideLevel info;
    openslide_get_level_dimensions(openslide, level, &info.width, &info.height);
    // NOTE: OpenSlide 3.4 decodes non-JPEG tiles of generic TIFF files through libtiff's RGBA
    // interface, which shears a level narrower than one tile (libtiff warns "Raster width ...
    // shall not be larger than image width"). Such levels are at most one tile, so they are
    // skipped and regions come from the next finer level.
    const std::string tile_width_key = "openslide.level[" + std::to_string(level) + "].tile-width";
    if (generic_tiff && level > 0 && properties.count(tile_width_key) != 0 &&
        std::stoll(properties[tile_width_key]) > info.width) {
      spdlog::debug("'{}': skipping level {} ({} px wide, narrower than its tile)", path.string(),
                    level, info.width);
      break;
    }
    if (info.width <= 0 || info.height <= 0) {
      throw InputError("slide '" + path.string() + "' has an empty pyramid level " +
                       std::to_string(level) + "; the file may be corrupt");
    }
    info.downsample_x = static_cast<double>(width0) / static_cast<double>(info.width);
    info.downsample_y = static_cast<double>(height0) / static_cast<double>(info.height);
    levels.push_back(info);
    openslide_downsamples.push_back(openslide_get_level_downsample(openslide, level));
  }
}

void Slide::Impl::open_with_libvips() {
  backend = SlideBackend::kLibvips;
  try {
    vips::VImage loaded = vips::VImage::new_from_file(
        path.c_str(), vips::VImage::option()
                          ->set("access", VIPS_ACCESS_RANDOM)
                          ->set("fail_on", VIPS_FAIL_ON_ERROR));
    const char* loader = nullptr;
    if (vips_image_get_string(loaded.get_image(), "vips-loader", &loader) == 0) {
      properties["vips.loader"] = loader;
    }
    // libvips reports resolution in pixels per millimetre whatever the file stored. It is
    // translated back to TIFF units so that one set of rules (mpp_resolution.hpp) applies.
    const double xres = loaded.xres();
    const double yres = loaded.yres();
    std::string unit;
    const char* unit_text = nullptr;
    if (vips_image_get_typeof(loaded.get_image(), "resolution-unit") != 0 &&
        vips_image_get_string(loaded.get_image(), "resolution-unit", &unit_text) == 0) {
      unit = unit_text;
    } else if (properties["vips.loader"].rfind("png", 0) == 0) {
      // NOTE: PNG stores pixels per metre, but libvips drops the unit, so a PNG whose pHYs unit
      // is "unknown" cannot be distinguished here. Without pHYs libvips reports 72 dpi, which the
      // plausibility check rejects.
      unit = "cm";
    }
    if (unit == "cm") {
      properties["tiff.XResolution"] = std::to_string(xres * kMillimetresPerCentimetre);
      properties["tiff.YResolution"] = std::to_string(yres * kMillimetresPerCentimetre);
      properties["tiff.ResolutionUnit"] = "centimeter";
    } else if (unit == "in") {
      properties["tiff.XResolution"] = std::to_string(xres * kMillimetresPerInch);
      properties["tiff.YResolution"] = std::to_string(yres * kMillimetresPerInch);
      properties["tiff.ResolutionUnit"] = "inch";
    } else {
      properties["tiff.XResolution"] = std::to_string(xres);
      properties["tiff.YResolution"] = std::to_string(yres);
      properties["tiff.ResolutionUnit"] = "none";
    }
    // Decoding the whole image now surfaces truncated files at open, not at the first read.
    image = detail::normalize_to_rgb(loaded).copy_memory();
  } catch (const vips::VError& error) {
    throw InputError("failed to read image '" + path.string() + "': " + detail::vips_message(error) +
                     "; check that the file is a complete PNG, JPEG, TIFF or slide");
  }
  levels.push_back(SlideLevel{image.width(), image.height(), 1.0, 1.0});
  openslide_downsamples.push_back(1.0);
}

void Slide::Impl::read_openslide(int level, std::int64_t x, std::int64_t y, int width,
                                 int height, RgbImage& out, int out_x, int out_y) const {
  std::vector<std::uint32_t> argb(static_cast<std::size_t>(width) * height);
  // OpenSlide takes the top-left corner in level-0 coordinates and divides by its own downsample.
  const double downsample = openslide_downsamples[level];
  const auto x0 = static_cast<std::int64_t>(std::llround(static_cast<double>(x) * downsample));
  const auto y0 = static_cast<std::int64_t>(std::llround(static_cast<double>(y) * downsample));
  openslide_read_region(openslide, argb.data(), x0, y0, level, width, height);
  if (const char* error = openslide_get_error(openslide)) {
    throw InputError("failed to read a region of slide '" + path.string() + "': " + error +
                     "; the file may be truncated or corrupt");
  }
  // Pixels are premultiplied ARGB; compositing over white adds (255 - alpha) to each channel.
  for (int row = 0; row < height; ++row) {
    std::uint8_t* target = out.pixel(out_x, out_y + row);
    const std::uint32_t* source = argb.data() + static_cast<std::size_t>(row) * width;
    for (int column = 0; column < width; ++column) {
      const std::uint32_t value = source[column];
      const std::uint32_t transparency = 255u - (value >> 24);
      target[3 * column] = static_cast<std::uint8_t>(((value >> 16) & 0xffu) + transparency);
      target[3 * column + 1] = static_cast<std::uint8_t>(((value >> 8) & 0xffu) + transparency);
      target[3 * column + 2] = static_cast<std::uint8_t>((value & 0xffu) + transparency);
    }
  }
}

void Slide::Impl::read_cached(int level, std::int64_t x, std::int64_t y, int width, int height,
                              RgbImage& out, int out_x, int out_y) const {
  constexpr std::int64_t kBlock = detail::kTileCacheBlockPx;
  const SlideLevel& info = levels[level];
  for (std::int64_t row = y / kBlock; row * kBlock < y + height; ++row) {
    for (std::int64_t column = x / kBlock; column * kBlock < x + width; ++column) {
      const std::int64_t block_x = column * kBlock;
      const std::int64_t block_y = row * kBlock;
      const int block_width = static_cast<int>(std::min(kBlock, info.width - block_x));
      const int block_height = static_cast<int>(std::min(kBlock, info.height - block_y));
      const auto block = detail::cached_block(
          detail::BlockKey{serial, level, column, row}, [&]() {
            RgbImage decoded(block_width, block_height);
            read_openslide(level, block_x, block_y, block_width, block_height, decoded, 0, 0);
            return decoded;
          });
      // Copy the overlap of the block and the requested rectangle.
      const std::int64_t left = std::max(x, block_x);
      const std::int64_t top = std::max(y, block_y);
      const std::int64_t right = std::min(x + width, block_x + block_width);
      const std::int64_t bottom = std::min(y + height, block_y + block_height);
      for (std::int64_t line = top; line < bottom; ++line) {
        std::memcpy(out.pixel(out_x + static_cast<int>(left - x), out_y + static_cast<int>(line - y)),
                    block->pixel(static_cast<int>(left - block_x), static_cast<int>(line - block_y)),
                    static_cast<std::size_t>(right - left) * 3);
      }
    }
  }
}

void Slide::Impl::read_libvips(std::int64_t x, std::int64_t y, int width, int height,
                               RgbImage& out, int out_x, int out_y) const {
  const auto* data = static_cast<const std::uint8_t*>(image.data());
  const std::size_t stride = static_cast<std::size_t>(image.width()) * 3;
  for (int row = 0; row < height; ++row) {
    std::memcpy(out.pixel(out_x, out_y + row),
                data + static_cast<std::size_t>(y + row) * stride + static_cast<std::size_t>(x) * 3,
                static_cast<std::size_t>(width) * 3);
  }
}

Slide::Slide(const std::filesystem::path& path, const SlideOpenOptions& options)
    : impl_(std::make_unique<Impl>()) {
  options.validate();
  detail::ensure_vips_started();
  impl_->path = path;
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) {
    throw InputError("slide or image '" + path.string() + "' not found; check the path");
  }
  if (openslide_detect_vendor(path.c_str()) != nullptr) {
    impl_->open_with_openslide();
  } else {
    impl_->open_with_libvips();
  }
  impl_->mpp = resolve_mpp(impl_->properties, options.mpp, path.string());
  spdlog::debug("opened '{}' with {}: {} x {} px, {} levels, {} x {} mpp from {}", path.string(),
                to_string(impl_->backend), width(), height(), num_levels(), impl_->mpp.mpp_x,
                impl_->mpp.mpp_y, impl_->mpp.key);
}

Slide::~Slide() = default;
Slide::Slide(Slide&&) noexcept = default;
Slide& Slide::operator=(Slide&&) noexcept = default;

const std::filesystem::path& Slide::path() const { return impl_->path; }
SlideBackend Slide::backend() const { return impl_->backend; }
const std::vector<SlideLevel>& Slide::levels() const { return impl_->levels; }
const MppResolution& Slide::mpp() const { return impl_->mpp; }
const std::map<std::string, std::string>& Slide::properties() const { return impl_->properties; }

RgbImage Slide::read_level_region(int level, std::int64_t x, std::int64_t y, int width,
                                  int height) const {
  if (level < 0 || level >= num_levels()) {
    throw InputError("pyramid level " + std::to_string(level) + " does not exist in '" +
                     impl_->path.string() + "'; use a level in [0, " +
                     std::to_string(num_levels() - 1) + "]");
  }
  if (width <= 0 || height <= 0) {
    throw InputError("invalid region size " + std::to_string(width) + " x " +
                     std::to_string(height) + "; width and height must be positive");
  }
  RgbImage out(width, height);
  const SlideLevel& info = impl_->levels[level];
  // Only the part inside the level is read; the rest keeps the background colour.
  const std::int64_t left = std::max<std::int64_t>(x, 0);
  const std::int64_t top = std::max<std::int64_t>(y, 0);
  const std::int64_t right = std::min<std::int64_t>(x + width, info.width);
  const std::int64_t bottom = std::min<std::int64_t>(y + height, info.height);
  if (left >= right || top >= bottom) {
    return out;
  }
  const int inside_width = static_cast<int>(right - left);
  const int inside_height = static_cast<int>(bottom - top);
  const int out_x = static_cast<int>(left - x);
  const int out_y = static_cast<int>(top - y);
  if (impl_->backend == SlideBackend::kOpenSlide && tile_cache_capacity() > 0) {
    impl_->read_cached(level, left, top, inside_width, inside_height, out, out_x, out_y);
  } else if (impl_->backend == SlideBackend::kOpenSlide) {
    impl_->read_openslide(level, left, top, inside_width, inside_height, out, out_x, out_y);
  } else {
    impl_->read_libvips(left, top, inside_width, inside_height, out, out_x, out_y);
  }
  return out;
}

}  // namespace mgap
