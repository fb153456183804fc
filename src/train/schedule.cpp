#include "schedule.hpp"

#include <algorithm>
#include <cmath>

namespace mgap::train_detail {

namespace {
constexpr double kPi = 3.14159265358979323846;
}  // namespace

double learning_rate_at(const TrainOptions& options, std::int64_t step_index) {
  if (step_index < options.warmup_steps) {
    return options.learning_rate * static_cast<double>(step_index + 1) /
           static_cast<double>(options.warmup_steps);
  }
  const double decay_steps = static_cast<double>(std::max<std::int64_t>(1, options.steps - options.warmup_steps));
  const double progress = static_cast<double>(step_index - options.warmup_steps) / decay_steps;
  return options.min_learning_rate + 0.5 * (options.learning_rate - options.min_learning_rate) *
                                         (1.0 + std::cos(kPi * progress));
}

double teacher_momentum_at(const TrainOptions& options, std::int64_t step_index) {
  const double progress = static_cast<double>(step_index) / static_cast<double>(options.steps);
  return 1.0 - (1.0 - options.teacher_momentum) * 0.5 * (1.0 + std::cos(kPi * progress));
}

}  // namespace mgap::train_detail
