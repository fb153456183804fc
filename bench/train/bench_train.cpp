// Training-step and data-pipeline throughput of mgap-train's LibTorch code, for the side-by-side
// comparison with the PyTorch script bench/train/pytorch_peer.py (bench/train/compare_with_pytorch.sh).

#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cmath>

#include "data_pipeline.hpp"
#include "dino.hpp"
#include "encoder.hpp"

namespace {

constexpr int kThreads = 2;  // the cores of the reference machine; the peer uses the same
constexpr double kCenterMomentum = 0.9;
constexpr double kTeacherMomentum = 0.996;

mgap::TrainOptions bench_options(int batch_size, int tile_size) {
  mgap::TrainOptions options;
  options.batch_size = batch_size;
  options.tile_size = tile_size;
  return options;
}

// One full DINO step on random tensors: teacher and student forward on both views, loss,
// backward, AdamW, EMA teacher and centre updates. Arguments: batch size, tile size.
void BM_DinoStep(benchmark::State& state) {
  torch::set_num_threads(kThreads);
  const mgap::TrainOptions options =
      bench_options(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
  torch::manual_seed(0);
  mgap::train_detail::DinoNetwork student(options.encoder);
  mgap::train_detail::DinoNetwork teacher(options.encoder);
  mgap::train_detail::copy_weights(student, teacher);
  for (auto& parameter : teacher->parameters()) {
    parameter.set_requires_grad(false);
  }
  torch::optim::AdamW optimizer(student->parameters(),
                                torch::optim::AdamWOptions(options.learning_rate).weight_decay(0.04));
  torch::Tensor center = torch::zeros({options.encoder.num_prototypes});
  const torch::Tensor views_a = torch::rand({options.batch_size, 3, options.tile_size, options.tile_size});
  const torch::Tensor views_b = torch::rand({options.batch_size, 3, options.tile_size, options.tile_size});

  for (auto _ : state) {
    torch::Tensor teacher_a;
    torch::Tensor teacher_b;
    {
      torch::NoGradGuard no_grad;
      teacher_a = teacher->forward(views_a);
      teacher_b = teacher->forward(views_b);
    }
    const torch::Tensor loss = mgap::train_detail::dino_loss(
        student->forward(views_a), student->forward(views_b), teacher_a, teacher_b, center, options);
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    mgap::train_detail::update_teacher(student, teacher, kTeacherMomentum);
    {
      torch::NoGradGuard no_grad;
      center = center * kCenterMomentum +
               torch::cat({teacher_a, teacher_b}).mean(0) * (1.0 - kCenterMomentum);
    }
    benchmark::DoNotOptimize(loss.item<double>());
  }
  state.SetItemsProcessed(state.iterations() * options.batch_size);
}
BENCHMARK(BM_DinoStep)->Args({32, 64})->Unit(benchmark::kMillisecond)->UseRealTime();

// Batches of two augmented views of procedural tiles at log-uniform mpps, built in the calling
// thread (one data worker). Arguments: batch size, tile size.
void BM_ProceduralBatch(benchmark::State& state) {
  torch::set_num_threads(1);
  mgap::train_detail::DataPipelineOptions options;
  options.batch_size = static_cast<int>(state.range(0));
  options.tile_size = static_cast<int>(state.range(1));
  const auto tiles = mgap::make_procedural_tile_source(0);
  const mgap::MppSampler sample_mpp = [](mgap::RandomEngine& engine) {
    return 0.25 * std::pow(8.0, mgap::uniform01(engine));
  };
  std::int64_t batch_index = 0;
  for (auto _ : state) {
    const auto batch =
        mgap::train_detail::make_training_batch(options, *tiles, sample_mpp, batch_index++);
    benchmark::DoNotOptimize(batch.views_a.data_ptr());
  }
  state.SetItemsProcessed(state.iterations() * options.batch_size);
}
BENCHMARK(BM_ProceduralBatch)->Args({32, 64})->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
