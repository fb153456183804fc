#pragma once

// A reproducible stream of tiles at mpps drawn from a sampling density (the magnification
// sampler of training).
//
// Tile i is a pure function of (seed, i). Its engine is seeded with derive_seed(seed, i) and
// draws, in this order, the mpp (inverse CDF of the density), the slide (uniform over slides) and
// the centre (uniform over the slide's tissue mask). Worker threads produce tiles concurrently
// and a reorder buffer delivers them in index order, so the stream is the same for every thread
// count. At most queue_capacity tiles are produced ahead of the consumer.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include "mgap/density.hpp"
#include "mgap/rgb_image.hpp"
#include "mgap/slide.hpp"
#include "mgap/tissue_mask.hpp"

namespace mgap {

struct Tile {
  std::int64_t index = 0;  // position in the stream
  RgbImage image;          // [tile_size_px, tile_size_px, 3]
  double mpp = 0.0;        // microns per pixel of `image`
  int slide_index = 0;     // into the slide list
  double x = 0.0;          // tile centre, level-0 pixels
  double y = 0.0;
  int level = 0;           // pyramid level read
};

struct TileSamplerOptions {
  int tile_size_px = 224;
  int num_threads = 2;
  int queue_capacity = 64;       // tiles produced ahead of the consumer
  std::int64_t num_tiles = 0;    // length of the stream; 0 for an endless stream
  std::uint64_t seed = 0;
  SlideOpenOptions slide;

  // Throws InputError for a non-positive tile size, thread count or capacity, or a negative
  // number of tiles.
  void validate() const;
};

class TileSampler {
 public:
  // Opens the slides and computes their tissue masks, then starts the workers. Throws InputError
  // for an empty slide list, a slide that cannot be opened, or a slide without tissue.
  TileSampler(const std::vector<std::filesystem::path>& slide_paths, SamplingDensity density,
              const TileSamplerOptions& options);
  ~TileSampler();  // stops and joins the workers
  TileSampler(const TileSampler&) = delete;
  TileSampler& operator=(const TileSampler&) = delete;

  // Returns the next tile, or nullopt after num_tiles tiles. Rethrows the exception of a worker
  // that failed on this tile.
  std::optional<Tile> next();

  int num_slides() const;
  const Slide& slide(int index) const;
  const TissueMask& tissue_mask(int index) const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Draws options.num_tiles tiles (must be positive) and writes them as `tiles/{index}.png` (six
// digits, each with its mpp in the pHYs chunk) and `tiles.csv` with columns
// index,slide,mpp,x,y,level,path, through a staging folder renamed to output_dir when complete.
// output_dir must not exist or must be empty.
void write_sampled_tiles(const std::vector<std::filesystem::path>& slide_paths,
                         SamplingDensity density, const TileSamplerOptions& options,
                         const std::filesystem::path& output_dir);

}  // namespace mgap
