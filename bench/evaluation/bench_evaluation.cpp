// Google Benchmark of the evaluation building blocks at the benchmark's sizes, one fold of 7 mpps x
// 3,000 tiles x 384 dimensions and 4 classes. It times a logistic-regression fit along the C grid,
// the kNN search, and the whole protocol on the bundle that MGAP_EVAL_BENCH_MANIFEST names
// (skipped when unset). The end-to-end comparison with scikit-learn is compare_with_sklearn.sh.

#include <benchmark/benchmark.h>

#include <cstdlib>

#include "mgap/embedding_bundle.hpp"
#include "mgap/evaluation_input.hpp"
#include "mgap/evaluation_protocol.hpp"
#include "mgap/knn.hpp"
#include "mgap/logistic_regression.hpp"
#include "mgap/random.hpp"

namespace {

constexpr int kNumTrainRows = 7680;   // 4 training mpps x 3,000 tiles x 4/5 x 4/5
constexpr int kNumQueryRows = 6120;   // validation (1,920) and test rows (7 x 600)
constexpr int kEmbeddingDim = 384;
constexpr int kNumClasses = 4;

struct Data {
  Eigen::MatrixXd features;
  std::vector<int> labels;
};

Data make_data(int num_rows, std::uint64_t seed) {
  mgap::RandomEngine engine(seed);
  Data data;
  data.features.resize(num_rows, kEmbeddingDim);
  for (int i = 0; i < num_rows; ++i) {
    const int label = i % kNumClasses;
    data.labels.push_back(label);
    for (int j = 0; j < kEmbeddingDim; ++j) {
      data.features(i, j) = (j % kNumClasses == label ? 0.15 : 0.0) + mgap::standard_normal(engine);
    }
  }
  return data;
}

void BM_LogisticRegressionGrid(benchmark::State& state) {
  const Data data = make_data(kNumTrainRows, 1);
  mgap::LogisticRegressionOptions options;
  options.class_weighting = mgap::ClassWeighting::kBalanced;
  int evaluations = 0;
  for (auto _ : state) {
    const std::vector<mgap::LogisticRegressionModel> models = mgap::fit_logistic_regression_path(
        data.features, data.labels, options, mgap::default_inverse_regularization_grid());
    for (const auto& model : models) {
      evaluations += model.report.num_evaluations;
    }
    benchmark::DoNotOptimize(models.back().coefficients.data());
  }
  state.counters["evaluations_per_grid"] =
      benchmark::Counter(evaluations, benchmark::Counter::kAvgIterations);
}
BENCHMARK(BM_LogisticRegressionGrid)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();

void BM_CosineNeighbors(benchmark::State& state) {
  const Data train = make_data(kNumTrainRows, 2);
  const Data queries = make_data(kNumQueryRows, 3);
  const mgap::CosineNeighbors neighbors(train.features, train.labels);
  for (auto _ : state) {
    const Eigen::MatrixXi found = neighbors.kneighbors(queries.features, 80);
    benchmark::DoNotOptimize(found.data());
  }
}
BENCHMARK(BM_CosineNeighbors)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();

void BM_Protocol(benchmark::State& state) {
  const char* manifest = std::getenv("MGAP_EVAL_BENCH_MANIFEST");
  if (manifest == nullptr) {
    state.SkipWithError("set MGAP_EVAL_BENCH_MANIFEST to a bundle to time the whole protocol");
    return;
  }
  const auto input = mgap::evaluation_input_from_bundle(mgap::read_embedding_bundle(manifest));
  mgap::EvaluationOptions options;
  options.num_threads = static_cast<int>(state.range(0));
  for (auto _ : state) {
    const auto report = mgap::run_evaluation(input.sets, options);
    benchmark::DoNotOptimize(report.summaries.data());
  }
}
BENCHMARK(BM_Protocol)->Arg(1)->Arg(2)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
