#include "lanczos.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace mgap::detail {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kLobes = 3.0;

double lanczos3(double x) {
  if (x == 0.0) {
    return 1.0;
  }
  if (std::abs(x) >= kLobes) {
    return 0.0;
  }
  const double pi_x = kPi * x;
  return kLobes * std::sin(pi_x) * std::sin(pi_x / kLobes) / (pi_x * pi_x);
}

// Taps of every output position along one axis: output i reads input indices
// first[i] .. first[i] + num_taps - 1 (already clamped to the image) with weights summing to 1.
struct AxisFilter {
  int num_taps = 0;
  std::vector<int> first;        // [out_size]
  std::vector<int> index;        // [out_size, num_taps], clamped input indices
  std::vector<float> weight;     // [out_size, num_taps]
};

AxisFilter make_filter(int in_size, int out_size) {
  const double scale = static_cast<double>(in_size) / out_size;
  const double stretch = std::max(scale, 1.0);
  const double support = kLobes * stretch;
  AxisFilter filter;
  filter.num_taps = static_cast<int>(std::ceil(2.0 * support)) + 1;
  filter.first.resize(out_size);
  filter.index.resize(static_cast<std::size_t>(out_size) * filter.num_taps);
  filter.weight.resize(filter.index.size());
  std::vector<double> raw(filter.num_taps);
  for (int i = 0; i < out_size; ++i) {
    const double centre = (i + 0.5) * scale - 0.5;
    const int first = static_cast<int>(std::floor(centre - support)) + 1;
    filter.first[i] = first;
    double sum = 0.0;
    for (int tap = 0; tap < filter.num_taps; ++tap) {
      raw[tap] = lanczos3((first + tap - centre) / stretch);
      sum += raw[tap];
    }
    for (int tap = 0; tap < filter.num_taps; ++tap) {
      const std::size_t slot = static_cast<std::size_t>(i) * filter.num_taps + tap;
      filter.index[slot] = std::clamp(first + tap, 0, in_size - 1);
      filter.weight[slot] = static_cast<float>(raw[tap] / sum);
    }
  }
  return filter;
}

}  // namespace

RgbImage lanczos3_resample(const RgbImage& image, int width_px, int height_px) {
  const AxisFilter rows = make_filter(image.height, height_px);
  const AxisFilter columns = make_filter(image.width, width_px);
  const std::size_t in_stride = static_cast<std::size_t>(image.width) * 3;

  // Vertical pass first: it runs over whole contiguous rows, which the compiler vectorizes, and
  // leaves only height_px rows for the horizontal pass. [height_px, image.width, 3]
  std::vector<float> vertical(static_cast<std::size_t>(height_px) * in_stride);
  for (int y = 0; y < height_px; ++y) {
    float* out = vertical.data() + static_cast<std::size_t>(y) * in_stride;
    for (int tap = 0; tap < rows.num_taps; ++tap) {
      const std::size_t slot = static_cast<std::size_t>(y) * rows.num_taps + tap;
      const float weight = rows.weight[slot];
      if (weight == 0.0f) {
        continue;
      }
      const std::uint8_t* in = image.pixels.data() + rows.index[slot] * in_stride;
      for (std::size_t k = 0; k < in_stride; ++k) {
        out[k] += weight * static_cast<float>(in[k]);
      }
    }
  }

  RgbImage result;
  result.width = width_px;
  result.height = height_px;
  result.pixels.resize(static_cast<std::size_t>(width_px) * height_px * 3);
  for (int y = 0; y < height_px; ++y) {
    const float* in = vertical.data() + static_cast<std::size_t>(y) * in_stride;
    std::uint8_t* out = result.pixel(0, y);
    for (int x = 0; x < width_px; ++x) {
      float red = 0.0f;
      float green = 0.0f;
      float blue = 0.0f;
      const std::size_t base = static_cast<std::size_t>(x) * columns.num_taps;
      for (int tap = 0; tap < columns.num_taps; ++tap) {
        const float weight = columns.weight[base + tap];
        const float* pixel = in + 3 * static_cast<std::size_t>(columns.index[base + tap]);
        red += weight * pixel[0];
        green += weight * pixel[1];
        blue += weight * pixel[2];
      }
      out[3 * x] = static_cast<std::uint8_t>(std::clamp(std::lround(red), 0L, 255L));
      out[3 * x + 1] = static_cast<std::uint8_t>(std::clamp(std::lround(green), 0L, 255L));
      out[3 * x + 2] = static_cast<std::uint8_t>(std::clamp(std::lround(blue), 0L, 255L));
    }
  }
  return result;
}

}  // namespace mgap::detail
