#pragma once

// Tissue mask of a slide from a low-resolution thumbnail, and seeded sampling of points in tissue.
//
// The thumbnail is read at about kTissueMaskMpp (or coarser for very large slides). A pixel is
// tissue when its HSV saturation (max - min) / max exceeds a threshold chosen by Otsu's method
// (N. Otsu, "A threshold selection method from gray-level histograms", IEEE Trans. SMC 9(1), 1979)
// on a 256-bin saturation histogram, and at least kMinTissueSaturation, so that an empty slide has
// no tissue. Stained tissue is saturated and glass is white or grey, so saturation separates them
// better than brightness does. Complexity: O(thumbnail pixels).

#include <cstdint>
#include <vector>

#include "mgap/random.hpp"
#include "mgap/slide.hpp"

namespace mgap {

// Thumbnail pixel size: 8 mpp resolves glands (tens of microns) and keeps a 10 mm slide at
// 1250 x 1250 pixels.
inline constexpr double kTissueMaskMpp = 8.0;
// Upper bound on the thumbnail's longer side, reached by slides longer than 32.8 mm at
// kTissueMaskMpp.
inline constexpr int kMaxTissueMaskSide = 4096;
// Saturation below which a pixel is never tissue (pale glass and scanner noise stay below it).
inline constexpr double kMinTissueSaturation = 0.05;

struct TissueMask {
  int width = 0;   // mask pixels
  int height = 0;
  double scale_x = 1.0;  // level-0 pixels per mask pixel
  double scale_y = 1.0;
  double saturation_threshold = 0.0;  // the threshold used, in [0, 1]
  std::vector<std::uint8_t> tissue;  // [height, width], 1 for tissue
  std::vector<std::int64_t> tissue_indices;  // flat indices of tissue pixels, ascending

  double tissue_fraction() const;
  // Whether level-0 point (x, y) falls in a tissue pixel; false outside the slide.
  bool contains(double x, double y) const;
};

// Computes the Otsu threshold of 8-bit values: the t maximizing the between-class variance of
// {< t} and {>= t}. `histogram` has 256 bins. Returns a value in [0, 256], the smallest t on ties.
int otsu_threshold(const std::vector<std::int64_t>& histogram);

// Builds the mask from a thumbnail of `slide`. A slide without tissue gives an empty
// tissue_indices list, not an error.
TissueMask compute_tissue_mask(const Slide& slide);

// Draws a level-0 point uniformly inside the tissue: a uniform tissue pixel, then a uniform
// position inside it. Throws InputError if the mask has no tissue.
struct Point2d {
  double x = 0.0;
  double y = 0.0;
};
Point2d sample_tissue_point(const TissueMask& mask, RandomEngine& engine);

}  // namespace mgap
