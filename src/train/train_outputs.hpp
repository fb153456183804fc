#pragma once

// Files a training run writes beside its checkpoints: the metrics CSV, the sampled-mpp CSV and
// the run summary JSON. All are rewritten atomically at every checkpoint.

#include <filesystem>
#include <string>
#include <vector>

#include "mgap/train.hpp"

namespace mgap::train_detail {

// Tidy CSV, one row per logging interval: step, loss, learning_rate, teacher_momentum,
// images_per_second, data_wait_fraction, rankme (empty where not computed).
void write_metrics_csv(const std::filesystem::path& path, const std::vector<TrainMetricsRow>& rows);

// Tidy CSV, one row per training sample: step (1-based), sample_index, mpp. `batch_size` counts
// the samples of one step over all ranks.
void write_sampled_mpps_csv(const std::filesystem::path& path, const std::vector<double>& mpps,
                            int batch_size);

// JSON with the requested and used settings, the tile source, the final metrics and versions.
void write_train_summary(const std::filesystem::path& path, const TrainOptions& options,
                         const TrainReport& report, const std::string& tile_source);

}  // namespace mgap::train_detail
