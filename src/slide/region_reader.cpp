#include "mgap/region_reader.hpp"

#include <algorithm>
#include <cmath>

#include "mgap/error.hpp"
#include "lanczos.hpp"
#include "vips_support.hpp"

namespace mgap {
namespace {

// Relative slack when comparing a level's pixel size with the target, so that 0.5 mpp stored as
// 0.4999999 still selects the level at 0.5 mpp.
constexpr double kLevelSelectionSlack = 1e-6;
// Largest shrink of one progressive step.
constexpr double kMaxProgressiveStep = 2.0;

// One libvips Lanczos-3 reduce to width_px x height_px; both must be no larger than the input.
vips::VImage reduce_vips(const vips::VImage& image, int width_px, int height_px) {
  const double shrink_x = static_cast<double>(image.width()) / width_px;
  const double shrink_y = static_cast<double>(image.height()) / height_px;
  vips::VImage result = image;
  if (shrink_x > 1.0 || shrink_y > 1.0) {
    result = result.reduce(shrink_x, shrink_y,
                           vips::VImage::option()->set("kernel", VIPS_KERNEL_LANCZOS3));
  }
  // Rounding inside libvips can leave the size one pixel off; crop or extend to the exact size.
  if (result.width() != width_px || result.height() != height_px) {
    result = result.embed(0, 0, width_px, height_px,
                          vips::VImage::option()->set("extend", VIPS_EXTEND_COPY));
  }
  return result;
}

}  // namespace

void RegionRequest::validate() const {
  if (!(std::isfinite(target_mpp) && target_mpp > 0.0)) {
    throw InputError("invalid target mpp " + std::to_string(target_mpp) +
                     "; give a positive pixel size in microns per pixel");
  }
  if (width_px <= 0 || height_px <= 0) {
    throw InputError("invalid region size " + std::to_string(width_px) + " x " +
                     std::to_string(height_px) + " px; width and height must be positive");
  }
  if (!std::isfinite(center_x) || !std::isfinite(center_y)) {
    throw InputError("invalid region centre; coordinates must be finite level-0 pixels");
  }
}

int select_level(const Slide& slide, double target_mpp) {
  const MppResolution& mpp = slide.mpp();
  int selected = 0;
  for (int level = 0; level < slide.num_levels(); ++level) {
    const SlideLevel& info = slide.levels()[level];
    const double limit = target_mpp * (1.0 + kLevelSelectionSlack);
    if (info.downsample_x * mpp.mpp_x <= limit && info.downsample_y * mpp.mpp_y <= limit) {
      selected = level;
    }
  }
  return selected;
}

Region read_region(const Slide& slide, const RegionRequest& request) {
  request.validate();
  Region region;
  region.level = select_level(slide, request.target_mpp);
  const SlideLevel& level = slide.levels()[region.level];
  region.level_mpp_x = slide.mpp().mpp_x * level.downsample_x;
  region.level_mpp_y = slide.mpp().mpp_y * level.downsample_y;

  // Size of the region in level pixels, per axis, from its physical size in microns.
  const double level_width = request.width_px * request.target_mpp / region.level_mpp_x;
  const double level_height = request.height_px * request.target_mpp / region.level_mpp_y;
  const int read_width = std::max(1, static_cast<int>(std::lround(level_width)));
  const int read_height = std::max(1, static_cast<int>(std::lround(level_height)));
  const double center_x = request.center_x / level.downsample_x;
  const double center_y = request.center_y / level.downsample_y;
  const auto left = static_cast<std::int64_t>(std::llround(center_x - 0.5 * read_width));
  const auto top = static_cast<std::int64_t>(std::llround(center_y - 0.5 * read_height));

  const RgbImage raw = slide.read_level_region(region.level, left, top, read_width, read_height);
  region.shrink_x = static_cast<double>(read_width) / request.width_px;
  region.shrink_y = static_cast<double>(read_height) / request.height_px;
  region.upsampled = region.shrink_x < 1.0 || region.shrink_y < 1.0;
  region.left = static_cast<double>(left) * level.downsample_x;
  region.top = static_cast<double>(top) * level.downsample_y;
  region.width = read_width * level.downsample_x;
  region.height = read_height * level.downsample_y;
  region.image = resample(raw, request.width_px, request.height_px);
  return region;
}

RgbImage resample(const RgbImage& image, int width_px, int height_px) {
  if (width_px <= 0 || height_px <= 0) {
    throw InputError("invalid output size " + std::to_string(width_px) + " x " +
                     std::to_string(height_px) + " px; width and height must be positive");
  }
  if (image.width == width_px && image.height == height_px) {
    return image;
  }
  return detail::lanczos3_resample(image, width_px, height_px);
}

RgbImage progressive_downsample(const RgbImage& image, int width_px, int height_px) {
  if (width_px <= 0 || height_px <= 0 || width_px > image.width || height_px > image.height) {
    throw InputError("invalid downsampled size " + std::to_string(width_px) + " x " +
                     std::to_string(height_px) + " px for an image of " +
                     std::to_string(image.width) + " x " + std::to_string(image.height) +
                     " px; the output must be positive and no larger than the input");
  }
  detail::ensure_vips_started();
  vips::VImage current = detail::wrap_rgb(image);
  double width = image.width;
  double height = image.height;
  // Each step shrinks by at most 2x, and the last step lands exactly on the output size.
  while (current.width() != width_px || current.height() != height_px) {
    width = std::max(static_cast<double>(width_px), width / kMaxProgressiveStep);
    height = std::max(static_cast<double>(height_px), height / kMaxProgressiveStep);
    const int step_width = static_cast<int>(std::ceil(width - 1e-9));
    const int step_height = static_cast<int>(std::ceil(height - 1e-9));
    current = reduce_vips(current, step_width, step_height).copy_memory();
  }
  return detail::to_rgb(current);
}

}  // namespace mgap
