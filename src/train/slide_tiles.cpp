// Training tiles read from slides and images at any mpp, with the slide module's region reader.

#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <vector>

#include "mgap/error.hpp"
#include "mgap/region_reader.hpp"
#include "mgap/slide.hpp"
#include "mgap/tissue_mask.hpp"
#include "mgap/train.hpp"

namespace mgap {

namespace {

class SlideTileSource final : public TrainingTileSource {
 public:
  SlideTileSource(const std::vector<std::filesystem::path>& paths, const SlideOpenOptions& options) {
    if (paths.empty()) {
      throw InputError("no slides given; pass --slides with image or slide files, or a folder");
    }
    for (const std::filesystem::path& path : paths) {
      Slide slide(path, options);
      TissueMask mask = compute_tissue_mask(slide);
      if (mask.tissue_indices.empty()) {
        throw InputError("slide '" + path.string() +
                         "' has no tissue in its mask; remove it from --slides");
      }
      spdlog::info("slide {}: {} x {} px at {:.4g} mpp, {:.1f}% tissue", path.string(),
                   slide.width(), slide.height(), slide.mpp().mpp_x,
                   100.0 * mask.tissue_fraction());
      slides_.push_back(std::move(slide));
      masks_.push_back(std::move(mask));
    }
  }

  // Draws the slide, then a centre uniform over its tissue mask, in the order the slide module's
  // TileSampler uses, so the same engine state gives the same region.
  TrainingTile read_tile(double mpp, int tile_size, RandomEngine& engine) const override {
    const auto slide_index = static_cast<std::size_t>(uniform_index(engine, slides_.size()));
    const Point2d centre = sample_tissue_point(masks_[slide_index], engine);
    RegionRequest request;
    request.center_x = centre.x;
    request.center_y = centre.y;
    request.target_mpp = mpp;
    request.width_px = tile_size;
    request.height_px = tile_size;
    const Region region = read_region(slides_[slide_index], request);

    TrainingTile tile;
    tile.mpp = mpp;
    const auto plane = static_cast<std::size_t>(tile_size) * tile_size;
    tile.pixels.resize(3 * plane);
    for (std::size_t pixel = 0; pixel < plane; ++pixel) {
      for (std::size_t channel = 0; channel < 3; ++channel) {
        tile.pixels[channel * plane + pixel] =
            static_cast<float>(region.image.pixels[3 * pixel + channel]) / 255.0F;
      }
    }
    return tile;
  }

  std::string describe() const override {
    return std::to_string(slides_.size()) + " slide(s), first " + slides_.front().path().string();
  }

 private:
  std::vector<Slide> slides_;
  std::vector<TissueMask> masks_;
};

}  // namespace

std::unique_ptr<TrainingTileSource> make_slide_tile_source(
    const std::vector<std::filesystem::path>& paths, const SlideOpenOptions& options) {
  return std::make_unique<SlideTileSource>(paths, options);
}

}  // namespace mgap
