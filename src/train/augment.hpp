#pragma once

// Augmentations that make the two views of a training tile, on LibTorch tensors. Private to the
// train module (includes torch.h).
//
// None of them changes the scale of the image: the tile's mpp is the quantity under study, so the
// random-resized crops of DINO are left out and the views differ by geometry, stain and focus.

#include <torch/torch.h>

#include "mgap/random.hpp"

namespace mgap::train_detail {

// Perturbation ranges. HED jitter follows the "HED-light" setting of Tellez et al., "Quantifying
// the effects of data augmentation and stain color normalization in convolutional neural networks
// for computational pathology", Medical Image Analysis 2019: each stain channel is scaled by
// U(1 - s, 1 + s) and shifted by U(-s, s) with s = 0.05.
inline constexpr double kHedJitter = 0.05;
inline constexpr double kBrightnessJitter = 0.1;   // multiply by U(1 - b, 1 + b)
inline constexpr double kContrastJitter = 0.1;     // scale around the mean by U(1 - c, 1 + c)
inline constexpr double kBlurProbability = 0.5;
inline constexpr double kBlurMinSigmaPixels = 0.1;
inline constexpr double kBlurMaxSigmaPixels = 1.5;

// Returns one augmented view of `tile` [3, H, W] (RGB in [0, 1], H == W): a random flip, a random
// rotation by a multiple of 90 degrees, HED stain jitter, brightness and contrast jitter, and a
// Gaussian blur with probability kBlurProbability. Every random choice comes from `engine` in a
// fixed order, so the view is a deterministic function of the engine state.
torch::Tensor augment_view(const torch::Tensor& tile, RandomEngine& engine);

// Rotates HED stain space into RGB optical density and back (Ruifrok and Johnston, "Quantification
// of histochemical staining by color deconvolution", Anal. Quant. Cytol. Histol. 2001), applying
// stain_i -> stain_i * scale[i] + shift[i]. `tile` is [3, H, W] in [0, 1].
torch::Tensor jitter_hed(const torch::Tensor& tile, const double scale[3], const double shift[3]);

// Separable Gaussian blur of `tile` [3, H, W] with standard deviation `sigma_pixels`, reflect
// padding, and a kernel radius of ceil(2 sigma) pixels.
torch::Tensor gaussian_blur(const torch::Tensor& tile, double sigma_pixels);

}  // namespace mgap::train_detail
