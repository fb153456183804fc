// Procedural H&E-like tissue for training without slides: a deterministic function of position in
// microns, rendered at any mpp with 2 x 2 supersampling.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>

#include "mgap/error.hpp"
#include "mgap/train.hpp"

namespace mgap {

namespace {

constexpr int kNumSlides = 16;                  // independent tissue fields
constexpr double kSlideExtentMicrons = 8000.0;  // each field is 8 mm square
constexpr double kNucleusSpacingMicrons = 12.0;
constexpr double kNucleusMinRadiusMicrons = 2.5;
constexpr double kNucleusMaxRadiusMicrons = 3.5;
constexpr double kGlandSpacingMicrons = 120.0;
constexpr double kGlandMinRadiusMicrons = 35.0;
constexpr double kGlandMaxRadiusMicrons = 50.0;
constexpr double kLumenFraction = 0.6;          // lumen radius / gland radius
constexpr double kStromaNucleusProbability = 0.35;
constexpr int kSupersampling = 2;               // samples per pixel side

using Rgb = std::array<double, 3>;
constexpr Rgb kStroma = {0.93, 0.68, 0.80};
constexpr Rgb kLumen = {0.96, 0.94, 0.96};
constexpr Rgb kEpithelium = {0.80, 0.55, 0.75};
constexpr Rgb kNucleus = {0.33, 0.20, 0.52};

// Uniform double in [0, 1) from integer coordinates (SplitMix64 finalizer chain).
double hash01(std::uint64_t seed, std::int64_t a, std::int64_t b, std::uint64_t salt) {
  std::uint64_t h = derive_seed(seed, static_cast<std::uint64_t>(a));
  h = derive_seed(h, static_cast<std::uint64_t>(b));
  h = derive_seed(h, salt);
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}

class ProceduralTileSource final : public TrainingTileSource {
 public:
  explicit ProceduralTileSource(std::uint64_t seed) : seed_(seed) {}

  TrainingTile read_tile(double mpp, int tile_size, RandomEngine& engine) const override {
    if (!(mpp > 0.0) || !std::isfinite(mpp)) {
      throw InputError("invalid mpp " + std::to_string(mpp) + " for a procedural tile; use mpp > 0");
    }
    const auto slide = static_cast<std::int64_t>(uniform_index(engine, kNumSlides));
    const double field_microns = tile_size * mpp;
    const double x0 = uniform01(engine) * std::max(0.0, kSlideExtentMicrons - field_microns);
    const double y0 = uniform01(engine) * std::max(0.0, kSlideExtentMicrons - field_microns);
    return render(slide, x0, y0, mpp, tile_size);
  }

  std::string describe() const override {
    return "procedural tissue (seed " + std::to_string(seed_) + ")";
  }

  // Renders the square tile whose top-left corner is at (x0, y0) microns on `slide`.
  TrainingTile render(std::int64_t slide, double x0, double y0, double mpp, int tile_size) const {
    TrainingTile tile;
    tile.mpp = mpp;
    const auto plane = static_cast<std::size_t>(tile_size) * tile_size;
    tile.pixels.assign(3 * plane, 0.0F);
    const double stain_strength = 0.85 + 0.3 * hash01(seed_, slide, 0, 7);
    for (int row = 0; row < tile_size; ++row) {
      for (int column = 0; column < tile_size; ++column) {
        Rgb sum = {0.0, 0.0, 0.0};
        for (int sy = 0; sy < kSupersampling; ++sy) {
          for (int sx = 0; sx < kSupersampling; ++sx) {
            const double x = x0 + (column + (sx + 0.5) / kSupersampling) * mpp;
            const double y = y0 + (row + (sy + 0.5) / kSupersampling) * mpp;
            const Rgb colour = colour_at(slide, x, y, stain_strength);
            for (int channel = 0; channel < 3; ++channel) {
              sum[channel] += colour[channel];
            }
          }
        }
        const std::size_t offset = static_cast<std::size_t>(row) * tile_size + column;
        for (int channel = 0; channel < 3; ++channel) {
          tile.pixels[channel * plane + offset] =
              static_cast<float>(sum[channel] / (kSupersampling * kSupersampling));
        }
      }
    }
    return tile;
  }

 private:
  // Distance to the nearest gland centre divided by that gland's radius (> 1 outside glands).
  double gland_distance(std::int64_t slide, double x, double y) const {
    const auto cell_x = static_cast<std::int64_t>(std::floor(x / kGlandSpacingMicrons));
    const auto cell_y = static_cast<std::int64_t>(std::floor(y / kGlandSpacingMicrons));
    double best = 1e9;
    for (std::int64_t dy = -1; dy <= 1; ++dy) {
      for (std::int64_t dx = -1; dx <= 1; ++dx) {
        const std::int64_t gx = cell_x + dx;
        const std::int64_t gy = cell_y + dy;
        const std::int64_t key = slide * 1000003 + gx;
        const double cx = (gx + 0.2 + 0.6 * hash01(seed_, key, gy, 1)) * kGlandSpacingMicrons;
        const double cy = (gy + 0.2 + 0.6 * hash01(seed_, key, gy, 2)) * kGlandSpacingMicrons;
        const double radius = kGlandMinRadiusMicrons +
                              (kGlandMaxRadiusMicrons - kGlandMinRadiusMicrons) *
                                  hash01(seed_, key, gy, 3);
        best = std::min(best, std::hypot(x - cx, y - cy) / radius);
      }
    }
    return best;
  }

  bool inside_nucleus(std::int64_t slide, double x, double y, double nucleus_probability) const {
    const auto cell_x = static_cast<std::int64_t>(std::floor(x / kNucleusSpacingMicrons));
    const auto cell_y = static_cast<std::int64_t>(std::floor(y / kNucleusSpacingMicrons));
    for (std::int64_t dy = -1; dy <= 1; ++dy) {
      for (std::int64_t dx = -1; dx <= 1; ++dx) {
        const std::int64_t nx = cell_x + dx;
        const std::int64_t ny = cell_y + dy;
        const std::int64_t key = slide * 1000003 + nx;
        if (hash01(seed_, key, ny, 4) >= nucleus_probability) {
          continue;
        }
        const double cx = (nx + 0.5 + 0.5 * (hash01(seed_, key, ny, 5) - 0.5)) *
                          kNucleusSpacingMicrons;
        const double cy = (ny + 0.5 + 0.5 * (hash01(seed_, key, ny, 6) - 0.5)) *
                          kNucleusSpacingMicrons;
        const double radius = kNucleusMinRadiusMicrons +
                              (kNucleusMaxRadiusMicrons - kNucleusMinRadiusMicrons) *
                                  hash01(seed_, key, ny, 8);
        if (std::hypot(x - cx, y - cy) < radius) {
          return true;
        }
      }
    }
    return false;
  }

  Rgb colour_at(std::int64_t slide, double x, double y, double stain_strength) const {
    const double gland = gland_distance(slide, x, y);
    Rgb colour = kStroma;
    double nucleus_probability = kStromaNucleusProbability;
    if (gland < kLumenFraction) {
      colour = kLumen;
      nucleus_probability = 0.0;
    } else if (gland < 1.0) {
      colour = kEpithelium;
      nucleus_probability = 1.0;
    }
    if (nucleus_probability > 0.0 && inside_nucleus(slide, x, y, nucleus_probability)) {
      colour = kNucleus;
    }
    // Stain strength darkens each channel in optical density, as a thicker section would.
    for (double& channel : colour) {
      channel = std::pow(channel, stain_strength);
    }
    return colour;
  }

  std::uint64_t seed_;
};

}  // namespace

std::unique_ptr<TrainingTileSource> make_procedural_tile_source(std::uint64_t seed) {
  return std::make_unique<ProceduralTileSource>(seed);
}

}  // namespace mgap
