#include "mgap/mpp_resolution.hpp"

#include <spdlog/spdlog.h>

#include <charconv>
#include <cmath>
#include <string_view>

#include "mgap/error.hpp"

namespace mgap {
namespace {

// Microns per millimetre, per centimetre and per inch.
constexpr double kMicronsPerMillimetre = 1000.0;
constexpr double kMicronsPerCentimetre = 1.0e4;
constexpr double kMicronsPerInch = 25400.0;
// Relative tolerance for recognizing the 1 pixel-per-millimetre placeholder after unit conversion.
constexpr double kPlaceholderTolerance = 1e-9;
// Relative difference between an override and the file's metadata that earns a warning.
constexpr double kOverrideMismatch = 0.01;

std::optional<double> parse_number(const std::string& text) {
  std::string_view view(text);
  while (!view.empty() && (view.front() == ' ' || view.front() == '"')) view.remove_prefix(1);
  while (!view.empty() && (view.back() == ' ' || view.back() == '"')) view.remove_suffix(1);
  double value = 0.0;
  const auto [end, error] = std::from_chars(view.data(), view.data() + view.size(), value);
  if (error != std::errc() || end != view.data() + view.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

std::optional<double> find_number(const std::map<std::string, std::string>& properties,
                                  const std::string& key) {
  const auto found = properties.find(key);
  if (found == properties.end()) {
    return std::nullopt;
  }
  return parse_number(found->second);
}

bool is_plausible(double mpp) {
  return std::isfinite(mpp) && mpp >= kMinPlausibleMpp && mpp <= kMaxPlausibleMpp;
}

// Pair of per-axis values from two keys; a missing y key takes the x value.
std::optional<MppResolution> from_key_pair(const std::map<std::string, std::string>& properties,
                                           const std::string& key_x, const std::string& key_y,
                                           double microns_per_unit, MppSource source) {
  const auto x = find_number(properties, key_x);
  if (!x) {
    return std::nullopt;
  }
  const auto y = find_number(properties, key_y).value_or(*x);
  const double mpp_x = *x * microns_per_unit;
  const double mpp_y = y * microns_per_unit;
  if (!is_plausible(mpp_x) || !is_plausible(mpp_y)) {
    spdlog::debug("ignoring {}={} and {}={}: outside the plausible range [{}, {}] mpp", key_x,
                  mpp_x, key_y, mpp_y, kMinPlausibleMpp, kMaxPlausibleMpp);
    return std::nullopt;
  }
  return MppResolution{mpp_x, mpp_y, source, key_x};
}

std::optional<MppResolution> from_tiff_tags(const std::map<std::string, std::string>& properties) {
  const auto x = find_number(properties, "tiff.XResolution");
  if (!x) {
    return std::nullopt;
  }
  const auto y = find_number(properties, "tiff.YResolution").value_or(*x);
  const auto unit = properties.find("tiff.ResolutionUnit");
  const std::string unit_text = unit == properties.end() ? std::string() : unit->second;
  const auto mpp_x = mpp_from_tiff_resolution(*x, unit_text);
  const auto mpp_y = mpp_from_tiff_resolution(y, unit_text);
  if (!mpp_x || !mpp_y) {
    spdlog::debug("ignoring tiff.XResolution={} tiff.YResolution={} with unit '{}': no unit, "
                  "or a placeholder value",
                  *x, y, unit_text);
    return std::nullopt;
  }
  return MppResolution{*mpp_x, *mpp_y, MppSource::kTiffResolution, "tiff.XResolution"};
}

}  // namespace

std::string to_string(MppSource source) {
  switch (source) {
    case MppSource::kOpenSlideProperty:
      return "openslide-property";
    case MppSource::kTiffResolution:
      return "tiff-resolution";
    case MppSource::kVendorProperty:
      return "vendor-property";
    case MppSource::kUserOverride:
      return "user-override";
    case MppSource::kObjectivePower:
      return "objective-power";
  }
  return "unknown";
}

void MppResolutionOptions::validate() const {
  if (override_mpp && !(std::isfinite(*override_mpp) && *override_mpp > 0.0)) {
    throw InputError("invalid mpp override " + std::to_string(*override_mpp) +
                     "; give the pixel size in microns per pixel, a positive number such as 0.5");
  }
}

std::optional<double> mpp_from_tiff_resolution(double resolution, const std::string& unit) {
  if (!(std::isfinite(resolution) && resolution > 0.0)) {
    return std::nullopt;
  }
  double microns_per_unit = 0.0;
  if (unit == "centimeter" || unit == "cm") {
    microns_per_unit = kMicronsPerCentimetre;
  } else if (unit == "inch" || unit == "in") {
    microns_per_unit = kMicronsPerInch;
  } else {
    return std::nullopt;  // no unit: the value is a ratio, not a size
  }
  const double mpp = microns_per_unit / resolution;
  if (std::abs(mpp - kMicronsPerMillimetre) <= kPlaceholderTolerance * kMicronsPerMillimetre ||
      !is_plausible(mpp)) {
    return std::nullopt;
  }
  return mpp;
}

namespace {

std::optional<MppResolution> from_metadata(const std::map<std::string, std::string>& properties,
                                           std::vector<std::string>& tried) {
  tried.emplace_back("openslide.mpp-x/openslide.mpp-y");
  if (auto found = from_key_pair(properties, "openslide.mpp-x", "openslide.mpp-y", 1.0,
                                 MppSource::kOpenSlideProperty)) {
    return found;
  }

  tried.emplace_back("tiff.XResolution/tiff.YResolution with tiff.ResolutionUnit");
  if (auto found = from_tiff_tags(properties)) {
    return found;
  }

  // Vendor keys: Aperio and MIRAX store microns per pixel.
  tried.emplace_back("aperio.MPP");
  if (auto found = from_key_pair(properties, "aperio.MPP", "aperio.MPP", 1.0,
                                 MppSource::kVendorProperty)) {
    return found;
  }
  const std::string mirax = "mirax.LAYER_0_LEVEL_0_SECTION.MICROMETER_PER_PIXEL_";
  tried.push_back(mirax + "X/Y");
  return from_key_pair(properties, mirax + "X", mirax + "Y", 1.0, MppSource::kVendorProperty);
}

}  // namespace

MppResolution resolve_mpp(const std::map<std::string, std::string>& properties,
                          const MppResolutionOptions& options, const std::string& file_name) {
  options.validate();
  std::vector<std::string> tried;

  if (auto found = from_metadata(properties, tried)) {
    // Metadata measured by the scanner comes before the override, which only fills in files
    // without metadata. A disagreement earns a warning because one of the two is wrong.
    if (options.override_mpp &&
        std::abs(*options.override_mpp - found->mpp_x) > kOverrideMismatch * found->mpp_x) {
      spdlog::warn("{}: --mpp {} ignored because the file states {} mpp ({})", file_name,
                   *options.override_mpp, found->mpp_x, found->key);
    }
    return *found;
  }

  tried.emplace_back("--mpp override");
  if (options.override_mpp) {
    return MppResolution{*options.override_mpp, *options.override_mpp,
                         MppSource::kUserOverride, "--mpp"};
  }

  for (const char* key : {"openslide.objective-power", "aperio.AppMag"}) {
    tried.push_back(std::string(key) + (options.allow_objective_power
                                            ? std::string()
                                            : " (not allowed without the objective-power option)"));
    const auto power = find_number(properties, key);
    if (options.allow_objective_power && power && *power > 0.0) {
      const double mpp = 10.0 / *power;
      spdlog::warn("{}: pixel size {} mpp approximated from {}={}; objective power is not a "
                   "measurement of the pixel size",
                   file_name, mpp, key, *power);
      return MppResolution{mpp, mpp, MppSource::kObjectivePower, key};
    }
  }

  std::string message = "no pixel size (mpp) for '" + file_name + "': tried ";
  for (std::size_t i = 0; i < tried.size(); ++i) {
    message += (i == 0 ? "" : ", ") + tried[i];
  }
  message += "; give the pixel size with --slide-mpp (mgap-train, mgap-loop, mgap-dataset tiles), "
             "--input-mpp (mgap-dataset build) or --mpp (mgap-dataset info)";
  throw InputError(message);
}

}  // namespace mgap
