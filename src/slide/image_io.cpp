#include <spdlog/spdlog.h>

#include <atomic>
#include <cmath>
#include <system_error>
#include <unistd.h>

#include "mgap/error.hpp"
#include "mgap/image_io.hpp"
#include "vips_support.hpp"

namespace mgap {
namespace {

// Microns per millimetre: libvips takes resolutions in pixels per millimetre.
constexpr double kMicronsPerMillimetre = 1000.0;

// A temporary name next to `path` that keeps its extension, so libvips picks the right saver.
std::filesystem::path temporary_sibling(const std::filesystem::path& path) {
  static std::atomic<std::uint64_t> counter{0};
  std::filesystem::path result = path;
  result.replace_filename("." + path.stem().string() + ".tmp-" + std::to_string(::getpid()) +
                          "-" + std::to_string(counter++) + path.extension().string());
  return result;
}

template <typename Save>
void save_atomically(const std::filesystem::path& path, Save save) {
  if (!std::filesystem::is_directory(path.parent_path().empty() ? "." : path.parent_path())) {
    throw InputError("output folder of '" + path.string() + "' does not exist; create it first");
  }
  const std::filesystem::path temporary = temporary_sibling(path);
  try {
    save(temporary);
    std::filesystem::rename(temporary, path);
  } catch (const vips::VError& error) {
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
    throw InputError("failed to write '" + path.string() + "': " + detail::vips_message(error));
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
    throw;
  }
}

vips::VImage with_resolution(const RgbImage& image, double mpp) {
  if (!(std::isfinite(mpp) && mpp > 0.0)) {
    throw InputError("invalid mpp " + std::to_string(mpp) + " for an output image; use a "
                     "positive pixel size in microns per pixel");
  }
  const double pixels_per_mm = kMicronsPerMillimetre / mpp;
  return detail::wrap_rgb(image).copy(
      vips::VImage::option()->set("xres", pixels_per_mm)->set("yres", pixels_per_mm));
}

}  // namespace

std::string to_string(TiffCompression compression) {
  switch (compression) {
    case TiffCompression::kJpeg:
      return "jpeg";
    case TiffCompression::kDeflate:
      return "deflate";
    case TiffCompression::kNone:
      return "none";
  }
  return "none";
}

TiffCompression tiff_compression_from_string(const std::string& text) {
  for (const auto compression :
       {TiffCompression::kJpeg, TiffCompression::kDeflate, TiffCompression::kNone}) {
    if (text == to_string(compression)) {
      return compression;
    }
  }
  throw InputError("unknown TIFF compression '" + text + "'; use jpeg, deflate or none");
}

void write_pyramidal_tiff(const RgbImage& image, const std::filesystem::path& path,
                          const PyramidalTiffOptions& options) {
  detail::ensure_vips_started();
  const vips::VImage source = with_resolution(image, options.mpp);
  VipsForeignTiffCompression compression = VIPS_FOREIGN_TIFF_COMPRESSION_NONE;
  if (options.compression == TiffCompression::kJpeg) {
    compression = VIPS_FOREIGN_TIFF_COMPRESSION_JPEG;
  } else if (options.compression == TiffCompression::kDeflate) {
    compression = VIPS_FOREIGN_TIFF_COMPRESSION_DEFLATE;
  }
  save_atomically(path, [&](const std::filesystem::path& temporary) {
    source.tiffsave(temporary.c_str(), vips::VImage::option()
                                           ->set("tile", true)
                                           ->set("tile_width", options.tile_size_px)
                                           ->set("tile_height", options.tile_size_px)
                                           ->set("pyramid", options.pyramid)
                                           ->set("compression", compression)
                                           ->set("Q", options.jpeg_quality)
                                           ->set("resunit", VIPS_FOREIGN_TIFF_RESUNIT_CM));
  });
}

void write_png(const RgbImage& image, const std::filesystem::path& path, double mpp) {
  detail::ensure_vips_started();
  const vips::VImage source = with_resolution(image, mpp);
  save_atomically(path, [&](const std::filesystem::path& temporary) {
    source.pngsave(temporary.c_str());
  });
}

}  // namespace mgap
