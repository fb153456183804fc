#include "torch_doctest.hpp"

#include "augment.hpp"
#include "schedule.hpp"

namespace {

// Float32 round trip through log, a 3x3 inverse and exp loses about 1e-6 per channel.
constexpr double kColourRoundTripTolerance = 1e-4;

}  // namespace

TEST_CASE("hed jitter identity leaves tile") {
  torch::manual_seed(3);
  const torch::Tensor tile = torch::rand({3, 16, 16}) * 0.9 + 0.05;
  const double scale[3] = {1.0, 1.0, 1.0};
  const double shift[3] = {0.0, 0.0, 0.0};
  const torch::Tensor jittered = mgap::train_detail::jitter_hed(tile, scale, shift);
  CHECK((jittered - tile).abs().max().item<double>() < kColourRoundTripTolerance);
}

TEST_CASE("blur keeps constant tile") {
  const torch::Tensor tile = torch::full({3, 12, 12}, 0.4);
  const torch::Tensor blurred = mgap::train_detail::gaussian_blur(tile, 1.2);
  CHECK(blurred.sizes() == tile.sizes());
  CHECK((blurred - tile).abs().max().item<double>() < kColourRoundTripTolerance);
}

TEST_CASE("augment deterministic per engine") {
  torch::manual_seed(5);
  const torch::Tensor tile = torch::rand({3, 16, 16});
  mgap::RandomEngine first(42);
  mgap::RandomEngine second(42);
  const torch::Tensor view_first = mgap::train_detail::augment_view(tile, first);
  const torch::Tensor view_second = mgap::train_detail::augment_view(tile, second);
  CHECK(torch::equal(view_first, view_second));
  CHECK(view_first.sizes() == tile.sizes());
  CHECK(view_first.min().item<double>() >= 0.0);
  CHECK(view_first.max().item<double>() <= 1.0);
  // Two views from one engine differ.
  const torch::Tensor view_third = mgap::train_detail::augment_view(tile, first);
  CHECK_FALSE(torch::equal(view_first, view_third));
}

TEST_CASE("schedules hit their endpoints") {
  mgap::TrainOptions options;
  options.steps = 100;
  options.warmup_steps = 10;
  options.learning_rate = 1e-3;
  options.min_learning_rate = 1e-5;
  options.teacher_momentum = 0.99;
  using mgap::train_detail::learning_rate_at;
  using mgap::train_detail::teacher_momentum_at;
  CHECK(learning_rate_at(options, 0) == doctest::Approx(1e-4));
  CHECK(learning_rate_at(options, 9) == doctest::Approx(1e-3));
  CHECK(learning_rate_at(options, 10) == doctest::Approx(1e-3));
  CHECK(learning_rate_at(options, 100) == doctest::Approx(1e-5));
  CHECK(learning_rate_at(options, 60) < learning_rate_at(options, 30));
  CHECK(teacher_momentum_at(options, 0) == doctest::Approx(0.99));
  CHECK(teacher_momentum_at(options, 100) == doctest::Approx(1.0));
}
