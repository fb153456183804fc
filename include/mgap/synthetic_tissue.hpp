#pragma once

// Procedural H&E-like tissue whose classes differ at different scales, and the synthetic cohort
// that `mgap-dataset synth` writes.
//
// Generative model (all lengths in microns, converted with the slide's mpp):
// - Stain absorption follows Beer-Lambert: intensity = 255 * 10^-(h * H + e * E), with the
//   hematoxylin and eosin optical-density vectors of Ruifrok and Johnston ("Quantification of
//   histochemical staining by color deconvolution", Anal. Quant. Cytol. Histol. 23(4), 2001) and
//   concentration maps h and e.
// - Tissue covers a rounded rectangle with a wavy edge; glass around it is white.
// - Stroma: eosin concentration modulated by value noise at 40 um and 6 um; scattered stromal
//   nuclei.
// - Glands: centres on a jittered square lattice (class spacing), each kept with a class
//   probability. A gland is a white lumen inside a ring of pale epithelium lined with nuclei.
// - Nuclei: filled ellipses whose hematoxylin varies with value noise of the class's chromatin
//   grain and contrast.
// Classes differ in nuclear radius and chromatin (visible at 0.25-0.5 mpp) and in gland radius,
// spacing and density (visible at 1-2 mpp). Everything is a function of the seed.
//
// Complexity: O(width * height) per slide.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "mgap/image_io.hpp"
#include "mgap/rgb_image.hpp"

namespace mgap {

struct SyntheticClass {
  std::string name;
  double nucleus_radius_um = 3.0;
  double chromatin_grain_um = 0.5;    // correlation length of the nuclear texture
  double chromatin_contrast = 0.2;    // relative amplitude of the nuclear texture
  double gland_radius_um = 50.0;      // outer radius of the epithelial ring
  double gland_spacing_um = 150.0;    // lattice spacing of gland centres
  double gland_probability = 0.7;     // fraction of lattice sites with a gland
};

// The four classes: {fine, coarse} nuclei x {sparse large, dense small} glands.
const std::vector<SyntheticClass>& synthetic_classes();

struct SyntheticSlideOptions {
  int width_px = 4096;
  int height_px = 4096;
  double mpp = 0.25;
  int class_id = 0;
  std::uint64_t seed = 0;

  // Throws InputError for a size below 64 px, a non-positive mpp or an unknown class.
  void validate() const;
};

// Renders one slide. Returns [height_px, width_px, 3].
RgbImage render_synthetic_slide(const SyntheticSlideOptions& options);

// Margin of glass around the tissue, as a fraction of the slide side; regions for the benchmark
// are placed inside kSyntheticRegionMarginFraction.
inline constexpr double kSyntheticTissueMarginFraction = 0.03;
inline constexpr double kSyntheticRegionMarginFraction = 0.045;

struct SyntheticCohortOptions {
  std::filesystem::path output_dir;  // must not exist, or be empty
  int num_slides = 8;
  int slide_size_px = 4096;
  int region_size_px = 1792;  // 224 px at 2.0 mpp when the slide is at 0.25 mpp
  double mpp = 0.25;
  std::uint64_t seed = 0;
  TiffCompression compression = TiffCompression::kJpeg;
  int jpeg_quality = 90;

  void validate() const;
};

struct SyntheticSlideRecord {
  std::string slide_id;
  int label_id = 0;
  std::filesystem::path path;  // relative to the output folder
};

struct SyntheticRegionRecord {
  std::string slide_id;
  int label_id = 0;
  int x = 0;  // level-0 pixels of the top-left corner
  int y = 0;
  int size_px = 0;
  std::filesystem::path path;  // relative to the output folder
};

struct SyntheticCohortReport {
  std::vector<SyntheticSlideRecord> slides;
  std::vector<SyntheticRegionRecord> regions;
};

// Writes `slides/{slide_id}.tif`, `regions/{label_id}_{class}/{slide_id}_{x}_{y}.png`,
// `slides.csv` and `regions.csv` into a temporary sibling folder, and renames it to output_dir
// when complete.
// Slide i has class i mod (number of classes) and seed derive_seed(seed, i).
SyntheticCohortReport write_synthetic_cohort(const SyntheticCohortOptions& options);

}  // namespace mgap
