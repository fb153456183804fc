#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "mgap/error.hpp"
#include "mgap/image_io.hpp"
#include "mgap/region_reader.hpp"
#include "mgap/synthetic_tissue.hpp"
#include "slide_test_support.hpp"

namespace {

using mgap::RegionRequest;
using mgap::RgbImage;
using mgap::Slide;

// Reading from a pyramid level plus one reduce, against a progressive downsample of level 0:
// both are Lanczos-3 resamplings of the same tissue, and the pyramid's own 2x2 box averaging is
// the only other difference. 35 dB is an RMS error of 4.5 grey levels.
constexpr double kMinPsnrDb = 35.0;
// A one-pixel checkerboard downsampled 4x: the Lanczos-3 kernel widened 4x passes about 1% of
// the checkerboard's frequency, so the grey stays within 2 levels of 127.5.
constexpr double kCheckerboardTolerance = 2.0;

RgbImage synthetic_tissue(int width, int height, int class_id) {
  mgap::SyntheticSlideOptions options;
  options.width_px = width;
  options.height_px = height;
  options.class_id = class_id;
  options.seed = 11;
  return mgap::render_synthetic_slide(options);
}

// Reference: the level-0 pixels of the rectangle that the region covered, downsampled in steps
// of at most 2x.
RgbImage reference_region(const Slide& slide, const mgap::Region& region,
                          const RegionRequest& request) {
  const auto left = static_cast<std::int64_t>(std::llround(region.left));
  const auto top = static_cast<std::int64_t>(std::llround(region.top));
  const int width = static_cast<int>(std::lround(region.width));
  const int height = static_cast<int>(std::lround(region.height));
  return mgap::progressive_downsample(slide.read_level_region(0, left, top, width, height),
                                      request.width_px, request.height_px);
}

}  // namespace

TEST_CASE("region matches progressive reference") {
  mgap::test::ScratchFolder scratch("region-psnr");
  mgap::PyramidalTiffOptions tiff;
  tiff.compression = mgap::TiffCompression::kDeflate;
  mgap::write_pyramidal_tiff(synthetic_tissue(1024, 1024, 1), scratch / "slide.tif", tiff);
  const Slide slide(scratch / "slide.tif");
  REQUIRE(slide.num_levels() >= 3);

  for (const double mpp : {0.375, 0.5, 0.75, 1.0, 1.5, 2.0}) {
    CAPTURE(mpp);
    RegionRequest request;
    request.center_x = 512;
    request.center_y = 500;
    request.target_mpp = mpp;
    request.width_px = 96;
    request.height_px = 96;
    const mgap::Region region = mgap::read_region(slide, request);
    CHECK(region.image.width == 96);
    CHECK(region.image.height == 96);
    CHECK_FALSE(region.upsampled);
    CHECK(region.level == mgap::select_level(slide, mpp));
    CHECK(region.level_mpp_x <= mpp * (1.0 + 1e-6));
    CHECK(region.shrink_x < 2.0 + 1e-9);
    const double half_level_pixel = 0.5 * slide.levels()[region.level].downsample_x;
    CHECK(std::abs(region.left + 0.5 * region.width - request.center_x) <= half_level_pixel);
    CHECK(std::abs(region.width - 96 * mpp / 0.25) <= half_level_pixel);
    CHECK(mgap::test::psnr_db(region.image, reference_region(slide, region, request)) > kMinPsnrDb);
  }
}

TEST_CASE("level just finer than target") {
  mgap::test::ScratchFolder scratch("region-levels");
  mgap::PyramidalTiffOptions tiff;
  tiff.compression = mgap::TiffCompression::kNone;
  tiff.tile_size_px = 128;
  mgap::write_pyramidal_tiff(RgbImage(1024, 1024, {200, 100, 150}), scratch / "slide.tif", tiff);
  const Slide slide(scratch / "slide.tif");  // levels at 0.25, 0.5, 1, 2 mpp
  REQUIRE(slide.num_levels() == 4);
  CHECK(mgap::select_level(slide, 0.1) == 0);
  CHECK(mgap::select_level(slide, 0.25) == 0);
  CHECK(mgap::select_level(slide, 0.49) == 0);
  CHECK(mgap::select_level(slide, 0.5) == 1);
  CHECK(mgap::select_level(slide, 0.75) == 1);
  CHECK(mgap::select_level(slide, 1.5) == 2);
  CHECK(mgap::select_level(slide, 2.0) == 3);
}

TEST_CASE("checkerboard downsampled without aliasing") {
  mgap::test::ScratchFolder scratch("region-checkerboard");
  RgbImage board(256, 256);
  for (int y = 0; y < board.height; ++y) {
    for (int x = 0; x < board.width; ++x) {
      const std::uint8_t value = ((x + y) % 2 == 0) ? 0 : 255;
      std::fill_n(board.pixel(x, y), 3, value);
    }
  }
  mgap::test::TestTiffOptions options;
  options.xres_px_per_mm = 4000.0;  // 0.25 mpp, a single level
  options.pyramid = false;
  mgap::test::write_test_tiff(board, scratch / "board.tif", options);
  const Slide slide(scratch / "board.tif");

  RegionRequest request;
  request.center_x = 128;
  request.center_y = 128;
  request.target_mpp = 1.0;  // 4x
  request.width_px = 48;
  request.height_px = 48;
  const mgap::Region region = mgap::read_region(slide, request);
  CHECK(region.shrink_x == doctest::Approx(4.0));
  // The kernel reaches 12 input pixels past an edge, where the read stays inside the board only
  // for output pixels 3 or more from the border.
  double worst = 0.0;
  for (int y = 3; y < 45; ++y) {
    for (int x = 3; x < 45; ++x) {
      for (int channel = 0; channel < 3; ++channel) {
        worst = std::max(worst, std::abs(region.image.pixel(x, y)[channel] - 127.5));
      }
    }
  }
  CHECK(worst <= kCheckerboardTolerance);

  // Picking every fourth pixel instead would give a uniform black or white tile.
  const RgbImage direct = mgap::resample(board, 64, 64);
  CHECK(std::abs(direct.pixel(32, 32)[0] - 127.5) <= kCheckerboardTolerance);
}

TEST_CASE("edge regions padded with background") {
  mgap::test::ScratchFolder scratch("region-edge");
  const std::array<std::uint8_t, 3> colour{180, 60, 120};
  mgap::PyramidalTiffOptions tiff;
  tiff.compression = mgap::TiffCompression::kNone;
  mgap::write_pyramidal_tiff(RgbImage(512, 512, colour), scratch / "slide.tif", tiff);
  const Slide slide(scratch / "slide.tif");

  // Centred on the top-left corner: the top-left quadrant lies outside the slide.
  RegionRequest request;
  request.center_x = 0;
  request.center_y = 0;
  request.target_mpp = 0.5;
  request.width_px = 64;
  request.height_px = 64;
  const RgbImage image = mgap::read_region(slide, request).image;
  for (int channel = 0; channel < 3; ++channel) {
    CHECK(image.pixel(5, 5)[channel] == mgap::kBackgroundRgb[channel]);
    CHECK(image.pixel(58, 58)[channel] == doctest::Approx(colour[channel]).epsilon(0.01));
    CHECK(image.pixel(5, 58)[channel] == mgap::kBackgroundRgb[channel]);
  }

  // Entirely outside: all background.
  request.center_x = -5000;
  const RgbImage outside = mgap::read_region(slide, request).image;
  CHECK(std::all_of(outside.pixels.begin(), outside.pixels.end(),
                    [](std::uint8_t value) { return value == 255; }));

  // Raw level reads pad the same way.
  const RgbImage raw = slide.read_level_region(1, 250, 250, 20, 20);
  CHECK(raw.pixel(2, 2)[0] == colour[0]);
  CHECK(raw.pixel(15, 15)[0] == 255);
}

TEST_CASE("non-integral level downsamples") {
  mgap::test::ScratchFolder scratch("region-non-integral");
  mgap::PyramidalTiffOptions tiff;
  tiff.compression = mgap::TiffCompression::kDeflate;
  // Levels of 500 x 499 and 250 x 249 px: downsamples 2.002 and about 4.01, not powers of two.
  mgap::write_pyramidal_tiff(synthetic_tissue(1001, 999, 3),
                             scratch / "odd.tif", tiff);
  const Slide slide(scratch / "odd.tif");
  REQUIRE(slide.num_levels() >= 2);
  const mgap::SlideLevel& level1 = slide.levels()[1];
  CHECK(level1.downsample_x != doctest::Approx(2.0).epsilon(1e-6));
  CHECK(level1.downsample_x == doctest::Approx(1001.0 / level1.width));
  CHECK(level1.downsample_y == doctest::Approx(999.0 / level1.height));

  for (const double mpp : {0.6, 1.0, 1.7}) {
    CAPTURE(mpp);
    RegionRequest request;
    request.center_x = 480;
    request.center_y = 530;
    request.target_mpp = mpp;
    request.width_px = 80;
    request.height_px = 64;
    const mgap::Region region = mgap::read_region(slide, request);
    CHECK(mgap::test::psnr_db(region.image, reference_region(slide, region, request)) > kMinPsnrDb);
  }
}

TEST_CASE("anisotropic pixels give round discs") {
  // A disc 80 um across drawn on pixels of 0.25 um across and 0.5 um down: 320 x 160 pixels.
  mgap::test::ScratchFolder scratch("region-anisotropic");
  RgbImage image(640, 320);
  for (int y = 0; y < image.height; ++y) {
    for (int x = 0; x < image.width; ++x) {
      const double dx_um = (x + 0.5 - 320.0) * 0.25;
      const double dy_um = (y + 0.5 - 160.0) * 0.5;
      if (dx_um * dx_um + dy_um * dy_um <= 40.0 * 40.0) {
        std::fill_n(image.pixel(x, y), 3, 0);
      }
    }
  }
  mgap::test::TestTiffOptions options;
  options.xres_px_per_mm = 4000.0;
  options.yres_px_per_mm = 2000.0;
  mgap::test::write_test_tiff(image, scratch / "aniso.tif", options);
  const Slide slide(scratch / "aniso.tif");

  RegionRequest request;
  request.center_x = 320;
  request.center_y = 160;
  request.target_mpp = 1.0;
  request.width_px = 120;
  request.height_px = 120;
  const RgbImage region = mgap::read_region(slide, request).image;
  int dark_columns = 0;
  int dark_rows = 0;
  for (int i = 0; i < 120; ++i) {
    dark_columns += region.pixel(i, 60)[0] < 128 ? 1 : 0;
    dark_rows += region.pixel(60, i)[0] < 128 ? 1 : 0;
  }
  // 80 um at 1 um per pixel, to within a pixel at each edge.
  CHECK(std::abs(dark_columns - 80) <= 2);
  CHECK(std::abs(dark_rows - 80) <= 2);
}

TEST_CASE("upsampled target is flagged") {
  mgap::test::ScratchFolder scratch("region-upsample");
  mgap::write_png(RgbImage(64, 64, {10, 20, 30}), scratch / "coarse.png", 1.0);
  const Slide slide(scratch / "coarse.png");
  RegionRequest request;
  request.center_x = 32;
  request.center_y = 32;
  request.target_mpp = 0.5;
  request.width_px = 32;
  request.height_px = 32;
  const mgap::Region region = mgap::read_region(slide, request);
  CHECK(region.upsampled);
  CHECK(region.shrink_x == doctest::Approx(0.5));
  CHECK(region.image.pixel(16, 16)[2] == 30);
}

TEST_CASE("invalid region requests") {
  mgap::test::ScratchFolder scratch("region-invalid");
  mgap::write_png(RgbImage(64, 64), scratch / "plain.png", 0.5);
  const Slide slide(scratch / "plain.png");
  RegionRequest request;
  request.target_mpp = 0.0;
  CHECK_THROWS_AS(mgap::read_region(slide, request), mgap::InputError);
  request.target_mpp = 0.5;
  request.width_px = 0;
  CHECK_THROWS_AS(mgap::read_region(slide, request), mgap::InputError);
  CHECK_THROWS_AS(slide.read_level_region(1, 0, 0, 4, 4), mgap::InputError);
  CHECK_THROWS_AS(mgap::progressive_downsample(RgbImage(8, 8), 16, 16), mgap::InputError);
}

TEST_CASE("progressive downsample keeps uniform colour") {
  const RgbImage image(300, 200, {90, 160, 220});
  const RgbImage small = mgap::progressive_downsample(image, 37, 23);
  CHECK(small.width == 37);
  CHECK(small.height == 23);
  for (std::size_t i = 0; i < small.pixels.size(); i += 3) {
    CHECK(small.pixels[i] == 90);
  }
}

TEST_CASE("block cache returns same pixels") {
  mgap::test::ScratchFolder scratch("region-cache");
  mgap::write_pyramidal_tiff(synthetic_tissue(700, 600, 2), scratch / "slide.tif", {});
  const Slide slide(scratch / "slide.tif");
  const std::size_t capacity = mgap::tile_cache_capacity();
  mgap::set_tile_cache_capacity(0);
  const RgbImage direct = slide.read_level_region(0, 190, 250, 400, 300);
  mgap::set_tile_cache_capacity(capacity);
  const RgbImage cached = slide.read_level_region(0, 190, 250, 400, 300);
  const RgbImage again = slide.read_level_region(0, 190, 250, 400, 300);
  CHECK(cached.pixels == direct.pixels);
  CHECK(again.pixels == direct.pixels);
}
