// Google Benchmark of the bound: one evaluation with its Jacobian, and full solves (one start, one
// thread) at K in {64, 128, 256} bins and T in {7, 64} targets. The problem matches
// bench/core/scipy_peer.py so the two can be compared side by side (bench/core/compare_with_scipy.sh).

#include <benchmark/benchmark.h>

#include "mgap/bound.hpp"
#include "mgap/optimizer.hpp"

namespace {

mgap::BoundProblem make_problem(int num_bins, int num_targets) {
  const mgap::MppDomain domain{0.25, 2.0};
  mgap::TransferModelOptions transfer;
  transfer.transfer_length = 0.5;
  const mgap::TransferModel model(transfer, mgap::NormalizedDiscrepancy::power_law(1.0, 1.0));
  return mgap::BoundProblem(model, mgap::BoundParameters{}, mgap::Coordinate::kLog2Mpp, domain,
                            num_bins,
                            mgap::make_grid_targets(domain, mgap::Coordinate::kLog2Mpp, num_targets));
}

mgap::OptimizerOptions one_start(mgap::Criterion criterion, mgap::Objective objective) {
  mgap::OptimizerOptions options;
  options.objective.criterion = criterion;
  options.objective.objective = objective;
  options.num_starts = 1;  // the CU start, as the SciPy peer uses
  options.num_threads = 1;
  return options;
}

void BM_BoundEvaluation(benchmark::State& state) {
  const mgap::BoundProblem problem = make_problem(static_cast<int>(state.range(0)),
                                                  static_cast<int>(state.range(1)));
  const Eigen::VectorXd masses = Eigen::VectorXd::Constant(problem.num_bins(), 1.0 / problem.num_bins());
  Eigen::MatrixXd jacobian;
  for (auto _ : state) {
    benchmark::DoNotOptimize(problem.bound(masses, &jacobian));
  }
}

void BM_ProblemSetup(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(make_problem(static_cast<int>(state.range(0)), static_cast<int>(state.range(1))));
  }
}

void solve(benchmark::State& state, mgap::Criterion criterion, mgap::Objective objective) {
  const mgap::BoundProblem problem = make_problem(static_cast<int>(state.range(0)),
                                                  static_cast<int>(state.range(1)));
  const mgap::OptimizerOptions options = one_start(criterion, objective);
  double value = 0.0;
  for (auto _ : state) {
    value = mgap::optimize(problem, options).objective;
    benchmark::DoNotOptimize(value);
  }
  state.counters["objective"] = value;
}

void BM_SolveBoundMaxAvg(benchmark::State& state) {
  solve(state, mgap::Criterion::kBound, mgap::Objective::kMaxAvg);
}
void BM_SolveBoundMinMax(benchmark::State& state) {
  solve(state, mgap::Criterion::kBound, mgap::Objective::kMinMax);
}
void BM_SolveCoverageLp(benchmark::State& state) {
  solve(state, mgap::Criterion::kCoverage, mgap::Objective::kMinMax);
}

void sizes(benchmark::internal::Benchmark* benchmark) {
  for (const int bins : {64, 128, 256}) {
    for (const int targets : {7, 64}) {
      benchmark->Args({bins, targets});
    }
  }
  benchmark->ArgNames({"K", "T"});
}

}  // namespace

BENCHMARK(BM_BoundEvaluation)->Apply(sizes);
BENCHMARK(BM_ProblemSetup)->Apply(sizes)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SolveBoundMaxAvg)->Apply(sizes)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();
BENCHMARK(BM_SolveBoundMinMax)->Apply(sizes)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();
BENCHMARK(BM_SolveCoverageLp)->Apply(sizes)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
