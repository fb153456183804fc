#pragma once

// libvips helpers shared by the slide sources. Internal: not installed, not included by headers
// under include/.

#include <vips/vips8>

#include <string>

#include "mgap/rgb_image.hpp"

namespace mgap::detail {

// Starts libvips once per process (thread-safe). The operation cache is disabled because mgap
// wraps caller-owned buffers in images, and a cached operation would keep stale references.
void ensure_vips_started();

// Wraps `image` without copying; the VImage is valid only while `image` is alive and unchanged.
vips::VImage wrap_rgb(const RgbImage& image);

// Evaluates `image` (3-band uchar) into a new RgbImage.
RgbImage to_rgb(const vips::VImage& image);

// Converts any loaded image to 3-band sRGB uchar: alpha flattened over kBackgroundRgb, grey
// expanded, 16-bit scaled down.
vips::VImage normalize_to_rgb(const vips::VImage& image);

// The libvips error text of `error`, trimmed to one line.
std::string vips_message(const vips::VError& error);

}  // namespace mgap::detail
