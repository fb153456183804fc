#include "augment.hpp"

#include <cmath>

namespace mgap::train_detail {

namespace {

// Smallest intensity before taking logarithms, as in scikit-image's rgb2hed.
constexpr double kMinIntensity = 1e-6;

double uniform_between(RandomEngine& engine, double low, double high) {
  return low + (high - low) * uniform01(engine);
}

// Rows are the RGB optical-density vectors of haematoxylin, eosin and DAB.
torch::Tensor rgb_from_hed() {
  return torch::tensor({0.65, 0.70, 0.29, 0.07, 0.99, 0.11, 0.27, 0.57, 0.78},
                       torch::kFloat64)
      .reshape({3, 3});
}

}  // namespace

torch::Tensor jitter_hed(const torch::Tensor& tile, const double scale[3], const double shift[3]) {
  static const torch::Tensor kRgbFromHed = rgb_from_hed().to(torch::kFloat32);
  static const torch::Tensor kHedFromRgb = torch::inverse(rgb_from_hed()).to(torch::kFloat32);
  const double log_adjust = std::log(kMinIntensity);

  const auto height = tile.size(1);
  const auto width = tile.size(2);
  // [H * W, 3] optical densities scaled so that the darkest representable pixel is 1.
  const torch::Tensor pixels = tile.reshape({3, -1}).t().clamp_min(kMinIntensity);
  torch::Tensor stains = torch::matmul(torch::log(pixels) / log_adjust, kHedFromRgb);
  const torch::Tensor scale_tensor =
      torch::tensor({scale[0], scale[1], scale[2]}, torch::kFloat32);
  const torch::Tensor shift_tensor =
      torch::tensor({shift[0], shift[1], shift[2]}, torch::kFloat32);
  stains = stains * scale_tensor + shift_tensor;
  const torch::Tensor rgb = torch::exp(torch::matmul(stains * log_adjust, kRgbFromHed));
  return rgb.clamp(0.0, 1.0).t().reshape({3, height, width}).contiguous();
}

torch::Tensor gaussian_blur(const torch::Tensor& tile, double sigma_pixels) {
  const int radius = static_cast<int>(std::ceil(2.0 * sigma_pixels));
  const torch::Tensor offsets =
      torch::arange(-radius, radius + 1, torch::TensorOptions().dtype(torch::kFloat32));
  torch::Tensor kernel = torch::exp(-0.5 * (offsets / sigma_pixels).pow(2));
  kernel = kernel / kernel.sum();

  const int64_t taps = 2 * radius + 1;
  namespace F = torch::nn::functional;
  torch::Tensor x = tile.unsqueeze(0);
  x = F::pad(x, F::PadFuncOptions({radius, radius, radius, radius}).mode(torch::kReflect));
  const torch::Tensor horizontal = kernel.reshape({1, 1, 1, taps}).repeat({3, 1, 1, 1});
  const torch::Tensor vertical = kernel.reshape({1, 1, taps, 1}).repeat({3, 1, 1, 1});
  x = F::conv2d(x, horizontal, F::Conv2dFuncOptions().groups(3));
  x = F::conv2d(x, vertical, F::Conv2dFuncOptions().groups(3));
  return x.squeeze(0);
}

torch::Tensor augment_view(const torch::Tensor& tile, RandomEngine& engine) {
  torch::Tensor view = tile;

  // Geometry: the dihedral group of the square (flip, then 0-3 quarter turns).
  if (uniform01(engine) < 0.5) {
    view = view.flip({2});
  }
  const auto quarter_turns = static_cast<int64_t>(uniform_index(engine, 4));
  if (quarter_turns != 0) {
    view = torch::rot90(view, quarter_turns, {1, 2});
  }

  // Stain: HED jitter, then brightness and contrast.
  double scale[3];
  double shift[3];
  for (int channel = 0; channel < 3; ++channel) {
    scale[channel] = uniform_between(engine, 1.0 - kHedJitter, 1.0 + kHedJitter);
    shift[channel] = uniform_between(engine, -kHedJitter, kHedJitter);
  }
  view = jitter_hed(view, scale, shift);
  const double brightness = uniform_between(engine, 1.0 - kBrightnessJitter, 1.0 + kBrightnessJitter);
  const double contrast = uniform_between(engine, 1.0 - kContrastJitter, 1.0 + kContrastJitter);
  const torch::Tensor mean = view.mean();
  view = ((view * brightness - mean * brightness) * contrast + mean * brightness).clamp(0.0, 1.0);

  // Focus: Gaussian blur with probability kBlurProbability. The sigma is drawn either way, so the
  // number of engine draws per view is constant.
  const double blur_draw = uniform01(engine);
  const double sigma = uniform_between(engine, kBlurMinSigmaPixels, kBlurMaxSigmaPixels);
  if (blur_draw < kBlurProbability) {
    view = gaussian_blur(view, sigma);
  }
  return view.contiguous();
}

}  // namespace mgap::train_detail
