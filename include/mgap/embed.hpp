#pragma once

// Embedding a multi-magnification benchmark at each of its mpps with a trained encoder, written
// as an embeddings bundle (manifest.json plus one .npy per mpp) that mgap-eval and
// mgap-discrepancy read. LibTorch stays out of this header.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "mgap/train.hpp"

namespace mgap {

// Input scaling applied before the encoder. mgap-train encoders take RGB in [0, 1] (kUnit) because
// they normalize inside their forward. Most ImageNet-pretrained TorchScript encoders expect
// (x - mean) / std with the ImageNet channel statistics (kImagenet).
enum class InputNormalization {
  kUnit,
  kImagenet,
};
std::string to_string(InputNormalization normalization);
// Accepts "unit" and "imagenet"; throws InputError naming the value otherwise.
InputNormalization input_normalization_from_string(const std::string& text);

// Kind of encoder file, detected from its contents.
enum class EncoderFileKind {
  kTrainCheckpoint,  // checkpoint.pt of mgap-train: the teacher's encoder is used
  kTorchScript,      // any TorchScript module whose forward maps [N, 3, H, W] to [N, D]
};
std::string to_string(EncoderFileKind kind);

struct EmbedOptions {
  std::filesystem::path benchmark_root;  // TCGA-MS layout: ROOT/mpp_{mpp}/{slide}_{x}_{y}.png
  std::filesystem::path encoder_path;    // checkpoint.pt or a TorchScript file
  std::filesystem::path output_dir;      // the bundle's folder (created if missing)
  std::vector<double> mpps;              // mpps to embed; empty embeds every mpp of the benchmark
  InputNormalization normalization = InputNormalization::kUnit;
  int batch_size = 64;                   // tiles per forward pass
  int threads = 0;                       // LibTorch intra-op threads; 0 means the number of cores
  TrainDevice device;
  bool progress_bar = true;              // draw a progress bar when stderr is a terminal

  // Throws InputError naming the first invalid field.
  void validate() const;
};

struct EmbedReport {
  EncoderFileKind encoder_kind = EncoderFileKind::kTorchScript;
  std::string encoder_hash;              // fnv1a_hex of the encoder file's bytes
  std::vector<double> mpps;              // embedded, ascending
  std::vector<int> tiles_per_mpp;        // [num_mpps]
  int embedding_dim = 0;
  std::filesystem::path manifest_path;
  int threads_used = 0;
  std::string device_used;
};

// Reads the benchmark, embeds every tile at each requested mpp (images in [0, 1], whole tile,
// no resizing, so the pixel size stays the benchmark's), and writes the bundle with tile ids,
// labels and slide groups plus embed_summary.json. Throws InputError for a missing benchmark or
// encoder, an mpp the benchmark lacks, or an encoder whose output is not [N, D].
EmbedReport embed_benchmark(const EmbedOptions& options);

}  // namespace mgap
