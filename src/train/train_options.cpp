#include <cmath>
#include <string>

#include "mgap/error.hpp"
#include "mgap/train.hpp"

namespace mgap {

namespace {

void require(bool condition, const std::string& message) {
  if (!condition) {
    throw InputError(message);
  }
}

}  // namespace

void EncoderOptions::validate() const {
  require(base_channels >= 1 && base_channels <= 256,
          "invalid encoder width " + std::to_string(base_channels) + "; use 1 to 256 channels");
  require(head_hidden_dim >= 1, "invalid head hidden width " + std::to_string(head_hidden_dim) +
                                    "; use a positive width");
  require(head_bottleneck_dim >= 1, "invalid head bottleneck width " +
                                        std::to_string(head_bottleneck_dim) +
                                        "; use a positive width");
  require(num_prototypes >= 2, "invalid number of prototypes " + std::to_string(num_prototypes) +
                                   "; use at least 2");
}

void TrainOptions::validate() const {
  encoder.validate();
  // Three stride-2 stages and a 3x3 kernel need at least 8 x 8 pixels.
  require(tile_size >= 8 && tile_size <= 4096,
          "invalid --tile-size " + std::to_string(tile_size) + "; use 8 to 4096 pixels");
  require(steps >= 1, "invalid --steps " + std::to_string(steps) + "; use at least 1");
  require(stop_at_step >= 0 && stop_at_step <= steps,
          "invalid stop step " + std::to_string(stop_at_step) + "; use 0 (run to --steps) up to " +
              std::to_string(steps));
  require(batch_size >= 2, "invalid --batch-size " + std::to_string(batch_size) +
                               "; use at least 2 (the centre needs a batch mean)");
  require(std::isfinite(learning_rate) && learning_rate > 0.0,
          "invalid --lr " + std::to_string(learning_rate) + "; use a positive learning rate");
  require(std::isfinite(min_learning_rate) && min_learning_rate >= 0.0 &&
              min_learning_rate <= learning_rate,
          "invalid minimum learning rate " + std::to_string(min_learning_rate) +
              "; use 0 up to the peak learning rate");
  require(std::isfinite(weight_decay) && weight_decay >= 0.0,
          "invalid weight decay " + std::to_string(weight_decay) + "; use a value >= 0");
  require(warmup_steps >= 0, "invalid warm-up " + std::to_string(warmup_steps) +
                                 "; use 0 or more steps");
  require(teacher_momentum >= 0.0 && teacher_momentum < 1.0,
          "invalid teacher momentum " + std::to_string(teacher_momentum) + "; use [0, 1)");
  require(teacher_temperature > 0.0 && student_temperature > 0.0,
          "invalid DINO temperatures; use positive values");
  require(center_momentum >= 0.0 && center_momentum < 1.0,
          "invalid centre momentum " + std::to_string(center_momentum) + "; use [0, 1)");
  require(threads >= 0, "invalid --threads " + std::to_string(threads) +
                            "; use 0 (all cores) or a positive count");
  require(workers >= 0 && workers <= 64,
          "invalid --workers " + std::to_string(workers) + "; use 0 to 64 threads");
  require(prefetch_batches >= 1, "invalid prefetch bound " + std::to_string(prefetch_batches) +
                                     "; use at least 1 batch");
  require(checkpoint_every >= 0, "invalid --checkpoint-every " +
                                     std::to_string(checkpoint_every) + "; use 0 or more steps");
  require(log_every >= 1, "invalid --log-every " + std::to_string(log_every) +
                              "; use at least 1 step");
  require(rankme_every >= 0, "invalid --rankme-every " + std::to_string(rankme_every) +
                                 "; use 0 (final only) or more steps");
  require(heldout_tiles >= 2, "invalid held-out batch size " + std::to_string(heldout_tiles) +
                                  "; use at least 2 tiles");
  require(!output_dir.empty(), "missing --output-dir; give a folder for the run's files");
}

}  // namespace mgap
