#include "encoder.hpp"

#include <torch/script.h>

#include <algorithm>
#include <sstream>

#include "mgap/atomic_file.hpp"
#include "mgap/error.hpp"

namespace mgap::train_detail {

namespace {

constexpr double kGroupNormEpsilon = 1e-5;  // LibTorch's default, repeated in the exported source

}  // namespace

std::vector<ConvStage> encoder_stages(int base_channels) {
  const int c = base_channels;
  return {{3, c, 1}, {c, 2 * c, 2}, {2 * c, 4 * c, 2}, {4 * c, 8 * c, 2}, {8 * c, 8 * c, 1}};
}

int group_count(int channels) {
  int groups = std::min(8, channels);
  while (channels % groups != 0) {
    --groups;
  }
  return groups;
}

EncoderImpl::EncoderImpl(const EncoderOptions& options)
    : stages_(encoder_stages(options.base_channels)) {
  for (std::size_t index = 0; index < stages_.size(); ++index) {
    const ConvStage& stage = stages_[index];
    auto convolution = torch::nn::Conv2d(
        torch::nn::Conv2dOptions(stage.in_channels, stage.out_channels, 3)
            .stride(stage.stride)
            .padding(1)
            .bias(false));
    auto norm = torch::nn::GroupNorm(
        torch::nn::GroupNormOptions(group_count(stage.out_channels), stage.out_channels)
            .eps(kGroupNormEpsilon));
    convolutions_.push_back(register_module("conv" + std::to_string(index), convolution));
    norms_.push_back(register_module("norm" + std::to_string(index), norm));
  }
}

torch::Tensor EncoderImpl::forward(const torch::Tensor& images) {
  torch::Tensor x = (images - kInputMean) / kInputStd;
  for (std::size_t index = 0; index < stages_.size(); ++index) {
    x = torch::gelu(norms_[index]->forward(convolutions_[index]->forward(x)));
  }
  return x.mean({2, 3});
}

DinoHeadImpl::DinoHeadImpl(const EncoderOptions& options) {
  hidden1_ = register_module(
      "hidden1", torch::nn::Linear(options.embedding_dim(), options.head_hidden_dim));
  hidden2_ = register_module(
      "hidden2", torch::nn::Linear(options.head_hidden_dim, options.head_hidden_dim));
  bottleneck_ = register_module(
      "bottleneck", torch::nn::Linear(options.head_hidden_dim, options.head_bottleneck_dim));
  // Unit-variance rows; only their direction matters because forward normalizes them.
  prototypes_ = register_parameter(
      "prototypes", torch::randn({options.num_prototypes, options.head_bottleneck_dim}));
}

torch::Tensor DinoHeadImpl::forward(const torch::Tensor& embeddings) {
  torch::Tensor x = torch::gelu(hidden1_->forward(embeddings));
  x = torch::gelu(hidden2_->forward(x));
  x = torch::nn::functional::normalize(
      bottleneck_->forward(x), torch::nn::functional::NormalizeFuncOptions().dim(1));
  const torch::Tensor unit_prototypes = torch::nn::functional::normalize(
      prototypes_, torch::nn::functional::NormalizeFuncOptions().dim(1));
  return torch::matmul(x, unit_prototypes.t());
}

DinoNetworkImpl::DinoNetworkImpl(const EncoderOptions& options) {
  encoder = register_module("encoder", Encoder(options));
  head = register_module("head", DinoHead(options));
}

torch::Tensor DinoNetworkImpl::forward(const torch::Tensor& images) {
  return head->forward(encoder->forward(images));
}

namespace {

// TorchScript source of EncoderImpl::forward for the given stages.
std::string encoder_script_source(const std::vector<ConvStage>& stages) {
  std::ostringstream source;
  source << "def forward(self, images: Tensor) -> Tensor:\n";
  source << "    x = (images - " << kInputMean << ") / " << kInputStd << "\n";
  for (std::size_t index = 0; index < stages.size(); ++index) {
    const ConvStage& stage = stages[index];
    const std::string prefix = "self.stage" + std::to_string(index);
    source << "    x = torch.conv2d(x, " << prefix << "_weight, None, [" << stage.stride << ", "
           << stage.stride << "], [1, 1])\n";
    source << "    x = torch.group_norm(x, " << group_count(stage.out_channels) << ", " << prefix
           << "_norm_weight, " << prefix << "_norm_bias, " << kGroupNormEpsilon << ")\n";
    source << "    x = torch.gelu(x)\n";
  }
  source << "    return x.mean([2, 3])\n";
  return source.str();
}

}  // namespace

void export_torchscript_encoder(Encoder& encoder, int tile_size,
                                const std::filesystem::path& path) {
  torch::NoGradGuard no_grad;
  torch::jit::Module module("MgapEncoder");
  const auto parameters = encoder->named_parameters();
  const std::vector<ConvStage>& stages = encoder->stages();
  for (std::size_t index = 0; index < stages.size(); ++index) {
    const std::string stage = std::to_string(index);
    const std::string prefix = "stage" + stage;
    module.register_parameter(prefix + "_weight",
                              parameters["conv" + stage + ".weight"].detach().clone().cpu(), false);
    module.register_parameter(prefix + "_norm_weight",
                              parameters["norm" + stage + ".weight"].detach().clone().cpu(), false);
    module.register_parameter(prefix + "_norm_bias",
                              parameters["norm" + stage + ".bias"].detach().clone().cpu(), false);
  }
  module.register_attribute("embedding_dim", c10::IntType::get(),
                            static_cast<std::int64_t>(stages.back().out_channels));
  module.register_attribute("tile_size", c10::IntType::get(),
                            static_cast<std::int64_t>(tile_size));
  module.define(encoder_script_source(stages));

  AtomicFileWriter writer(path);
  module.save(writer.stream());
  writer.commit();
}

}  // namespace mgap::train_detail
