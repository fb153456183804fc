#pragma once

// Learning-rate and teacher-momentum schedules, as functions of the 0-based step index, so a
// resumed run needs no schedule state.

#include <cstdint>

#include "mgap/train.hpp"

namespace mgap::train_detail {

// Linear warm-up to learning_rate over warmup_steps, then cosine decay to min_learning_rate at
// step index `steps` (the schedule of DINO and most self-supervised recipes).
double learning_rate_at(const TrainOptions& options, std::int64_t step_index);

// 1 - (1 - m0) (1 + cos(pi i / steps)) / 2: m0 at the start, 1 at the end.
double teacher_momentum_at(const TrainOptions& options, std::int64_t step_index);

}  // namespace mgap::train_detail
