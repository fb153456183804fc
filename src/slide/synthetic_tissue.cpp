#include "mgap/synthetic_tissue.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include "mgap/error.hpp"
#include "mgap/random.hpp"

namespace mgap {
namespace {

// Optical density per unit concentration (log10), Ruifrok and Johnston 2001, rows R, G, B.
constexpr std::array<double, 3> kHematoxylinDensity{0.65, 0.70, 0.29};
constexpr std::array<double, 3> kEosinDensity{0.07, 0.99, 0.11};

// Eosin concentrations: stroma mean and the amplitudes of its coarse and fine modulation, pale
// epithelial cytoplasm, and the faint lumen content.
constexpr double kStromaEosin = 0.38;
constexpr double kStromaCoarseAmplitude = 0.14;
constexpr double kStromaFineAmplitude = 0.10;
constexpr double kStromaCoarseCellUm = 40.0;
constexpr double kStromaFineCellUm = 6.0;
constexpr double kEpitheliumEosin = 0.22;
constexpr double kLumenEosin = 0.02;
// Lumen radius as a fraction of the gland's outer radius.
constexpr double kLumenFraction = 0.5;
// Mean hematoxylin inside a nucleus.
constexpr double kNucleusHematoxylin = 0.95;
// One stromal nucleus per this area, in square microns.
constexpr double kStromalNucleusAreaUm2 = 900.0;
// Stromal nuclei are smaller than epithelial ones by this factor.
constexpr double kStromalNucleusScale = 0.8;
// Epithelial nuclei sit this many nuclear diameters apart along the ring.
constexpr double kEpithelialNucleusSpacing = 1.15;
// Wavy tissue edge: amplitude (fraction of the side) and wavelength (microns).
constexpr double kEdgeWobbleFraction = 0.01;
constexpr double kEdgeWobbleCellUm = 120.0;
// Sensor noise: uniform in +-kSensorNoise grey levels.
constexpr int kSensorNoise = 3;

std::uint64_t mix(std::uint64_t value) {
  value += 0x9e3779b97f4a7c15ULL;
  value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9ULL;
  value = (value ^ (value >> 27)) * 0x94d049bb133111ebULL;
  return value ^ (value >> 31);
}

// Value noise in [0, 1]: hashed lattice values at a given cell size, interpolated with smoothstep.
class ValueNoise {
 public:
  ValueNoise(std::uint64_t seed, double cell_px) : seed_(seed), inverse_cell_(1.0 / cell_px) {}

  double operator()(double x, double y) const {
    const double u = x * inverse_cell_;
    const double v = y * inverse_cell_;
    const double iu = std::floor(u);
    const double iv = std::floor(v);
    const double fu = smooth(u - iu);
    const double fv = smooth(v - iv);
    const auto i = static_cast<std::int64_t>(iu);
    const auto j = static_cast<std::int64_t>(iv);
    const double top = lattice(i, j) + fu * (lattice(i + 1, j) - lattice(i, j));
    const double bottom = lattice(i, j + 1) + fu * (lattice(i + 1, j + 1) - lattice(i, j + 1));
    return top + fv * (bottom - top);
  }

 private:
  static double smooth(double t) { return t * t * (3.0 - 2.0 * t); }
  double lattice(std::int64_t i, std::int64_t j) const {
    const std::uint64_t hash =
        mix(seed_ ^ mix(static_cast<std::uint64_t>(i) * 0x100000001b3ULL + static_cast<std::uint64_t>(j)));
    return static_cast<double>(hash >> 11) * 0x1.0p-53;
  }

  std::uint64_t seed_;
  double inverse_cell_;
};

struct Canvas {
  int width = 0;
  int height = 0;
  std::vector<float> hematoxylin;  // [height, width]
  std::vector<float> eosin;        // [height, width]
  std::vector<std::uint8_t> in_tissue;  // [height, width]

  std::size_t index(int x, int y) const { return static_cast<std::size_t>(y) * width + x; }
};

// Coverage of a pixel by a disc edge at signed distance `distance` (pixels, negative inside).
double edge_coverage(double distance) { return std::clamp(0.5 - distance, 0.0, 1.0); }

void paint_stroma(Canvas& canvas, double um_per_px, std::uint64_t seed) {
  const ValueNoise coarse(derive_seed(seed, 1), kStromaCoarseCellUm / um_per_px);
  const ValueNoise fine(derive_seed(seed, 2), kStromaFineCellUm / um_per_px);
  const ValueNoise edge(derive_seed(seed, 3), kEdgeWobbleCellUm / um_per_px);
  const double side = std::min(canvas.width, canvas.height);
  const double margin = kSyntheticTissueMarginFraction * side;
  const double corner = 0.1 * side;  // radius of the rounded corners
  const double wobble = kEdgeWobbleFraction * side;
  const double half_width = 0.5 * canvas.width - margin;
  const double half_height = 0.5 * canvas.height - margin;
  for (int y = 0; y < canvas.height; ++y) {
    for (int x = 0; x < canvas.width; ++x) {
      // Signed distance to a rounded rectangle, moved in and out by low-frequency noise.
      const double dx = std::abs(x + 0.5 - 0.5 * canvas.width) - (half_width - corner);
      const double dy = std::abs(y + 0.5 - 0.5 * canvas.height) - (half_height - corner);
      const double outside = std::hypot(std::max(dx, 0.0), std::max(dy, 0.0));
      const double distance = outside + std::min(std::max(dx, dy), 0.0) - corner +
                              wobble * (2.0 * edge(x, y) - 1.0);
      const double coverage = edge_coverage(distance);
      const std::size_t i = canvas.index(x, y);
      canvas.in_tissue[i] = distance < -0.5 ? 1 : 0;
      const double concentration = kStromaEosin +
                                   kStromaCoarseAmplitude * (2.0 * coarse(x, y) - 1.0) +
                                   kStromaFineAmplitude * (2.0 * fine(x, y) - 1.0);
      canvas.eosin[i] = static_cast<float>(coverage * std::max(concentration, 0.0));
    }
  }
}

// A gland: lumen and epithelium replace the stroma's eosin.
void paint_gland(Canvas& canvas, double center_x, double center_y, double radius_px) {
  const double lumen_px = kLumenFraction * radius_px;
  const int left = std::max(0, static_cast<int>(center_x - radius_px - 1));
  const int right = std::min(canvas.width - 1, static_cast<int>(center_x + radius_px + 1));
  const int top = std::max(0, static_cast<int>(center_y - radius_px - 1));
  const int bottom = std::min(canvas.height - 1, static_cast<int>(center_y + radius_px + 1));
  for (int y = top; y <= bottom; ++y) {
    for (int x = left; x <= right; ++x) {
      const double r = std::hypot(x + 0.5 - center_x, y + 0.5 - center_y);
      const double in_gland = edge_coverage(r - radius_px);
      if (in_gland <= 0.0) {
        continue;
      }
      const double in_lumen = edge_coverage(r - lumen_px);
      const double gland_eosin = in_lumen * kLumenEosin + (1.0 - in_lumen) * kEpitheliumEosin;
      float& eosin = canvas.eosin[canvas.index(x, y)];
      eosin = static_cast<float>(in_gland * gland_eosin + (1.0 - in_gland) * eosin);
    }
  }
}

struct Nucleus {
  double center_x = 0.0;
  double center_y = 0.0;
  double radius_px = 0.0;  // semi-minor axis
  double aspect = 1.0;     // semi-major / semi-minor
  double angle = 0.0;
};

void paint_nucleus(Canvas& canvas, const Nucleus& nucleus, const ValueNoise& chromatin,
                   double contrast) {
  const double major = nucleus.radius_px * nucleus.aspect;
  const double cos_angle = std::cos(nucleus.angle);
  const double sin_angle = std::sin(nucleus.angle);
  const int left = std::max(0, static_cast<int>(nucleus.center_x - major - 1));
  const int right = std::min(canvas.width - 1, static_cast<int>(nucleus.center_x + major + 1));
  const int top = std::max(0, static_cast<int>(nucleus.center_y - major - 1));
  const int bottom = std::min(canvas.height - 1, static_cast<int>(nucleus.center_y + major + 1));
  for (int y = top; y <= bottom; ++y) {
    for (int x = left; x <= right; ++x) {
      const double dx = x + 0.5 - nucleus.center_x;
      const double dy = y + 0.5 - nucleus.center_y;
      const double along = (dx * cos_angle + dy * sin_angle) / nucleus.aspect;
      const double across = -dx * sin_angle + dy * cos_angle;
      const double coverage = edge_coverage(std::hypot(along, across) - nucleus.radius_px);
      if (coverage <= 0.0) {
        continue;
      }
      const double texture = 1.0 + contrast * (2.0 * chromatin(x, y) - 1.0);
      const double value = coverage * kNucleusHematoxylin * texture;
      float& hematoxylin = canvas.hematoxylin[canvas.index(x, y)];
      hematoxylin = std::max(hematoxylin, static_cast<float>(value));
    }
  }
}

double draw_aspect(RandomEngine& engine) { return 1.0 + 0.5 * uniform01(engine); }
double draw_angle(RandomEngine& engine) { return 3.141592653589793 * uniform01(engine); }

void paint_glands_and_nuclei(Canvas& canvas, const SyntheticClass& tissue_class,
                             double um_per_px, std::uint64_t seed) {
  RandomEngine engine(derive_seed(seed, 4));
  const ValueNoise chromatin(derive_seed(seed, 5), tissue_class.chromatin_grain_um / um_per_px);
  const double nucleus_px = tissue_class.nucleus_radius_um / um_per_px;
  const double gland_px = tissue_class.gland_radius_um / um_per_px;
  const double spacing_px = tissue_class.gland_spacing_um / um_per_px;
  auto inside = [&canvas](double x, double y) {
    const int column = static_cast<int>(x);
    const int row = static_cast<int>(y);
    return column >= 0 && row >= 0 && column < canvas.width && row < canvas.height &&
           canvas.in_tissue[canvas.index(column, row)] != 0;
  };

  // Glands on a jittered lattice; the jitter keeps neighbouring glands from touching.
  std::vector<Nucleus> nuclei;
  const double jitter = std::max(0.0, 0.5 * (spacing_px - 2.2 * gland_px));
  for (double lattice_y = 0.5 * spacing_px; lattice_y < canvas.height; lattice_y += spacing_px) {
    for (double lattice_x = 0.5 * spacing_px; lattice_x < canvas.width;
         lattice_x += spacing_px) {
      const double keep = uniform01(engine);
      const double x = lattice_x + jitter * (2.0 * uniform01(engine) - 1.0);
      const double y = lattice_y + jitter * (2.0 * uniform01(engine) - 1.0);
      if (keep >= tissue_class.gland_probability || !inside(x, y)) {
        continue;
      }
      paint_gland(canvas, x, y, gland_px);
      // Epithelial nuclei around the ring, midway between lumen and outer edge.
      const double ring_px = 0.5 * (1.0 + kLumenFraction) * gland_px;
      const double circumference = 2.0 * 3.141592653589793 * ring_px;
      const int count = std::max(
          6, static_cast<int>(circumference / (2.0 * nucleus_px * kEpithelialNucleusSpacing)));
      const double phase = 2.0 * 3.141592653589793 * uniform01(engine);
      for (int k = 0; k < count; ++k) {
        const double theta = phase + 2.0 * 3.141592653589793 * k / count;
        Nucleus nucleus;
        nucleus.center_x = x + ring_px * std::cos(theta);
        nucleus.center_y = y + ring_px * std::sin(theta);
        nucleus.radius_px = nucleus_px * (0.9 + 0.2 * uniform01(engine));
        nucleus.aspect = draw_aspect(engine);
        nucleus.angle = theta + 0.5 * 3.141592653589793;  // long axis along the ring
        nuclei.push_back(nucleus);
      }
    }
  }

  // Stromal nuclei, uniform over the slide and kept where there is tissue.
  const double area_um2 = canvas.width * um_per_px * canvas.height * um_per_px;
  const auto stromal_count = static_cast<std::int64_t>(area_um2 / kStromalNucleusAreaUm2);
  for (std::int64_t k = 0; k < stromal_count; ++k) {
    Nucleus nucleus;
    nucleus.center_x = uniform01(engine) * canvas.width;
    nucleus.center_y = uniform01(engine) * canvas.height;
    nucleus.radius_px = kStromalNucleusScale * nucleus_px * (0.8 + 0.4 * uniform01(engine));
    nucleus.aspect = draw_aspect(engine) + 0.5;
    nucleus.angle = draw_angle(engine);
    if (inside(nucleus.center_x, nucleus.center_y) &&
        canvas.eosin[canvas.index(static_cast<int>(nucleus.center_x),
                                  static_cast<int>(nucleus.center_y))] > kEpitheliumEosin) {
      nuclei.push_back(nucleus);
    }
  }
  for (const Nucleus& nucleus : nuclei) {
    paint_nucleus(canvas, nucleus, chromatin, tissue_class.chromatin_contrast);
  }
}

RgbImage compose(const Canvas& canvas, std::uint64_t seed) {
  RgbImage image(canvas.width, canvas.height);
  for (int y = 0; y < canvas.height; ++y) {
    for (int x = 0; x < canvas.width; ++x) {
      const std::size_t i = canvas.index(x, y);
      const std::uint64_t noise = mix(seed ^ mix(i));
      std::uint8_t* pixel = image.pixel(x, y);
      for (int channel = 0; channel < 3; ++channel) {
        const double density = canvas.hematoxylin[i] * kHematoxylinDensity[channel] +
                               canvas.eosin[i] * kEosinDensity[channel];
        const int offset =
            static_cast<int>((noise >> (16 * channel)) % (2 * kSensorNoise + 1)) - kSensorNoise;
        const double value = 255.0 * std::pow(10.0, -density) + offset;
        pixel[channel] = static_cast<std::uint8_t>(std::clamp(std::lround(value), 0L, 255L));
      }
    }
  }
  return image;
}

}  // namespace

const std::vector<SyntheticClass>& synthetic_classes() {
  // Fine nuclei: small, with faint fine chromatin; coarse nuclei: large, with clumped chromatin.
  // Sparse glands: large and far apart; dense glands: small and packed.
  static const std::vector<SyntheticClass> classes = {
      {"fine-sparse", 2.5, 0.4, 0.15, 60.0, 190.0, 0.55},
      {"coarse-sparse", 4.0, 1.2, 0.6, 60.0, 190.0, 0.55},
      {"fine-dense", 2.5, 0.4, 0.15, 28.0, 75.0, 0.9},
      {"coarse-dense", 4.0, 1.2, 0.6, 28.0, 75.0, 0.9},
  };
  return classes;
}

void SyntheticSlideOptions::validate() const {
  constexpr int kMinSide = 64;
  if (width_px < kMinSide || height_px < kMinSide) {
    throw InputError("invalid synthetic slide size " + std::to_string(width_px) + " x " +
                     std::to_string(height_px) + " px; use at least " +
                     std::to_string(kMinSide) + " px per side");
  }
  if (!(std::isfinite(mpp) && mpp > 0.0)) {
    throw InputError("invalid synthetic slide mpp " + std::to_string(mpp) +
                     "; use a positive pixel size such as 0.25");
  }
  const int num_classes = static_cast<int>(synthetic_classes().size());
  if (class_id < 0 || class_id >= num_classes) {
    throw InputError("unknown synthetic class " + std::to_string(class_id) + "; use 0 to " +
                     std::to_string(num_classes - 1));
  }
}

RgbImage render_synthetic_slide(const SyntheticSlideOptions& options) {
  options.validate();
  Canvas canvas;
  canvas.width = options.width_px;
  canvas.height = options.height_px;
  const std::size_t size = static_cast<std::size_t>(canvas.width) * canvas.height;
  canvas.hematoxylin.assign(size, 0.0f);
  canvas.eosin.assign(size, 0.0f);
  canvas.in_tissue.assign(size, 0);
  paint_stroma(canvas, options.mpp, options.seed);
  paint_glands_and_nuclei(canvas, synthetic_classes()[options.class_id], options.mpp,
                          options.seed);
  return compose(canvas, derive_seed(options.seed, 6));
}

}  // namespace mgap
