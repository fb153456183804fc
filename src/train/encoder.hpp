#pragma once

// LibTorch modules of the trainer: the convolutional encoder, the DINO projection head, and the
// export of the encoder as a TorchScript module. Private to the train module (includes torch.h).

#include <torch/torch.h>

#include <filesystem>
#include <vector>

#include "mgap/train.hpp"

namespace mgap::train_detail {

// Fixed input normalization applied inside the encoder, so callers pass RGB in [0, 1]. The values
// centre H&E-like tiles near zero with unit-order spread; they are part of the model contract and
// travel with the exported TorchScript module.
inline constexpr double kInputMean = 0.5;
inline constexpr double kInputStd = 0.25;

// One stage: 3x3 convolution (no bias) -> GroupNorm -> GELU.
struct ConvStage {
  int in_channels = 0;
  int out_channels = 0;
  int stride = 1;
};

// The stages for `base_channels` c: 3->c (stride 1), c->2c, 2c->4c, 4c->8c (stride 2 each), and
// 8c->8c (stride 1). A 64-pixel tile ends at 8 x 8 before global average pooling.
std::vector<ConvStage> encoder_stages(int base_channels);

// GroupNorm groups: 8 where the channel count allows, fewer for narrow stages.
int group_count(int channels);

// Convolutional encoder: images [N, 3, H, W] in [0, 1] -> embeddings [N, 8 * base_channels].
// Fully convolutional with global average pooling, so any H, W >= 8 works.
class EncoderImpl : public torch::nn::Module {
 public:
  explicit EncoderImpl(const EncoderOptions& options);
  torch::Tensor forward(const torch::Tensor& images);
  const std::vector<ConvStage>& stages() const { return stages_; }

 private:
  std::vector<ConvStage> stages_;
  std::vector<torch::nn::Conv2d> convolutions_;
  std::vector<torch::nn::GroupNorm> norms_;
};
TORCH_MODULE(Encoder);

// DINO projection head: MLP -> L2-normalized bottleneck -> prototypes with unit-norm rows
// (weight normalization with the gain fixed at 1, as DINO does by default).
// [N, embedding_dim] -> [N, num_prototypes].
class DinoHeadImpl : public torch::nn::Module {
 public:
  explicit DinoHeadImpl(const EncoderOptions& options);
  torch::Tensor forward(const torch::Tensor& embeddings);

 private:
  torch::nn::Linear hidden1_{nullptr};
  torch::nn::Linear hidden2_{nullptr};
  torch::nn::Linear bottleneck_{nullptr};
  torch::Tensor prototypes_;  // [num_prototypes, head_bottleneck_dim]
};
TORCH_MODULE(DinoHead);

// Encoder plus head; the student and the teacher are two instances.
class DinoNetworkImpl : public torch::nn::Module {
 public:
  explicit DinoNetworkImpl(const EncoderOptions& options);
  // Images [N, 3, H, W] -> prototype scores [N, num_prototypes].
  torch::Tensor forward(const torch::Tensor& images);
  Encoder encoder{nullptr};
  DinoHead head{nullptr};
};
TORCH_MODULE(DinoNetwork);

// Writes `encoder` as a TorchScript module whose forward maps images [N, 3, H, W] in [0, 1] to
// embeddings [N, embedding_dim], loadable by torch::jit::load and by Python's torch.jit.load.
// The forward is TorchScript source compiled here with the weights as parameters, and has the
// attributes `embedding_dim` and `tile_size`. Written atomically.
void export_torchscript_encoder(Encoder& encoder, int tile_size,
                                const std::filesystem::path& path);

}  // namespace mgap::train_detail
