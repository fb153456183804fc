#include <doctest/doctest.h>

#include <fstream>

#include "mgap/error.hpp"
#include "mgap/image_io.hpp"
#include "mgap/mpp_resolution.hpp"
#include "mgap/slide.hpp"
#include "slide_test_support.hpp"

namespace {

using mgap::InputError;
using mgap::MppResolutionOptions;
using mgap::MppSource;
using mgap::Slide;
using mgap::SlideOpenOptions;

// Pixel sizes pass through decimal text and a division, so they match to rounding only.
constexpr double kMppTolerance = 1e-9;

mgap::RgbImage test_pattern(int width, int height) {
  mgap::RgbImage image(width, height);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      std::uint8_t* pixel = image.pixel(x, y);
      pixel[0] = static_cast<std::uint8_t>(x * 7 + y);
      pixel[1] = static_cast<std::uint8_t>(y * 5);
      pixel[2] = static_cast<std::uint8_t>((x ^ y) * 3);
    }
  }
  return image;
}

std::string error_message(const std::filesystem::path& path, const SlideOpenOptions& options) {
  try {
    const Slide slide(path, options);
  } catch (const InputError& error) {
    return error.what();
  }
  return "";
}

}  // namespace

TEST_CASE("mpp from centimetre resolution") {
  mgap::test::ScratchFolder scratch("mpp-cm");
  mgap::test::TestTiffOptions options;
  options.xres_px_per_mm = 2000.0;  // 0.5 mpp
  mgap::test::write_test_tiff(test_pattern(256, 192), scratch / "cm.tif", options);

  const Slide slide(scratch / "cm.tif");
  CHECK(slide.backend() == mgap::SlideBackend::kOpenSlide);
  CHECK(slide.properties().at("tiff.ResolutionUnit") == "centimeter");
  CHECK(slide.mpp().mpp_x == doctest::Approx(0.5).epsilon(kMppTolerance));
  CHECK(slide.mpp().mpp_y == doctest::Approx(0.5).epsilon(kMppTolerance));
  CHECK(slide.mpp().source == MppSource::kTiffResolution);
  CHECK(slide.mpp().key == "tiff.XResolution");
}

TEST_CASE("mpp from inch resolution") {
  mgap::test::ScratchFolder scratch("mpp-inch");
  mgap::test::TestTiffOptions options;
  options.xres_px_per_mm = 4000.0;  // 0.25 mpp, stored as 101600 pixels per inch
  options.resolution_unit = "inch";
  mgap::test::write_test_tiff(test_pattern(128, 128), scratch / "inch.tif", options);

  const Slide slide(scratch / "inch.tif");
  CHECK(slide.properties().at("tiff.ResolutionUnit") == "inch");
  CHECK(slide.mpp().mpp_x == doctest::Approx(0.25).epsilon(kMppTolerance));
  CHECK(slide.mpp().source == MppSource::kTiffResolution);
}

TEST_CASE("mpp of anisotropic pixels") {
  mgap::test::ScratchFolder scratch("mpp-anisotropic");
  mgap::test::TestTiffOptions options;
  options.xres_px_per_mm = 4000.0;  // 0.25 mpp across
  options.yres_px_per_mm = 2000.0;  // 0.5 mpp down
  mgap::test::write_test_tiff(test_pattern(128, 64), scratch / "aniso.tif", options);

  const Slide slide(scratch / "aniso.tif");
  CHECK(slide.mpp().mpp_x == doctest::Approx(0.25).epsilon(kMppTolerance));
  CHECK(slide.mpp().mpp_y == doctest::Approx(0.5).epsilon(kMppTolerance));
}

TEST_CASE("no resolution unit is unknown") {
  mgap::test::ScratchFolder scratch("mpp-no-unit");
  mgap::test::TestTiffOptions options;
  options.xres_px_per_mm = 2000.0;
  const auto path = scratch / "none.tif";
  mgap::test::write_test_tiff(test_pattern(128, 128), path, options);
  REQUIRE(mgap::test::clear_resolution_unit(path) >= 1);

  const std::string message = error_message(path, {});
  CHECK(message.find(path.string()) != std::string::npos);
  CHECK(message.find("tiff.XResolution") != std::string::npos);

  SlideOpenOptions with_override;
  with_override.mpp.override_mpp = 0.5;
  const Slide slide(path, with_override);
  CHECK(slide.properties().at("tiff.ResolutionUnit") == "none");
  CHECK(slide.mpp().source == MppSource::kUserOverride);
  CHECK(slide.mpp().mpp_x == 0.5);
}

TEST_CASE("placeholder resolution is rejected") {
  mgap::test::ScratchFolder scratch("mpp-placeholder");
  const auto path = scratch / "placeholder.tif";
  mgap::test::write_test_tiff(test_pattern(128, 128), path, {});  // 1 pixel per millimetre

  const std::string message = error_message(path, {});
  CHECK(message.find(path.string()) != std::string::npos);
  for (const char* key : {"openslide.mpp-x", "tiff.XResolution", "aperio.MPP", "--mpp",
                          "openslide.objective-power"}) {
    CHECK_MESSAGE(message.find(key) != std::string::npos, key);
  }
  // The placeholder is 1000 um/px in every unit.
  CHECK_FALSE(mgap::mpp_from_tiff_resolution(10.0, "centimeter").has_value());
  CHECK_FALSE(mgap::mpp_from_tiff_resolution(25.4, "inch").has_value());
  // 72 dpi, the TIFF and PNG software default, is outside the plausible range.
  CHECK_FALSE(mgap::mpp_from_tiff_resolution(72.0, "inch").has_value());
}

TEST_CASE("aperio MPP from image description") {
  mgap::test::ScratchFolder scratch("mpp-aperio");
  mgap::test::TestTiffOptions options;  // resolution tags left at the placeholder
  options.description =
      "Aperio Image Library v10.0.50\r\n256x256 [0,0 256x256] (64x64) RAW|AppMag = 40|"
      "MPP = 0.2520";
  const auto path = scratch / "aperio.tif";
  mgap::test::write_test_tiff(test_pattern(256, 256), path, options);

  const Slide slide(path);
  REQUIRE(slide.properties().count("aperio.MPP") == 1);
  CHECK(slide.properties().at("openslide.vendor") == "aperio");
  CHECK(slide.mpp().mpp_x == doctest::Approx(0.252).epsilon(kMppTolerance));
  CHECK(slide.mpp().mpp_y == doctest::Approx(0.252).epsilon(kMppTolerance));
}

TEST_CASE("resolution order of properties") {
  MppResolutionOptions options;
  // The vendor key applies when the OpenSlide and TIFF keys do not.
  std::map<std::string, std::string> properties = {
      {"aperio.MPP", "0.2520"}, {"tiff.XResolution", "10"}, {"tiff.ResolutionUnit", "centimeter"}};
  auto resolved = mgap::resolve_mpp(properties, options, "vendor.svs");
  CHECK(resolved.source == MppSource::kVendorProperty);
  CHECK(resolved.key == "aperio.MPP");
  CHECK(resolved.mpp_x == doctest::Approx(0.252).epsilon(kMppTolerance));

  // openslide.mpp-x wins over everything else, the override included.
  properties["openslide.mpp-x"] = "0.5";
  properties["openslide.mpp-y"] = "0.5";
  options.override_mpp = 0.25;
  resolved = mgap::resolve_mpp(properties, options, "vendor.svs");
  CHECK(resolved.source == MppSource::kOpenSlideProperty);
  CHECK(resolved.mpp_x == 0.5);
}

TEST_CASE("objective power needs an explicit option") {
  const std::map<std::string, std::string> properties = {{"openslide.objective-power", "20"}};
  MppResolutionOptions options;
  CHECK_THROWS_AS(mgap::resolve_mpp(properties, options, "scan.tif"), InputError);
  options.allow_objective_power = true;
  const auto resolved = mgap::resolve_mpp(properties, options, "scan.tif");
  CHECK(resolved.source == MppSource::kObjectivePower);
  CHECK(resolved.mpp_x == doctest::Approx(0.5).epsilon(kMppTolerance));
}

TEST_CASE("override fills a PNG without metadata") {
  mgap::test::ScratchFolder scratch("mpp-override");
  const auto path = scratch / "plain.png";
  mgap::detail::ensure_vips_started();
  mgap::RgbImage image = test_pattern(64, 48);
  mgap::detail::wrap_rgb(image).pngsave(path.c_str());  // libvips writes 1 pixel per millimetre

  CHECK_THROWS_AS(Slide{path}, InputError);
  SlideOpenOptions options;
  options.mpp.override_mpp = 0.75;
  const Slide slide(path, options);
  CHECK(slide.backend() == mgap::SlideBackend::kLibvips);
  CHECK(slide.mpp().source == MppSource::kUserOverride);
  CHECK(slide.mpp().mpp_x == 0.75);

  options.mpp.override_mpp = -1.0;
  CHECK_THROWS_AS((Slide{path, options}), InputError);
}

TEST_CASE("tile round trip at half mpp") {
  mgap::test::ScratchFolder scratch("mpp-round-trip");
  const mgap::RgbImage tile = test_pattern(96, 80);
  mgap::write_png(tile, scratch / "tile.png", 0.5);
  mgap::PyramidalTiffOptions tiff;
  tiff.mpp = 0.5;
  tiff.compression = mgap::TiffCompression::kDeflate;
  tiff.tile_size_px = 64;
  mgap::write_pyramidal_tiff(tile, scratch / "tile.tif", tiff);

  for (const char* name : {"tile.png", "tile.tif"}) {
    CAPTURE(name);
    const Slide slide(scratch / name);
    CHECK(slide.mpp().mpp_x == doctest::Approx(0.5).epsilon(kMppTolerance));
    CHECK(slide.mpp().mpp_y == doctest::Approx(0.5).epsilon(kMppTolerance));
    const mgap::RgbImage read = slide.read_level_region(0, 0, 0, tile.width, tile.height);
    CHECK(read.pixels == tile.pixels);
  }
}

TEST_CASE("truncated and non-image files") {
  mgap::test::ScratchFolder scratch("mpp-bad-files");
  CHECK_THROWS_AS(Slide(scratch / "missing.tif"), InputError);

  {
    std::ofstream text(scratch / "notes.tif");
    text << "not an image\n";
  }
  CHECK_THROWS_AS(Slide(scratch / "notes.tif"), InputError);

  // A PNG cut in half fails at open, because libvips images are decoded when opened.
  mgap::write_png(test_pattern(128, 128), scratch / "whole.png", 0.5);
  const auto png_size = std::filesystem::file_size(scratch / "whole.png");
  std::filesystem::copy_file(scratch / "whole.png", scratch / "half.png");
  std::filesystem::resize_file(scratch / "half.png", png_size / 2);
  CHECK_THROWS_AS(Slide(scratch / "half.png"), InputError);

  // A tiled TIFF cut short opens (its header is intact) and fails when the missing tiles are read.
  mgap::test::TestTiffOptions options;
  options.xres_px_per_mm = 2000.0;
  options.pyramid = false;
  mgap::test::write_test_tiff(test_pattern(256, 256), scratch / "whole.tif", options);
  const auto tiff_size = std::filesystem::file_size(scratch / "whole.tif");
  std::filesystem::copy_file(scratch / "whole.tif", scratch / "cut.tif");
  std::filesystem::resize_file(scratch / "cut.tif", tiff_size / 2);
  CHECK_THROWS_AS(
      {
        const Slide slide(scratch / "cut.tif");
        (void)slide.read_level_region(0, 0, 0, 256, 256);
      },
      InputError);
}
