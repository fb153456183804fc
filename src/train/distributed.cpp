#include "distributed.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <cstdlib>
#include <stdexcept>
#include <thread>

#include "mgap/error.hpp"
#include "mgap/hash.hpp"

namespace mgap::train_detail {

namespace {

// Store key counting the ranks that have connected.
constexpr const char* kJoinKey = "mgap/ranks_joined";
// Interval between reads of the join counter while waiting for peers.
constexpr std::chrono::milliseconds kJoinPollInterval{20};
// Gloo worker threads of the process group. The trainer waits for each collective before it
// starts the next, so more threads would stay idle.
constexpr int kGlooThreads = 2;

// The first line of an exception message; c10 errors append a multi-line backtrace.
std::string first_line(const std::exception& error) {
  const std::string text = error.what();
  return text.substr(0, text.find('\n'));
}

std::string describe_store(const DistributedOptions& options) {
  return fmt::format("MASTER_ADDR={} MASTER_PORT={} WORLD_SIZE={} RANK={}", options.master_addr,
                     options.master_port, options.world_size, options.rank);
}

bool is_loopback(const std::string& address) {
  return address == "localhost" || address.rfind("127.", 0) == 0 || address == "::1";
}

// The network device Gloo binds to: the interface named by GLOO_SOCKET_IFNAME (the variable that
// torch.distributed documents for this), else the loopback address when rank 0 is on this host's
// loopback, else the address this host's name resolves to.
std::shared_ptr<::gloo::transport::Device> make_gloo_device(const DistributedOptions& options) {
  if (const char* interface = std::getenv("GLOO_SOCKET_IFNAME"); interface != nullptr) {
    return c10d::ProcessGroupGloo::createDeviceForInterface(interface);
  }
  if (is_loopback(options.master_addr)) {
    return c10d::ProcessGroupGloo::createDeviceForHostname(options.master_addr);
  }
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

// Waits until world_size ranks have added themselves to the join counter.
void wait_for_all_ranks(c10d::TCPStore& store, const DistributedOptions& options,
                        std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::int64_t joined = store.add(kJoinKey, 1);
  while (joined < options.world_size) {
    if (std::chrono::steady_clock::now() > deadline) {
      throw InputError(fmt::format(
          "rendezvous timed out after {} s: {} of {} ranks joined ({}); start every rank with the "
          "same MASTER_ADDR, MASTER_PORT and WORLD_SIZE within the timeout, or raise "
          "--rendezvous-timeout",
          options.rendezvous_timeout_seconds, joined, options.world_size, describe_store(options)));
    }
    std::this_thread::sleep_for(kJoinPollInterval);
    joined = store.add(kJoinKey, 0);
  }
}

void wait_for(const c10::intrusive_ptr<c10d::Work>& work, const char* collective, int rank,
              int world_size) {
  try {
    work->wait();
  } catch (const std::exception& error) {
    throw std::runtime_error(fmt::format(
        "{} failed on rank {} of {}: {}; another rank has probably failed or exited, see its log",
        collective, rank, world_size, first_line(error)));
  }
}

}  // namespace

struct DataParallelGroup::Connection {
  c10::intrusive_ptr<c10d::TCPStore> store;
  // Declared last, so it is destroyed before the store that it uses.
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
};

DataParallelGroup::DataParallelGroup(const DistributedOptions& options)
    : rank_(options.rank), world_size_(options.world_size),
      connection_(std::make_unique<Connection>()) {
  options.validate();
  const auto timeout = std::chrono::milliseconds(
      static_cast<std::int64_t>(options.rendezvous_timeout_seconds * 1000.0));
  spdlog::info("rank {} of {}: joining the process group at {}:{}", rank_, world_size_,
               options.master_addr, options.master_port);

  c10d::TCPStoreOptions store_options;
  store_options.port = static_cast<std::uint16_t>(options.master_port);
  store_options.isServer = options.rank == 0;
  store_options.numWorkers = static_cast<std::size_t>(options.world_size);
  store_options.waitWorkers = false;  // wait_for_all_ranks waits, with a clearer error
  store_options.timeout = timeout;
  try {
    connection_->store = c10::make_intrusive<c10d::TCPStore>(options.master_addr, store_options);
  } catch (const std::exception& error) {
    throw InputError(fmt::format(
        "rank {} could not {} the TCP store ({}): {}; {}", rank_,
        options.rank == 0 ? "serve" : "reach", describe_store(options), first_line(error),
        options.rank == 0 ? "choose a free MASTER_PORT"
                          : "check that rank 0 runs with the same MASTER_ADDR and MASTER_PORT, "
                            "or raise --rendezvous-timeout"));
  }
  wait_for_all_ranks(*connection_->store, options, timeout);

  try {
    auto group_options = c10d::ProcessGroupGloo::Options::create(
        std::chrono::duration_cast<std::chrono::milliseconds>(kCollectiveTimeout));
    group_options->devices.push_back(make_gloo_device(options));
    group_options->threads = kGlooThreads;
    connection_->group = c10::make_intrusive<c10d::ProcessGroupGloo>(
        connection_->store, rank_, world_size_, group_options);
  } catch (const std::exception& error) {
    throw InputError(fmt::format("rank {} could not build the Gloo process group ({}): {}",
                                         rank_, describe_store(options), first_line(error)));
  }
  spdlog::info("rank {} of {}: all {} ranks joined", rank_, world_size_, world_size_);
}

DataParallelGroup::~DataParallelGroup() = default;

void DataParallelGroup::broadcast_from_rank0(const std::vector<torch::Tensor>& tensors) {
  torch::NoGradGuard no_grad;
  std::vector<at::Tensor> buffer{at::flatten_dense_tensors(tensors)};
  c10d::BroadcastOptions options;
  options.rootRank = 0;
  wait_for(connection_->group->broadcast(buffer, options), "broadcast", rank_, world_size_);
  const std::vector<at::Tensor> values = at::unflatten_dense_tensors(buffer[0], tensors);
  for (std::size_t index = 0; index < tensors.size(); ++index) {
    tensors[index].copy_(values[index]);
  }
}

void DataParallelGroup::average(const std::vector<torch::Tensor>& tensors) {
  torch::NoGradGuard no_grad;
  std::vector<at::Tensor> buffer{at::flatten_dense_tensors(tensors)};
  c10d::AllreduceOptions options;
  options.reduceOp = c10d::ReduceOp::SUM;
  wait_for(connection_->group->allreduce(buffer, options), "all-reduce", rank_, world_size_);
  buffer[0].div_(static_cast<double>(world_size_));
  const std::vector<at::Tensor> values = at::unflatten_dense_tensors(buffer[0], tensors);
  for (std::size_t index = 0; index < tensors.size(); ++index) {
    tensors[index].copy_(values[index]);
  }
}

std::vector<double> DataParallelGroup::all_gather(const std::vector<double>& values) {
  const auto count = static_cast<std::int64_t>(values.size());
  const auto float64 = torch::TensorOptions().dtype(torch::kFloat64);
  std::vector<at::Tensor> input{torch::tensor(values, float64)};
  std::vector<std::vector<at::Tensor>> output(1);
  for (int rank = 0; rank < world_size_; ++rank) {
    output[0].push_back(torch::empty({count}, float64));
  }
  wait_for(connection_->group->allgather(output, input), "all-gather", rank_, world_size_);
  std::vector<double> gathered;
  gathered.reserve(values.size() * static_cast<std::size_t>(world_size_));
  for (const at::Tensor& part : output[0]) {
    const at::Tensor contiguous = part.contiguous();
    gathered.insert(gathered.end(), contiguous.data_ptr<double>(),
                    contiguous.data_ptr<double>() + count);
  }
  return gathered;
}

void DataParallelGroup::barrier() {
  wait_for(connection_->group->barrier(), "barrier", rank_, world_size_);
}

double average_gradients_and_loss(DataParallelGroup& group,
                                  const std::vector<torch::Tensor>& parameters,
                                  const torch::Tensor& loss) {
  std::vector<torch::Tensor> buffers;
  buffers.reserve(parameters.size() + 1);
  for (const torch::Tensor& parameter : parameters) {
    torch::Tensor& gradient = const_cast<torch::Tensor&>(parameter).mutable_grad();
    if (!gradient.defined()) {
      // A parameter the loss does not reach still takes part, so every rank sends one layout.
      gradient = torch::zeros_like(parameter);
    }
    buffers.push_back(gradient);
  }
  torch::Tensor loss_buffer = loss.detach().reshape({1}).to(parameters.front().dtype()).clone();
  buffers.push_back(loss_buffer);
  group.average(buffers);
  return loss_buffer.item<double>();
}

std::string digest_tensors(const std::vector<torch::Tensor>& tensors) {
  std::string bytes;
  for (const torch::Tensor& tensor : tensors) {
    const torch::Tensor values = tensor.detach().to(torch::kCPU).contiguous();
    bytes.append(static_cast<const char*>(values.data_ptr()), values.nbytes());
  }
  return fnv1a_hex(bytes);
}

}  // namespace mgap::train_detail
