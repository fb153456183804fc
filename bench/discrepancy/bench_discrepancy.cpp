// Benchmark of the full 21-pair MMD and Fréchet matrices on 7 mpps x 2,000 rows x 768
// dimensions, the size of a ViT-B embedding export of one benchmark.
//
// Before timing, the program writes the seeded data as float64 .npy files and the values it
// computes (matrices, bandwidths and the rows of each bandwidth subsample) to a folder, so that
// bench/discrepancy/numpy_peer.py can time the same formulas in NumPy on the same data and check
// that the values agree. Usage:
//   bench_discrepancy --data-dir DIR [Google Benchmark flags]
//   /usr/bin/python3 bench/discrepancy/numpy_peer.py DIR

#include <benchmark/benchmark.h>

#include <cstring>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mgap/atomic_file.hpp"
#include "mgap/discrepancy.hpp"
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

const std::vector<Eigen::MatrixXd>& sets() {
  static const std::vector<Eigen::MatrixXd> data = make_sets();
  return data;
}

struct MmdMatrix {
  Eigen::MatrixXd values = Eigen::MatrixXd::Zero(kNumMpps, kNumMpps);
  Eigen::MatrixXd sigmas = Eigen::MatrixXd::Zero(kNumMpps, kNumMpps);
  std::vector<std::vector<Eigen::Index>> subsamples;
};

MmdMatrix mmd_matrix() {
  MmdMatrix result;
  for (int i = 0; i < kNumMpps; ++i) {
    for (int j = i + 1; j < kNumMpps; ++j) {
      mgap::BandwidthOptions options;
      options.seed = mgap::derive_seed(kSeed, static_cast<std::uint64_t>(i * kNumMpps + j));
      const mgap::BandwidthReport bandwidth =
          mgap::median_heuristic_bandwidth(sets()[i], sets()[j], options);
      const double squared = mgap::mmd_squared(sets()[i], sets()[j], bandwidth.sigma);
      result.values(i, j) = result.values(j, i) = std::sqrt(std::max(0.0, squared));
      result.sigmas(i, j) = result.sigmas(j, i) = bandwidth.sigma;
      result.subsamples.push_back(bandwidth.subsample_rows);
    }
  }
  return result;
}

Eigen::MatrixXd frechet_matrix() {
  std::vector<mgap::GaussianFit> fits;
  for (const Eigen::MatrixXd& set : sets()) {
    fits.push_back(mgap::fit_gaussian(set));
  }
  Eigen::MatrixXd values = Eigen::MatrixXd::Zero(kNumMpps, kNumMpps);
  for (int i = 0; i < kNumMpps; ++i) {
    for (int j = i + 1; j < kNumMpps; ++j) {
      values(i, j) = values(j, i) = mgap::frechet_distance(fits[i], fits[j]).distance;
    }
  }
  return values;
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
    mgap::write_npy(folder / ("set_" + std::to_string(m) + ".npy"), sets()[m],
                    mgap::NpyDtype::kFloat64);
  }
  const MmdMatrix mmd = mmd_matrix();
  const nlohmann::json values = {{"num_mpps", kNumMpps},
                                 {"mmd", to_json(mmd.values)},
                                 {"sigma", to_json(mmd.sigmas)},
                                 {"subsample_rows", mmd.subsamples},
                                 {"frechet", to_json(frechet_matrix())}};
  mgap::write_file_atomically(folder / "mgap_values.json", values.dump() + "\n");
  std::cerr << "wrote the data and mgap's values to " << folder << "\n";
}

void BM_MmdMatrix(benchmark::State& state) {
  sets();
  for (auto _ : state) {
    benchmark::DoNotOptimize(mmd_matrix());
  }
  state.counters["pairs"] = kNumMpps * (kNumMpps - 1) / 2;
}
BENCHMARK(BM_MmdMatrix)->Unit(benchmark::kSecond)->Iterations(2)->UseRealTime();

void BM_FrechetMatrix(benchmark::State& state) {
  sets();
  for (auto _ : state) {
    benchmark::DoNotOptimize(frechet_matrix());
  }
  state.counters["pairs"] = kNumMpps * (kNumMpps - 1) / 2;
}
BENCHMARK(BM_FrechetMatrix)->Unit(benchmark::kSecond)->Iterations(3)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
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
