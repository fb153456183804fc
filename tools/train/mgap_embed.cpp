// mgap-embed: embeds a multi-magnification benchmark at each mpp with a trained encoder.

#include <spdlog/spdlog.h>

#include <string>

#include "mgap/cli.hpp"
#include "mgap/embed.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "Embed every tile of a TCGA-MS layout benchmark (ROOT/mpp_{mpp}/{slide}_{x}_{y}.png and "
      "labels.csv) at each mpp with an mgap-train checkpoint or any TorchScript encoder, and "
      "write an embeddings bundle (manifest.json plus one .npy per mpp) for mgap-eval and "
      "mgap-discrepancy."};
  app.name("mgap-embed");
  mgap::EmbedOptions options;
  std::string benchmark;
  std::string encoder;
  std::string output_dir;
  std::string mpps;
  std::string normalization = "unit";
  bool no_progress = false;
  mgap::cli::CommonOptions common;

  app.add_option("--benchmark", benchmark, "Root folder of the benchmark")->required();
  app.add_option("--encoder", encoder,
                 "checkpoint.pt or encoder.pt from mgap-train, or a TorchScript file whose forward "
                 "maps images [N, 3, H, W] to embeddings [N, D]")
      ->required();
  app.add_option("--output-dir", output_dir, "Folder of the embeddings bundle (created if missing)")
      ->required();
  app.add_option("--mpps", mpps, "Comma-separated mpps to embed (default: every mpp_* folder)");
  app.add_option("--normalization", normalization,
                 "Input scaling: unit (RGB in [0, 1], for mgap-train encoders) or imagenet "
                 "((x - mean) / std with ImageNet statistics)")
      ->capture_default_str();
  app.add_option("--batch-size", options.batch_size, "Tiles per forward pass")->capture_default_str();
  app.add_option("--threads", options.threads, "LibTorch intra-op threads (0: number of cores)")
      ->capture_default_str();
  app.add_option("--device", options.device.name, "Device: cpu or cuda:N")->capture_default_str();
  app.add_flag("--no-progress", no_progress, "Draw no progress bar even on a terminal");
  mgap::cli::add_common_options(app, common);

  return mgap::cli::run_program(app, argc, argv, common, [&]() {
    options.benchmark_root = benchmark;
    options.encoder_path = encoder;
    options.output_dir = output_dir;
    if (!mpps.empty()) {
      options.mpps = mgap::cli::parse_double_list(mpps, "--mpps");
    }
    options.normalization = mgap::input_normalization_from_string(normalization);
    options.progress_bar = !no_progress;
    const mgap::EmbedReport report = mgap::embed_benchmark(options);
    spdlog::info("embeddings bundle: {}", report.manifest_path.string());
    return 0;
  });
}
