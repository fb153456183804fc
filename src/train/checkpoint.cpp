#include "checkpoint.hpp"

#include <ATen/CPUGeneratorImpl.h>

#include <fstream>
#include <mutex>

#include "mgap/atomic_file.hpp"
#include "mgap/error.hpp"

namespace mgap::train_detail {

namespace {

torch::serialize::InputArchive open_archive(const std::filesystem::path& path) {
  if (!std::filesystem::is_regular_file(path)) {
    throw InputError("checkpoint '" + path.string() +
                     "' not found; run mgap-train without --resume first or give an existing file");
  }
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path.string());
  } catch (const c10::Error& error) {
    throw InputError("checkpoint '" + path.string() + "' is not a LibTorch archive (" +
                     error.what_without_backtrace() + "); give a file written by mgap-train");
  }
  c10::IValue format;
  if (!archive.try_read("format", format) || !format.isString() ||
      format.toStringRef() != kCheckpointFormat) {
    throw InputError("file '" + path.string() + "' is not an " + std::string(kCheckpointFormat) +
                     " checkpoint; give a checkpoint.pt written by mgap-train");
  }
  return archive;
}

std::int64_t read_int(torch::serialize::InputArchive& archive, const std::string& key) {
  c10::IValue value;
  archive.read(key, value);
  return value.toInt();
}

std::string read_string(torch::serialize::InputArchive& archive, const std::string& key) {
  c10::IValue value;
  archive.read(key, value);
  return value.toStringRef();
}

constexpr int kMetricsColumns = 7;

// [num_rows, 7] float64: step, loss, learning rate, teacher momentum, images per second, data
// wait fraction, RankMe.
torch::Tensor metrics_to_tensor(const std::vector<TrainMetricsRow>& rows) {
  torch::Tensor table =
      torch::zeros({static_cast<std::int64_t>(rows.size()), kMetricsColumns}, torch::kFloat64);
  auto cells = table.accessor<double, 2>();
  for (std::size_t index = 0; index < rows.size(); ++index) {
    const TrainMetricsRow& row = rows[index];
    const auto i = static_cast<std::int64_t>(index);
    cells[i][0] = static_cast<double>(row.step);
    cells[i][1] = row.loss;
    cells[i][2] = row.learning_rate;
    cells[i][3] = row.teacher_momentum;
    cells[i][4] = row.images_per_second;
    cells[i][5] = row.data_wait_fraction;
    cells[i][6] = row.rankme;
  }
  return table;
}

std::vector<TrainMetricsRow> metrics_from_tensor(const torch::Tensor& table) {
  std::vector<TrainMetricsRow> rows;
  const torch::Tensor contiguous = table.to(torch::kFloat64).contiguous();
  auto cells = contiguous.accessor<double, 2>();
  for (std::int64_t i = 0; i < contiguous.size(0); ++i) {
    TrainMetricsRow row;
    row.step = static_cast<std::int64_t>(cells[i][0]);
    row.loss = cells[i][1];
    row.learning_rate = cells[i][2];
    row.teacher_momentum = cells[i][3];
    row.images_per_second = cells[i][4];
    row.data_wait_fraction = cells[i][5];
    row.rankme = cells[i][6];
    rows.push_back(row);
  }
  return rows;
}

}  // namespace

void check_resumable(const CheckpointHeader& stored, const CheckpointHeader& requested,
                     const std::filesystem::path& path) {
  auto require_same = [&path](bool same, const std::string& field, const std::string& stored_value,
                              const std::string& requested_value) {
    if (!same) {
      throw InputError("cannot resume from '" + path.string() + "': it was made with " + field +
                       " " + stored_value + " but this run requests " + requested_value +
                       "; use the original settings or a new --output-dir");
    }
  };
  require_same(stored.steps == requested.steps, "--steps", std::to_string(stored.steps),
               std::to_string(requested.steps));
  require_same(stored.seed == requested.seed, "--seed", std::to_string(stored.seed),
               std::to_string(requested.seed));
  require_same(stored.tile_size == requested.tile_size, "--tile-size",
               std::to_string(stored.tile_size), std::to_string(requested.tile_size));
  require_same(stored.batch_size == requested.batch_size, "--batch-size",
               std::to_string(stored.batch_size), std::to_string(requested.batch_size));
  require_same(stored.encoder.base_channels == requested.encoder.base_channels, "--width",
               std::to_string(stored.encoder.base_channels),
               std::to_string(requested.encoder.base_channels));
  require_same(stored.encoder.head_hidden_dim == requested.encoder.head_hidden_dim &&
                   stored.encoder.head_bottleneck_dim == requested.encoder.head_bottleneck_dim &&
                   stored.encoder.num_prototypes == requested.encoder.num_prototypes,
               "head size", std::to_string(stored.encoder.num_prototypes) + " prototypes",
               std::to_string(requested.encoder.num_prototypes) + " prototypes");
  require_same(stored.density_hash == requested.density_hash, "density hash",
               stored.density_hash, requested.density_hash);
  // Each rank draws its own tiles, so another number of ranks would continue other data streams.
  require_same(stored.world_size == requested.world_size, "WORLD_SIZE",
               std::to_string(stored.world_size), std::to_string(requested.world_size));
}

void save_checkpoint(const std::filesystem::path& path, const CheckpointHeader& header,
                     TrainingState& state) {
  torch::serialize::OutputArchive archive;
  archive.write("format", c10::IValue(std::string(kCheckpointFormat)));
  archive.write("step", c10::IValue(header.step));
  archive.write("steps", c10::IValue(header.steps));
  archive.write("base_channels", c10::IValue(static_cast<std::int64_t>(header.encoder.base_channels)));
  archive.write("head_hidden_dim",
                c10::IValue(static_cast<std::int64_t>(header.encoder.head_hidden_dim)));
  archive.write("head_bottleneck_dim",
                c10::IValue(static_cast<std::int64_t>(header.encoder.head_bottleneck_dim)));
  archive.write("num_prototypes",
                c10::IValue(static_cast<std::int64_t>(header.encoder.num_prototypes)));
  archive.write("tile_size", c10::IValue(static_cast<std::int64_t>(header.tile_size)));
  archive.write("batch_size", c10::IValue(static_cast<std::int64_t>(header.batch_size)));
  // The seed is stored as its decimal text because IValue integers are signed 64-bit.
  archive.write("seed", c10::IValue(std::to_string(header.seed)));
  archive.write("density_hash", c10::IValue(header.density_hash));
  archive.write("world_size", c10::IValue(static_cast<std::int64_t>(header.world_size)));

  torch::serialize::OutputArchive student;
  state.student->save(student);
  archive.write("student", student);
  torch::serialize::OutputArchive teacher;
  state.teacher->save(teacher);
  archive.write("teacher", teacher);
  archive.write("center", state.center, /*is_buffer=*/true);
  torch::serialize::OutputArchive optimizer;
  state.optimizer->save(optimizer);
  archive.write("optimizer", optimizer);
  archive.write("metrics", metrics_to_tensor(state.metrics), /*is_buffer=*/true);
  archive.write("sampled_mpps",
                torch::tensor(state.sampled_mpps, torch::TensorOptions().dtype(torch::kFloat64)),
                /*is_buffer=*/true);
  const at::Tensor generator_state = at::detail::getDefaultCPUGenerator().get_state();
  archive.write("cpu_generator_state", generator_state, /*is_buffer=*/true);

  AtomicFileWriter writer(path);
  archive.save_to(writer.stream());
  writer.commit();
}

CheckpointHeader read_checkpoint_header(const std::filesystem::path& path) {
  torch::serialize::InputArchive archive = open_archive(path);
  CheckpointHeader header;
  header.step = read_int(archive, "step");
  header.steps = read_int(archive, "steps");
  header.encoder.base_channels = static_cast<int>(read_int(archive, "base_channels"));
  header.encoder.head_hidden_dim = static_cast<int>(read_int(archive, "head_hidden_dim"));
  header.encoder.head_bottleneck_dim = static_cast<int>(read_int(archive, "head_bottleneck_dim"));
  header.encoder.num_prototypes = static_cast<int>(read_int(archive, "num_prototypes"));
  header.tile_size = static_cast<int>(read_int(archive, "tile_size"));
  header.batch_size = static_cast<int>(read_int(archive, "batch_size"));
  header.seed = std::stoull(read_string(archive, "seed"));
  header.density_hash = read_string(archive, "density_hash");
  c10::IValue world_size;
  if (archive.try_read("world_size", world_size)) {
    header.world_size = static_cast<int>(world_size.toInt());
  }
  return header;
}

void load_checkpoint(const std::filesystem::path& path, TrainingState& state) {
  torch::serialize::InputArchive archive = open_archive(path);
  torch::serialize::InputArchive student;
  archive.read("student", student);
  state.student->load(student);
  torch::serialize::InputArchive teacher;
  archive.read("teacher", teacher);
  state.teacher->load(teacher);
  torch::Tensor center;
  archive.read("center", center, /*is_buffer=*/true);
  state.center = center.clone();
  torch::serialize::InputArchive optimizer;
  archive.read("optimizer", optimizer);
  state.optimizer->load(optimizer);
  torch::Tensor metrics;
  archive.read("metrics", metrics, /*is_buffer=*/true);
  state.metrics = metrics_from_tensor(metrics);
  torch::Tensor sampled_mpps;
  archive.read("sampled_mpps", sampled_mpps, /*is_buffer=*/true);
  const torch::Tensor mpps = sampled_mpps.contiguous();
  state.sampled_mpps.assign(mpps.data_ptr<double>(), mpps.data_ptr<double>() + mpps.numel());
  torch::Tensor generator_state;
  archive.read("cpu_generator_state", generator_state, /*is_buffer=*/true);
  at::Generator generator = at::detail::getDefaultCPUGenerator();  // a handle to the shared one
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(generator_state);
}

Encoder load_teacher_encoder(const std::filesystem::path& path, CheckpointHeader* header) {
  const CheckpointHeader stored = read_checkpoint_header(path);
  torch::serialize::InputArchive archive = open_archive(path);
  DinoNetwork teacher(stored.encoder);
  torch::serialize::InputArchive teacher_archive;
  archive.read("teacher", teacher_archive);
  teacher->load(teacher_archive);
  if (header != nullptr) {
    *header = stored;
  }
  teacher->eval();
  return teacher->encoder;
}

}  // namespace mgap::train_detail
