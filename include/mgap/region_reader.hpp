#pragma once

// Reading a region of a slide at a target pixel size (mpp), with antialiased downsampling.
//
// The region is read from the coarsest pyramid level whose pixels are no larger than the target
// on both axes ("the level just finer than the target"), using the level's real downsample, then
// resampled to the output size with a separable Lanczos-3 filter widened by the shrink factor,
// which low-pass filters before decimating (no aliasing). Axes are scaled separately, so an
// output pixel is square and covers target_mpp microns on both axes even when the slide's pixels
// are not square. A target finer than level 0 is upsampled with the same kernel and flagged in
// the result. The read rectangle is snapped to the level's pixel grid: its corner and size are
// rounded to whole level pixels. So the centre is within half a level pixel of the request, and
// the physical size is exact to half a level pixel over the whole width. The rectangle actually
// read is returned in level-0 pixels.
//
// Complexity: O(read pixels), at most (2 x output size)^2 pixels per region for a pyramid whose
// levels are at most 2x apart.

#include <cstdint>

#include "mgap/rgb_image.hpp"
#include "mgap/slide.hpp"

namespace mgap {

struct RegionRequest {
  double center_x = 0.0;   // level-0 pixels
  double center_y = 0.0;   // level-0 pixels
  double target_mpp = 0.5;  // microns per output pixel, on both axes
  int width_px = 224;       // output size in pixels
  int height_px = 224;

  // Throws InputError for a non-positive size or mpp, or non-finite coordinates.
  void validate() const;
};

struct Region {
  RgbImage image;         // [height_px, width_px, 3]
  int level = 0;          // pyramid level read
  double level_mpp_x = 0.0;  // pixel size of that level
  double level_mpp_y = 0.0;
  double shrink_x = 1.0;  // level pixels per output pixel (< 1 when upsampled)
  double shrink_y = 1.0;
  bool upsampled = false;  // the target is finer than level 0
  // The rectangle read, in level-0 pixels (the level rectangle times the level's downsample).
  double left = 0.0;
  double top = 0.0;
  double width = 0.0;
  double height = 0.0;
};

// Index of the coarsest level whose pixel size is at most `target_mpp` on both axes (relative
// slack 1e-6 for rounding in the metadata), or 0 when even level 0 is coarser than the target.
int select_level(const Slide& slide, double target_mpp);

Region read_region(const Slide& slide, const RegionRequest& request);

// Resamples `image` to exactly width_px x height_px with separate factors per axis (Lanczos-3,
// widened by the factor when shrinking). Runs on the calling thread.
RgbImage resample(const RgbImage& image, int width_px, int height_px);

// Downsamples `image` to width_px x height_px in steps of at most 2x per axis, each one a libvips
// Lanczos-3 reduce: the method the benchmark builder uses for every output mpp, and an
// independent check of resample().
RgbImage progressive_downsample(const RgbImage& image, int width_px, int height_px);

}  // namespace mgap
