#pragma once

// Data-parallel process group over c10d with the Gloo backend. Private to the train module
// (includes torch.h). The c10d and Gloo headers stay in distributed.cpp, the only translation
// unit compiled with USE_C10D_GLOO.
//
// Rendezvous: rank 0 serves a c10d::TCPStore at master_addr:master_port and every rank, rank 0
// included, connects to it as a client, adds 1 to a join counter and waits until the counter
// reaches world_size or the rendezvous timeout passes. Only then is the ProcessGroupGloo built,
// so a missing peer gives one error naming the count that joined instead of a socket timeout.

#include <torch/torch.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "mgap/train.hpp"

namespace mgap::train_detail {

// Time one collective may wait for its peers once the group exists. Rank 0 computes RankMe and
// writes checkpoints while the other ranks wait in the next collective, which takes seconds; 30
// minutes is LibTorch's own default process-group timeout. A peer that exits closes its sockets,
// which fails the collective at once instead of waiting for this timeout.
inline constexpr std::chrono::minutes kCollectiveTimeout{30};

class DataParallelGroup {
 public:
  // Joins the group described by `options` (world_size > 1). Throws InputError naming
  // MASTER_ADDR, MASTER_PORT and WORLD_SIZE when the store cannot be served or reached, or when
  // fewer than world_size ranks join within options.rendezvous_timeout_seconds. The collectives
  // below throw std::runtime_error when a peer fails.
  explicit DataParallelGroup(const DistributedOptions& options);
  ~DataParallelGroup();
  DataParallelGroup(const DataParallelGroup&) = delete;
  DataParallelGroup& operator=(const DataParallelGroup&) = delete;

  int rank() const { return rank_; }
  int world_size() const { return world_size_; }

  // Overwrites every tensor with rank 0's values, in one broadcast of a flattened buffer. The
  // tensors must have one dtype and device and the same shapes on every rank.
  void broadcast_from_rank0(const std::vector<torch::Tensor>& tensors);

  // Replaces every tensor by its mean over the ranks, in one all-reduce (sum) of a flattened
  // buffer followed by a division by world_size. Same requirements as broadcast_from_rank0.
  void average(const std::vector<torch::Tensor>& tensors);

  // Returns every rank's `values` concatenated in rank order: [world_size * values.size()].
  // Every rank must pass the same number of values.
  std::vector<double> all_gather(const std::vector<double>& values);

  // Returns once every rank has called it.
  void barrier();

 private:
  struct Connection;
  int rank_ = 0;
  int world_size_ = 1;
  std::unique_ptr<Connection> connection_;
};

// Averages the gradients of `parameters` over the ranks and adds `loss` (a scalar) to the same
// buffer, so one all-reduce per step serves both. Returns the mean loss over the ranks.
double average_gradients_and_loss(DataParallelGroup& group,
                                  const std::vector<torch::Tensor>& parameters,
                                  const torch::Tensor& loss);

// fnv1a hash (hex) of the raw bytes of `tensors`, in order, on the CPU.
std::string digest_tensors(const std::vector<torch::Tensor>& tensors);

}  // namespace mgap::train_detail
