// Benchmark of the full 21-pair MMD and Fréchet matrices on 7 mpps x 2,000 rows x 768
// dimensions, the size of a ViT-B embedding export of one benchmark.
//
// Before timing, the program writes the seeded data as float64 .npy files to a folder, with the
// values it computes (matrices, bandwidths and the rows of each bandwidth subsample). Then
// bench/discrepancy/numpy_peer.py can time the same formulas in NumPy on the same data and check
// that the values agree. Usage:
//   bench_discrepancy --data-dir DIR [Google Benchmark flags]
//   /usr/bin/python3 bench/discrepancy/numpy_peer.py DIR

#include <benchmark/benchmark.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mgap/atomic_file.hpp"
#include "mgap/discrepancy_matrix.hpp"
#include "mgap/magnification.hpp"
#include "mgap/npy.hpp"
#include "mgap/random.hpp"

namespace {

constexpr int kNumMpps = 7;
constexpr Eigen::Index kNumRows = 2000;
constexpr Eigen::Index kEmbeddingDim = 768;
constexpr std::uint64_t kSeed = 20240;

// Embeddings with a per-mpp mean shift and per-mpp scaling of the dimensions, so both the means
// and the covariances differ between mpps.
std::vector<Eigen::MatrixXd> make_sets() {
  std::vector<Eigen::MatrixXd> sets;
  mgap::RandomEngine engine(kSeed);
  for (int m = 0; m < kNumMpps; ++m) {
    Eigen::MatrixXd set(kNumRows, kEmbeddingDim);
    for (Eigen::Index j = 0; j < kEmbeddingDim; ++j) {
      const double scale = 1.0 + 0.05 * m * (static_cast<double>(j % 7) / 7.0);
      const double shift = 0.02 * m * ((j % 3) - 1.0);
      for (Eigen::Index i = 0; i < kNumRows; ++i) {
        set(i, j) = shift + scale * mgap::standard_normal(engine);
      }
    }
    sets.push_back(std::move(set));
  }
  return sets;
}

const mgap::EmbeddingBundle& bundle() {
  static const mgap::EmbeddingBundle data = [] {
    mgap::EmbeddingBundle made;
    std::vector<Eigen::MatrixXd> matrices = make_sets();
    for (int m = 0; m < kNumMpps; ++m) {
      mgap::EmbeddingSet set;
      set.mpp = mgap::test_mpps()[static_cast<std::size_t>(m)];
      set.embeddings = std::move(matrices[static_cast<std::size_t>(m)]);
      made.sets.push_back(std::move(set));
    }
    return made;
  }();
  return data;
}

// The full matrix as mgap-discrepancy computes it, without bootstrap intervals.
mgap::DiscrepancyReport estimate(mgap::DiscrepancyEstimator estimator) {
  mgap::DiscrepancyOptions options;
  options.estimator = estimator;
  options.num_bootstrap = 0;
  options.seed = kSeed;
  return mgap::estimate_discrepancy(bundle(), options);
}

nlohmann::json to_json(const Eigen::MatrixXd& matrix) {
  nlohmann::json rows = nlohmann::json::array();
  for (Eigen::Index i = 0; i < matrix.rows(); ++i) {
    std::vector<double> row(matrix.cols());
    for (Eigen::Index j = 0; j < matrix.cols(); ++j) {
      row[static_cast<std::size_t>(j)] = matrix(i, j);
    }
    rows.push_back(row);
  }
  return rows;
}

void write_peer_inputs(const std::filesystem::path& folder) {
  std::filesystem::create_directories(folder);
  for (int m = 0; m < kNumMpps; ++m) {
    mgap::write_npy(folder / ("set_" + std::to_string(m) + ".npy"),
                    bundle().sets[static_cast<std::size_t>(m)].embeddings,
                    mgap::NpyDtype::kFloat64);
  }
  const mgap::DiscrepancyReport mmd = estimate(mgap::DiscrepancyEstimator::kMmd);
  const mgap::DiscrepancyReport frechet = estimate(mgap::DiscrepancyEstimator::kFrechet);
  const nlohmann::json values = {{"num_mpps", kNumMpps},
                                 {"mmd", to_json(mmd.matrix)},
                                 {"sigma", to_json(mmd.bandwidths)},
                                 {"subsample_rows", mmd.bandwidth_subsamples},
                                 {"frechet", to_json(frechet.matrix)}};
  mgap::write_file_atomically(folder / "mgap_values.json", values.dump() + "\n");
  std::cerr << "wrote the data and mgap's values to " << folder << "\n";
}

void BM_MmdMatrix(benchmark::State& state) {
  bundle();
  for (auto _ : state) {
    benchmark::DoNotOptimize(estimate(mgap::DiscrepancyEstimator::kMmd));
  }
  state.counters["pairs"] = kNumMpps * (kNumMpps - 1) / 2;
}
BENCHMARK(BM_MmdMatrix)->Unit(benchmark::kSecond)->Iterations(2)->UseRealTime();

void BM_FrechetMatrix(benchmark::State& state) {
  bundle();
  for (auto _ : state) {
    benchmark::DoNotOptimize(estimate(mgap::DiscrepancyEstimator::kFrechet));
  }
  state.counters["pairs"] = kNumMpps * (kNumMpps - 1) / 2;
}
BENCHMARK(BM_FrechetMatrix)->Unit(benchmark::kSecond)->Iterations(3)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  // --data-dir is mgap's own flag; the rest go to Google Benchmark.
  std::vector<char*> remaining;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--data-dir") == 0 && i + 1 < argc) {
      write_peer_inputs(argv[++i]);
    } else {
      remaining.push_back(argv[i]);
    }
  }
  int remaining_count = static_cast<int>(remaining.size());
  benchmark::Initialize(&remaining_count, remaining.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
