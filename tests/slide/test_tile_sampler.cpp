#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "mgap/density.hpp"
#include "mgap/error.hpp"
#include "mgap/image_io.hpp"
#include "mgap/region_reader.hpp"
#include "mgap/synthetic_tissue.hpp"
#include "mgap/tile_sampler.hpp"
#include "mgap/tissue_mask.hpp"
#include "slide_test_support.hpp"

namespace {

using mgap::Slide;
using mgap::TileSampler;
using mgap::TileSamplerOptions;

// Kolmogorov-Smirnov critical value at significance 0.001 for large n: 1.95 / sqrt(n).
constexpr double kKolmogorovSmirnovCoefficient = 1.95;

// Two synthetic slides at 0.25 mpp, written once for all sampler tests.
const std::vector<std::filesystem::path>& sampler_slides() {
  static mgap::test::ScratchFolder scratch("sampler-slides");
  static const std::vector<std::filesystem::path> paths = []() {
    std::vector<std::filesystem::path> result;
    for (int index = 0; index < 2; ++index) {
      mgap::SyntheticSlideOptions options;
      options.width_px = 1024;
      options.height_px = 768;
      options.class_id = 3 * index;
      options.seed = 100 + index;
      const auto path = scratch / ("slide" + std::to_string(index) + ".tif");
      mgap::write_pyramidal_tiff(mgap::render_synthetic_slide(options), path, {});
      result.push_back(path);
    }
    return result;
  }();
  return paths;
}

std::vector<mgap::Tile> draw(const mgap::SamplingDensity& density, int num_threads,
                             std::uint64_t seed, int count, int tile_size_px = 32) {
  TileSamplerOptions options;
  options.num_threads = num_threads;
  options.seed = seed;
  options.num_tiles = count;
  options.tile_size_px = tile_size_px;
  options.queue_capacity = 8;
  TileSampler sampler(sampler_slides(), density, options);
  std::vector<mgap::Tile> tiles;
  while (auto tile = sampler.next()) {
    tiles.push_back(std::move(*tile));
  }
  return tiles;
}

mgap::SamplingDensity log_uniform() {
  return mgap::make_continuous_uniform(mgap::MppDomain{}, mgap::Coordinate::kLog2Mpp, 16);
}

}  // namespace

TEST_CASE("Otsu threshold of two modes") {
  std::vector<std::int64_t> histogram(256, 0);
  histogram[20] = 500;
  histogram[200] = 300;
  const int threshold = mgap::otsu_threshold(histogram);
  CHECK(threshold > 20);
  CHECK(threshold <= 200);
  CHECK_THROWS_AS(mgap::otsu_threshold(std::vector<std::int64_t>(10, 0)), mgap::InputError);
}

TEST_CASE("tissue mask separates glass") {
  const Slide slide(sampler_slides()[0]);
  const mgap::TissueMask mask = mgap::compute_tissue_mask(slide);
  CHECK(mask.tissue_fraction() > 0.5);
  CHECK(mask.tissue_fraction() < 0.97);
  CHECK(mask.contains(512, 384));        // stroma near the centre of the tissue
  CHECK_FALSE(mask.contains(3, 3));      // glass in the margin
  CHECK_FALSE(mask.contains(-10, 100));  // outside the slide

  // A blank slide has no tissue, and sampling from it is an input error.
  mgap::test::ScratchFolder scratch("mask-blank");
  mgap::write_png(mgap::RgbImage(200, 200), scratch / "blank.png", 0.5);
  const mgap::TissueMask blank = mgap::compute_tissue_mask(Slide(scratch / "blank.png"));
  CHECK(blank.tissue_indices.empty());
  mgap::RandomEngine engine(1);
  CHECK_THROWS_AS(mgap::sample_tissue_point(blank, engine), mgap::InputError);
}

TEST_CASE("same seed same stream") {
  const auto density = log_uniform();
  const auto one_thread = draw(density, 1, 42, 40);
  const auto three_threads = draw(density, 3, 42, 40);
  REQUIRE(one_thread.size() == 40);
  REQUIRE(three_threads.size() == 40);
  for (std::size_t i = 0; i < one_thread.size(); ++i) {
    CAPTURE(i);
    CHECK(three_threads[i].index == static_cast<std::int64_t>(i));
    CHECK(one_thread[i].mpp == three_threads[i].mpp);
    CHECK(one_thread[i].slide_index == three_threads[i].slide_index);
    CHECK(one_thread[i].x == three_threads[i].x);
    CHECK(one_thread[i].y == three_threads[i].y);
    CHECK(one_thread[i].image.pixels == three_threads[i].image.pixels);
  }
  const auto other_seed = draw(density, 2, 43, 40);
  int same_mpp = 0;
  for (std::size_t i = 0; i < other_seed.size(); ++i) {
    same_mpp += other_seed[i].mpp == one_thread[i].mpp ? 1 : 0;
  }
  CHECK(same_mpp == 0);
}

TEST_CASE("sampled mpps follow the density") {
  // Tiles of 8 px keep the 1,200 reads cheap; the mpp draw does not depend on the tile size.
  const auto density = log_uniform();
  const auto tiles = draw(density, 2, 7, 1200, 8);
  std::vector<double> mpps;
  for (const auto& tile : tiles) mpps.push_back(tile.mpp);
  std::sort(mpps.begin(), mpps.end());
  const double n = static_cast<double>(mpps.size());
  double statistic = 0.0;
  for (std::size_t i = 0; i < mpps.size(); ++i) {
    const double cdf = density.cdf(mpps[i]);
    statistic = std::max({statistic, std::abs(cdf - i / n), std::abs((i + 1) / n - cdf)});
  }
  CHECK(statistic < kKolmogorovSmirnovCoefficient / std::sqrt(n));
  CHECK(mpps.front() >= 0.25);
  CHECK(mpps.back() <= 2.0);
}

TEST_CASE("tile centres lie in tissue") {
  // Discrete uniform: every tile at one of the four standard mpps.
  const auto density = mgap::make_discrete_uniform(mgap::MppDomain{}, mgap::Coordinate::kLog2Mpp);
  TileSamplerOptions options;
  options.num_threads = 2;
  options.seed = 5;
  options.num_tiles = 200;
  options.tile_size_px = 16;
  TileSampler sampler(sampler_slides(), density, options);
  int count = 0;
  while (auto tile = sampler.next()) {
    ++count;
    CHECK(sampler.tissue_mask(tile->slide_index).contains(tile->x, tile->y));
    CHECK(mgap::is_standard_mpp(tile->mpp));
    CHECK(tile->image.width == 16);
    CHECK(tile->image.height == 16);
  }
  CHECK(count == 200);
  CHECK_FALSE(sampler.next().has_value());
}

TEST_CASE("sampler rejects invalid options") {
  TileSamplerOptions options;
  options.num_threads = 0;
  CHECK_THROWS_AS(TileSampler(sampler_slides(), log_uniform(), options), mgap::InputError);
  options.num_threads = 1;
  CHECK_THROWS_AS(TileSampler({}, log_uniform(), options), mgap::InputError);
}

TEST_CASE("real tissue through OpenSlide") {
  const auto path = std::filesystem::path(MGAP_DATA_DIR) / "real" / "ihc.tif";
  REQUIRE_MESSAGE(std::filesystem::exists(path), "run scripts/fetch_real_tissue.sh");
  const Slide slide(path);
  CHECK(slide.backend() == mgap::SlideBackend::kOpenSlide);
  CHECK(slide.mpp().mpp_x == doctest::Approx(0.5).epsilon(1e-9));
  CHECK(slide.mpp().source == mgap::MppSource::kTiffResolution);
  // Brown epithelium is saturated; the pale blue stroma partly falls below Otsu's threshold.
  const mgap::TissueMask mask = mgap::compute_tissue_mask(slide);
  CHECK(mask.tissue_fraction() > 0.3);
  CHECK(mask.tissue_fraction() < 0.95);

  for (const double mpp : mgap::test_mpps()) {
    CAPTURE(mpp);
    mgap::RegionRequest request;
    request.center_x = 256;
    request.center_y = 256;
    request.target_mpp = mpp;
    request.width_px = 64;
    request.height_px = 64;
    const mgap::Region region = mgap::read_region(slide, request);
    CHECK(region.upsampled == (mpp < 0.5));
    const double half_level_pixel = 0.5 * slide.levels()[region.level].downsample_x;
    CHECK(std::abs(region.width - 64 * mpp / 0.5) <= half_level_pixel);
    // Stained tissue, not padding: the tile is not white.
    double mean = 0.0;
    for (const auto value : region.image.pixels) mean += value;
    mean /= static_cast<double>(region.image.pixels.size());
    CHECK(mean < 230.0);
  }
}
