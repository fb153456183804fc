#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>
#include <system_error>

#include "mgap/error.hpp"
#include "mgap/train.hpp"

namespace mgap {

namespace {

void require(bool condition, const std::string& message) {
  if (!condition) {
    throw InputError(message);
  }
}

// Largest world size accepted, as a guard against a mistyped WORLD_SIZE. It is far above what one
// CPU training run of this encoder can use.
constexpr long kMaxWorldSize = 4096;
constexpr long kMaxPort = 65535;

// Parses the whole of `text` as a decimal integer in [low, high].
long parse_environment_integer(const char* name, const char* text, long low, long high) {
  const std::string value = text;
  long parsed = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), parsed);
  if (value.empty() || error != std::errc() || end != value.data() + value.size() ||
      parsed < low || parsed > high) {
    throw InputError(std::string("invalid environment variable ") + name + "='" + value +
                     "'; set it to an integer from " + std::to_string(low) + " to " +
                     std::to_string(high));
  }
  return parsed;
}

const char* require_variable(const std::function<const char*(const char*)>& lookup,
                             const char* name, int world_size) {
  const char* value = lookup(name);
  if (value == nullptr) {
    throw InputError(std::string("missing environment variable ") + name + " for WORLD_SIZE=" +
                     std::to_string(world_size) +
                     "; set RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT on every rank (as "
                     "torchrun does) or use scripts/launch_distributed.sh");
  }
  return value;
}

}  // namespace

void DistributedOptions::validate() const {
  require(world_size >= 1 && world_size <= kMaxWorldSize,
          "invalid world size " + std::to_string(world_size) + "; use 1 to " +
              std::to_string(kMaxWorldSize) + " processes");
  require(rank >= 0 && rank < world_size,
          "invalid rank " + std::to_string(rank) + " for world size " + std::to_string(world_size) +
              "; RANK must be 0 to WORLD_SIZE - 1");
  require(world_size == 1 || !master_addr.empty(),
          "missing MASTER_ADDR; give the host name or address of rank 0");
  require(master_port >= 1 && master_port <= kMaxPort,
          "invalid MASTER_PORT " + std::to_string(master_port) + "; use 1 to 65535");
  require(std::isfinite(rendezvous_timeout_seconds) && rendezvous_timeout_seconds > 0.0,
          "invalid --rendezvous-timeout " + std::to_string(rendezvous_timeout_seconds) +
              "; use a positive number of seconds");
}

DistributedOptions parse_distributed_environment(
    const std::function<const char*(const char*)>& lookup, double rendezvous_timeout_seconds) {
  DistributedOptions options;
  options.rendezvous_timeout_seconds = rendezvous_timeout_seconds;
  const char* world_size = lookup("WORLD_SIZE");
  if (world_size != nullptr) {
    options.world_size =
        static_cast<int>(parse_environment_integer("WORLD_SIZE", world_size, 1, kMaxWorldSize));
  }
  const char* rank = lookup("RANK");
  if (!options.enabled()) {
    // A lone process may still carry RANK=0 from a launcher; any other rank means a lost
    // WORLD_SIZE, which would silently train alone.
    if (rank != nullptr && parse_environment_integer("RANK", rank, 0, kMaxWorldSize) != 0) {
      throw InputError(std::string("environment variable RANK=") + rank +
                       " requires WORLD_SIZE > " + rank +
                       "; set WORLD_SIZE to the number of ranks");
    }
    options.validate();
    return options;
  }
  rank = require_variable(lookup, "RANK", options.world_size);
  options.rank = static_cast<int>(parse_environment_integer("RANK", rank, 0, kMaxWorldSize));
  if (options.rank >= options.world_size) {
    throw InputError("invalid environment variable RANK=" + std::to_string(options.rank) +
                     " for WORLD_SIZE=" + std::to_string(options.world_size) +
                     "; RANK must be 0 to WORLD_SIZE - 1");
  }
  options.master_addr = require_variable(lookup, "MASTER_ADDR", options.world_size);
  if (options.master_addr.empty()) {
    throw InputError("empty environment variable MASTER_ADDR; set it to the host of rank 0");
  }
  options.master_port = static_cast<int>(parse_environment_integer(
      "MASTER_PORT", require_variable(lookup, "MASTER_PORT", options.world_size), 1, kMaxPort));
  options.validate();
  return options;
}

DistributedOptions distributed_options_from_environment(double rendezvous_timeout_seconds) {
  return parse_distributed_environment([](const char* name) { return std::getenv(name); },
                                       rendezvous_timeout_seconds);
}

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
                            "; use 0 (cores / world size) or a positive count");
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
  distributed.validate();
}

}  // namespace mgap
