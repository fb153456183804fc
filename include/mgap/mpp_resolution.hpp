#pragma once

// Physical pixel size of a slide or image in microns per pixel (mpp), and the metadata key it
// came from.
//
// Resolution order (the first source that applies wins):
//   1. `openslide.mpp-x` / `openslide.mpp-y` (OpenSlide's normalized properties);
//   2. TIFF `XResolution` / `YResolution` with `ResolutionUnit`: centimetre gives 10^4 / res,
//      inch gives 25400 / res, and no unit (or a missing unit) means the value is unknown;
//   3. vendor keys (`aperio.MPP`, `hamamatsu.XResolution` with its unit, ...);
//   4. the user override (`--mpp`), which fills in a file without metadata (when the file states a
//      size, the file wins and a difference over 1% is logged as a warning);
//   5. objective power (`openslide.objective-power`, mpp ~ 10 / power), only when the caller
//      allows it explicitly, and logged as an approximation.
// A resolution of 1 pixel per millimetre (the value libvips and many writers store when nothing
// is known) and values outside [kMinPlausibleMpp, kMaxPlausibleMpp] are placeholders, not
// measurements, and are skipped. If nothing applies the result is an InputError that names the
// file and every key tried. 0.25 or 0.5 mpp is never assumed.

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mgap {

// Plausible range of a measured pixel size. Scanners image at 0.1-1 mpp and derived images at up
// to a few tens of mpp; 72 dpi (352.8 mpp), 96 dpi and 300 dpi (84.7 mpp) are software defaults.
inline constexpr double kMinPlausibleMpp = 0.01;
inline constexpr double kMaxPlausibleMpp = 50.0;

// Source of a pixel size.
enum class MppSource {
  kOpenSlideProperty,  // openslide.mpp-x / openslide.mpp-y
  kTiffResolution,     // TIFF XResolution / YResolution with a centimetre or inch unit
  kVendorProperty,     // a vendor key such as aperio.MPP
  kUserOverride,       // the caller's override
  kObjectivePower,     // 10 / objective power; an approximation
};

std::string to_string(MppSource source);

// Pixel size on both axes. Pixels need not be square.
struct MppResolution {
  double mpp_x = 0.0;
  double mpp_y = 0.0;
  MppSource source = MppSource::kOpenSlideProperty;
  std::string key;  // the property or option that gave the value, e.g. "tiff.XResolution"
};

struct MppResolutionOptions {
  // Pixel size to use when the file's metadata gives none (microns per pixel, > 0).
  std::optional<double> override_mpp;
  // Allows mpp = 10 / objective power as a last resort. Off by default because objective power
  // only approximates the pixel size (it depends on the camera and the optics).
  bool allow_objective_power = false;

  // Throws InputError for a non-finite or non-positive override.
  void validate() const;
};

// Resolves the pixel size from slide properties (OpenSlide's property names; libvips TIFF
// metadata is translated into the same `tiff.*` names by the caller). `file_name` appears in the
// error message. Throws InputError if no source applies.
MppResolution resolve_mpp(const std::map<std::string, std::string>& properties,
                          const MppResolutionOptions& options, const std::string& file_name);

// Microns per pixel from a TIFF resolution value and its unit ("centimeter"/"cm" or "inch"/"in").
// Returns nullopt for no unit, an unknown unit, a non-positive value or a placeholder.
std::optional<double> mpp_from_tiff_resolution(double resolution, const std::string& unit);

}  // namespace mgap
