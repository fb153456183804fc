// Defaults and validation of the loop's options.

#include <fmt/format.h>

#include "mgap/error.hpp"
#include "mgap/loop.hpp"

namespace mgap {

LoopOptions::LoopOptions() {
  objective.criterion = Criterion::kBound;
  objective.objective = Objective::kMinMax;
  // Intervals are not used by the loop: the power-law fit of the point estimates drives the bound.
  discrepancy.num_bootstrap = 0;
  // Each run writes its checkpoint at the end only.
  train.checkpoint_every = 0;
  // Benchmarks are easier at some mpps than at others whatever the training density, which one
  // shared floor cannot fit.
  calibration.floor_per_mpp = true;
}

void LoopOptions::validate() const {
  if (rounds < 0) {
    throw InputError(fmt::format("invalid --rounds {}; use 0 (baselines only) or more", rounds));
  }

  if (benchmark_root.empty()) {
    throw InputError("no --benchmark given; pass a TCGA-MS benchmark folder with labels.csv");
  }
  if (!std::filesystem::is_directory(benchmark_root)) {
    throw InputError("benchmark folder '" + benchmark_root.string() +
                     "' not found; check the --benchmark path");
  }
  if (!std::filesystem::is_regular_file(benchmark_root / "labels.csv")) {
    throw InputError("the benchmark '" + benchmark_root.string() +
                     "' has no labels.csv; build one with mgap-dataset build");
  }

  if (output_dir.empty()) {
    throw InputError("no --output-dir given; name a folder for the loop's files");
  }

  // LibTorch parses the device only when training starts; a typo must not wait for that.
  const std::string& device = train.device.name;
  const bool cuda = device == "cuda" ||
                    (device.rfind("cuda:", 0) == 0 && device.size() > 5 &&
                     device.find_first_not_of("0123456789", 5) == std::string::npos);
  if (device != "cpu" && !cuda) {
    throw InputError("invalid --device '" + device + "'; use cpu or cuda:N");
  }

  if (embed_batch_size < 1) {
    throw InputError(fmt::format("invalid embedding batch size {}; use 1 or more",
                                 embed_batch_size));
  }
  if (bins < 2) {
    throw InputError(fmt::format("invalid --bins {}; use 2 or more", bins));
  }

  domain.validate();
  for (const double mpp : evaluation.test_mpps) {
    if (!domain.contains(mpp)) {
      throw InputError(fmt::format("test mpp {} lies outside the domain [{}, {}]; widen --domain "
                                   "or drop it from --test-mpps",
                                   mpp, domain.lo_mpp, domain.hi_mpp));
    }
  }

  if (objective.criterion != Criterion::kBound) {
    throw InputError("the loop optimizes the calibrated bound; use the bound criterion");
  }
  objective.validate();
  train.encoder.validate();
  discrepancy.validate();
  evaluation.validate();
  calibration.validate();
}

}  // namespace mgap
