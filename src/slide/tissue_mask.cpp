#include "mgap/tissue_mask.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

#include "mgap/error.hpp"
#include "mgap/region_reader.hpp"

namespace mgap {
namespace {

// Smallest longer side of the thumbnail, so that small images still get a usable mask.
constexpr int kMinTissueMaskSide = 256;

// Saturation of one pixel scaled to [0, 255].
std::uint8_t saturation(const std::uint8_t* rgb) {
  const int maximum = std::max({rgb[0], rgb[1], rgb[2]});
  const int minimum = std::min({rgb[0], rgb[1], rgb[2]});
  if (maximum == 0) {
    return 0;
  }
  return static_cast<std::uint8_t>((255 * (maximum - minimum) + maximum / 2) / maximum);
}

}  // namespace

double TissueMask::tissue_fraction() const {
  return tissue.empty() ? 0.0
                        : static_cast<double>(tissue_indices.size()) /
                              static_cast<double>(tissue.size());
}

bool TissueMask::contains(double x, double y) const {
  const double column = std::floor(x / scale_x);
  const double row = std::floor(y / scale_y);
  if (column < 0 || row < 0 || column >= width || row >= height) {
    return false;
  }
  return tissue[static_cast<std::size_t>(row) * width + static_cast<std::size_t>(column)] != 0;
}

int otsu_threshold(const std::vector<std::int64_t>& histogram) {
  if (histogram.size() != 256) {
    throw InputError("Otsu's method needs a 256-bin histogram, got " +
                     std::to_string(histogram.size()) + " bins");
  }
  double total = 0.0;
  double weighted_total = 0.0;
  for (int value = 0; value < 256; ++value) {
    total += static_cast<double>(histogram[value]);
    weighted_total += static_cast<double>(value) * static_cast<double>(histogram[value]);
  }
  // Between-class variance for the split {< t} | {>= t}: w0 w1 (mu0 - mu1)^2.
  int best_threshold = 0;
  double best_variance = -1.0;
  double below = 0.0;
  double weighted_below = 0.0;
  for (int threshold = 0; threshold <= 256; ++threshold) {
    if (threshold > 0) {
      below += static_cast<double>(histogram[threshold - 1]);
      weighted_below += static_cast<double>(threshold - 1) *
                        static_cast<double>(histogram[threshold - 1]);
    }
    const double above = total - below;
    if (below == 0.0 || above == 0.0) {
      continue;
    }
    const double mean_below = weighted_below / below;
    const double mean_above = (weighted_total - weighted_below) / above;
    const double variance = below * above * (mean_below - mean_above) * (mean_below - mean_above);
    if (variance > best_variance) {
      best_variance = variance;
      best_threshold = threshold;
    }
  }
  return best_threshold;
}

TissueMask compute_tissue_mask(const Slide& slide) {
  const MppResolution& mpp = slide.mpp();
  const double width_microns = static_cast<double>(slide.width()) * mpp.mpp_x;
  const double height_microns = static_cast<double>(slide.height()) * mpp.mpp_y;
  const double longer_microns = std::max(width_microns, height_microns);
  double mask_mpp = kTissueMaskMpp;
  mask_mpp = std::min(mask_mpp, longer_microns / kMinTissueMaskSide);
  mask_mpp = std::max(mask_mpp, longer_microns / kMaxTissueMaskSide);
  mask_mpp = std::max(mask_mpp, std::max(mpp.mpp_x, mpp.mpp_y));

  TissueMask mask;
  mask.width = std::max(1, static_cast<int>(std::ceil(width_microns / mask_mpp)));
  mask.height = std::max(1, static_cast<int>(std::ceil(height_microns / mask_mpp)));
  mask.scale_x = mask_mpp / mpp.mpp_x;
  mask.scale_y = mask_mpp / mpp.mpp_y;

  RegionRequest request;
  request.target_mpp = mask_mpp;
  request.width_px = mask.width;
  request.height_px = mask.height;
  request.center_x = 0.5 * mask.width * mask.scale_x;
  request.center_y = 0.5 * mask.height * mask.scale_y;
  const RgbImage thumbnail = read_region(slide, request).image;

  std::vector<std::uint8_t> saturations(static_cast<std::size_t>(mask.width) * mask.height);
  std::vector<std::int64_t> histogram(256, 0);
  for (int y = 0; y < mask.height; ++y) {
    for (int x = 0; x < mask.width; ++x) {
      const std::uint8_t value = saturation(thumbnail.pixel(x, y));
      saturations[static_cast<std::size_t>(y) * mask.width + x] = value;
      ++histogram[value];
    }
  }
  const int floor_value = static_cast<int>(std::ceil(kMinTissueSaturation * 255.0));
  const int threshold = std::max(otsu_threshold(histogram), floor_value);
  mask.saturation_threshold = threshold / 255.0;
  mask.tissue.resize(saturations.size());
  for (std::size_t i = 0; i < saturations.size(); ++i) {
    mask.tissue[i] = saturations[i] >= threshold ? 1 : 0;
    if (mask.tissue[i] != 0) {
      mask.tissue_indices.push_back(static_cast<std::int64_t>(i));
    }
  }
  spdlog::debug("tissue mask of '{}': {} x {} px at {} mpp, saturation threshold {:.3f}, "
                "{:.1f}% tissue",
                slide.path().string(), mask.width, mask.height, mask_mpp,
                mask.saturation_threshold, 100.0 * mask.tissue_fraction());
  return mask;
}

Point2d sample_tissue_point(const TissueMask& mask, RandomEngine& engine) {
  if (mask.tissue_indices.empty()) {
    throw InputError("the tissue mask has no tissue; choose slides with stained tissue");
  }
  const std::int64_t index =
      mask.tissue_indices[uniform_index(engine, mask.tissue_indices.size())];
  const double column = static_cast<double>(index % mask.width);
  const double row = static_cast<double>(index / mask.width);
  Point2d point;
  point.x = (column + uniform01(engine)) * mask.scale_x;
  point.y = (row + uniform01(engine)) * mask.scale_y;
  return point;
}

}  // namespace mgap
