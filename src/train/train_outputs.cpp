#include "train_outputs.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <string>

#include "mgap/atomic_file.hpp"
#include "mgap/version.hpp"

namespace mgap::train_detail {

void write_metrics_csv(const std::filesystem::path& path, const std::vector<TrainMetricsRow>& rows) {
  std::string text =
      "step,loss,learning_rate,teacher_momentum,images_per_second,data_wait_fraction,rankme\n";
  for (const TrainMetricsRow& row : rows) {
    text += fmt::format("{},{:.9g},{:.9g},{:.9g},{:.6g},{:.6g},{}\n", row.step, row.loss,
                        row.learning_rate, row.teacher_momentum, row.images_per_second,
                        row.data_wait_fraction,
                        row.rankme >= 0.0 ? fmt::format("{:.6g}", row.rankme) : std::string());
  }
  write_file_atomically(path, text);
}

void write_sampled_mpps_csv(const std::filesystem::path& path, const std::vector<double>& mpps,
                            int batch_size) {
  std::string text = "step,sample_index,mpp\n";
  for (std::size_t index = 0; index < mpps.size(); ++index) {
    text += fmt::format("{},{},{:.17g}\n", index / static_cast<std::size_t>(batch_size) + 1, index,
                        mpps[index]);
  }
  write_file_atomically(path, text);
}

void write_train_summary(const std::filesystem::path& path, const TrainOptions& options,
                         const TrainReport& report, const std::string& tile_source) {
  nlohmann::json summary;
  summary["program"] = "mgap-train";
  summary["version"] = kVersion;
  summary["seed"] = options.seed;
  summary["density"] = {{"name", options.density_name}, {"hash", options.density_hash}};
  summary["tile_source"] = tile_source;
  summary["requested"] = {{"threads", options.threads}, {"device", options.device.name}};
  // Threads are per rank; world_size ranks trained the model.
  summary["used"] = {{"threads", report.threads_used},
                     {"device", report.device_used},
                     {"world_size", report.world_size},
                     {"backend", report.world_size > 1 ? "gloo" : "none"}};
  summary["encoder"] = {{"architecture", "cnn5-groupnorm-gelu"},
                        {"base_channels", options.encoder.base_channels},
                        {"embedding_dim", options.encoder.embedding_dim()},
                        {"head_hidden_dim", options.encoder.head_hidden_dim},
                        {"head_bottleneck_dim", options.encoder.head_bottleneck_dim},
                        {"num_prototypes", options.encoder.num_prototypes}};
  summary["training"] = {{"steps", options.steps},
                         {"start_step", report.start_step},
                         {"final_step", report.final_step},
                         {"batch_size", options.batch_size},
                         {"tile_size", options.tile_size},
                         {"learning_rate", options.learning_rate},
                         {"min_learning_rate", options.min_learning_rate},
                         {"weight_decay", options.weight_decay},
                         {"warmup_steps", options.warmup_steps},
                         {"teacher_momentum", options.teacher_momentum},
                         {"teacher_temperature", options.teacher_temperature},
                         {"student_temperature", options.student_temperature},
                         {"center_momentum", options.center_momentum},
                         {"workers", options.workers}};
  summary["final"] = {{"loss", report.metrics.empty() ? 0.0 : report.metrics.back().loss},
                      {"rankme", report.final_rankme},
                      {"rankme_collapse_threshold",
                       kRankMeCollapseFraction * options.encoder.embedding_dim()},
                      {"collapse_warning", report.collapse_warning},
                      {"weights_digest", report.weights_digest}};
  summary["files"] = {{"checkpoint", "checkpoint.pt"},
                      {"encoder", "encoder.pt"},
                      {"metrics", "metrics.csv"},
                      {"sampled_mpps", "sampled_mpps.csv"}};
  write_file_atomically(path, summary.dump(2) + "\n");
}

}  // namespace mgap::train_detail
