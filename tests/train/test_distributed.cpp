// Data-parallel training over real Gloo on 127.0.0.1: the collectives in two threads of this
// process, and mgap-train as two processes.

#include "torch_doctest.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "distributed.hpp"
#include "mgap/atomic_file.hpp"
#include "mgap/error.hpp"
#include "mgap/train.hpp"

namespace fs = std::filesystem;
using mgap::train_detail::DataParallelGroup;

namespace {

// Rendezvous timeout of the tests that expect every rank to join. It is far above the ~1 s that
// two processes need to load LibTorch, so only a real hang reaches it.
constexpr double kJoinTimeoutSeconds = 60.0;
// Rendezvous timeout of the tests in which a peer never comes.
constexpr double kMissingPeerTimeoutSeconds = 1.0;
// Attempts of a two-rank test whose free port was taken by another process before rank 0 bound it.
constexpr int kPortAttempts = 3;

// A TCP port on 127.0.0.1 that was free a moment ago (the kernel's choice for port 0).
int free_port() {
  const int socket_fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(socket_fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  REQUIRE(::bind(socket_fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
  socklen_t length = sizeof(address);
  REQUIRE(::getsockname(socket_fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  ::close(socket_fd);
  return ntohs(address.sin_port);
}

bool port_was_taken(const std::string& text) {
  return text.find("Address already in use") != std::string::npos;
}

fs::path fresh_folder(const std::string& name) {
  const fs::path folder = fs::temp_directory_path() / ("mgap_test_distributed_" + name);
  fs::remove_all(folder);
  fs::create_directories(folder);
  return folder;
}

mgap::DistributedOptions parse(const std::map<std::string, std::string>& variables) {
  return mgap::parse_distributed_environment(
      [&variables](const char* name) -> const char* {
        const auto found = variables.find(name);
        return found == variables.end() ? nullptr : found->second.c_str();
      },
      kJoinTimeoutSeconds);
}

std::string parse_error(const std::map<std::string, std::string>& variables) {
  try {
    parse(variables);
  } catch (const mgap::InputError& error) {
    return error.what();
  }
  return "";
}

// What one rank of the collective test saw.
struct RankOutcome {
  std::vector<float> weight_gradient;
  float bias_gradient = 0.0F;
  double mean_loss = 0.0;
  std::vector<float> broadcast;
  std::vector<double> gathered;
  std::string error;
};

std::vector<float> to_vector(const torch::Tensor& tensor) {
  const torch::Tensor values = tensor.contiguous();
  return {values.data_ptr<float>(), values.data_ptr<float>() + values.numel()};
}

// Rank r has gradients (r + 1) * [1, 2, 3] and (r + 1) * -4, loss r + 1, broadcast value
// 10 + r and gathers [r + 0.5, r + 0.25].
void run_collectives(int rank, int port, RankOutcome& outcome) {
  try {
    mgap::DistributedOptions options;
    options.rank = rank;
    options.world_size = 2;
    options.master_port = port;
    options.rendezvous_timeout_seconds = kJoinTimeoutSeconds;
    DataParallelGroup group(options);

    const float scale = static_cast<float>(rank + 1);
    torch::Tensor weight = torch::zeros({3}, torch::requires_grad());
    torch::Tensor bias = torch::zeros({1}, torch::requires_grad());
    weight.mutable_grad() = torch::tensor({1.0F, 2.0F, 3.0F}) * scale;
    bias.mutable_grad() = torch::tensor({-4.0F}) * scale;
    outcome.mean_loss = mgap::train_detail::average_gradients_and_loss(
        group, {weight, bias}, torch::tensor(scale));
    outcome.weight_gradient = to_vector(weight.grad());
    outcome.bias_gradient = bias.grad().item<float>();

    torch::Tensor value = torch::full({2}, 10.0F + static_cast<float>(rank));
    group.broadcast_from_rank0({value});
    outcome.broadcast = to_vector(value);
    outcome.gathered = group.all_gather({rank + 0.5, rank + 0.25});
    group.barrier();
  } catch (const std::exception& error) {
    outcome.error = error.what();
  }
}

// Runs a shell command line and returns its exit status.
int run_shell(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string bin_dir() {
  const char* folder = std::getenv("MGAP_BIN_DIR");
  return folder != nullptr ? folder : MGAP_BINARY_DIR "/bin";
}

// A few steps of a tiny encoder on procedural tiles, one LibTorch thread per rank.
std::string tiny_train_arguments(int steps) {
  return "--density cu --slides procedural --steps " + std::to_string(steps) +
         " --batch-size 4 --tile-size 16 --width 2 --prototypes 8 --heldout-tiles 8 "
         "--log-every 1 --threads 1 --workers 1 --no-progress --seed 3";
}

std::string distributed_environment(int rank, int port) {
  return "RANK=" + std::to_string(rank) + " WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" +
         std::to_string(port) + " ";
}

std::string read_log(const fs::path& path) {
  return fs::exists(path) ? mgap::read_text_file(path) : std::string();
}

// The digest that a rank logged at the end of training, or "" when it logged none.
std::string logged_digest(const fs::path& log) {
  const std::string text = read_log(log);
  std::smatch match;
  const std::regex pattern("final weights digest ([0-9a-f]+)");
  return std::regex_search(text, match, pattern) ? match[1].str() : std::string();
}

// Runs mgap-train as two ranks through scripts/launch_distributed.sh, with each rank's log in
// `logs`, and returns the script's exit status. Starts again on a new port when rank 0 found its
// port taken.
int launch_two_ranks(const std::string& arguments, const fs::path& logs) {
  int status = -1;
  for (int attempt = 0; attempt < kPortAttempts; ++attempt) {
    fs::remove_all(logs);
    status = run_shell("bash " MGAP_SOURCE_DIR "/scripts/launch_distributed.sh --log-dir " +
                       logs.string() + " --port " + std::to_string(free_port()) + " 2 -- " +
                       bin_dir() + "/mgap-train " + arguments + " 2>/dev/null");
    if (status == 0 || !port_was_taken(read_log(logs / "rank_0.log"))) {
      return status;
    }
  }
  return status;
}

nlohmann::json read_summary(const fs::path& run) {
  return nlohmann::json::parse(mgap::read_text_file(run / "train_summary.json"));
}

}  // namespace

TEST_CASE("environment without WORLD_SIZE") {
  const mgap::DistributedOptions options = parse({});
  CHECK(options.world_size == 1);
  CHECK(options.rank == 0);
  CHECK_FALSE(options.enabled());
  CHECK_FALSE(parse({{"WORLD_SIZE", "1"}, {"RANK", "0"}}).enabled());
}

TEST_CASE("environment of rank 1 of 4") {
  const mgap::DistributedOptions options = parse(
      {{"RANK", "1"}, {"WORLD_SIZE", "4"}, {"MASTER_ADDR", "node7"}, {"MASTER_PORT", "29501"}});
  CHECK(options.enabled());
  CHECK(options.rank == 1);
  CHECK(options.world_size == 4);
  CHECK(options.master_addr == "node7");
  CHECK(options.master_port == 29501);
  CHECK(options.rendezvous_timeout_seconds == kJoinTimeoutSeconds);
}

TEST_CASE("environment rejects bad values") {
  const std::map<std::string, std::string> valid = {
      {"RANK", "1"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", "29500"}};
  auto with = [&valid](const std::string& name, const std::string& value) {
    std::map<std::string, std::string> variables = valid;
    variables[name] = value;
    return variables;
  };
  auto without = [&valid](const std::string& name) {
    std::map<std::string, std::string> variables = valid;
    variables.erase(name);
    return variables;
  };
  CHECK(parse_error(with("RANK", "2")).find("RANK=2 for WORLD_SIZE=2") != std::string::npos);
  CHECK(parse_error(with("RANK", "-1")).find("RANK") != std::string::npos);
  CHECK(parse_error(with("WORLD_SIZE", "two")).find("WORLD_SIZE='two'") != std::string::npos);
  CHECK(parse_error(with("WORLD_SIZE", "0")).find("WORLD_SIZE") != std::string::npos);
  CHECK(parse_error(with("MASTER_PORT", "29500x")).find("MASTER_PORT") != std::string::npos);
  CHECK(parse_error(with("MASTER_PORT", "70000")).find("MASTER_PORT") != std::string::npos);
  CHECK(parse_error(with("MASTER_ADDR", "")).find("MASTER_ADDR") != std::string::npos);
  CHECK(parse_error(without("MASTER_PORT")).find("missing environment variable MASTER_PORT") !=
        std::string::npos);
  CHECK(parse_error(without("MASTER_ADDR")).find("MASTER_ADDR") != std::string::npos);
  CHECK(parse_error(without("RANK")).find("RANK") != std::string::npos);
  CHECK(parse_error({{"RANK", "1"}}).find("WORLD_SIZE") != std::string::npos);
}

TEST_CASE("two ranks average gradients") {
  RankOutcome outcomes[2];
  for (int attempt = 0; attempt < kPortAttempts; ++attempt) {
    outcomes[0] = RankOutcome();
    outcomes[1] = RankOutcome();
    const int port = free_port();
    std::thread rank1([&]() { run_collectives(1, port, outcomes[1]); });
    run_collectives(0, port, outcomes[0]);
    rank1.join();
    if (!port_was_taken(outcomes[0].error)) {
      break;
    }
  }
  for (const RankOutcome& outcome : outcomes) {
    REQUIRE(outcome.error.empty());
    // (1 + 2) / 2 = 1.5 times each gradient, exact in float32.
    CHECK(outcome.weight_gradient == std::vector<float>{1.5F, 3.0F, 4.5F});
    CHECK(outcome.bias_gradient == -6.0F);
    CHECK(outcome.mean_loss == 1.5);
    CHECK(outcome.broadcast == std::vector<float>{10.0F, 10.0F});
    CHECK(outcome.gathered == std::vector<double>{0.5, 0.25, 1.5, 1.25});
  }
}

TEST_CASE("rendezvous times out without peer") {
  mgap::DistributedOptions options;
  options.rank = 0;
  options.world_size = 2;
  options.master_port = free_port();
  options.rendezvous_timeout_seconds = kMissingPeerTimeoutSeconds;
  std::string message;
  try {
    DataParallelGroup group(options);
  } catch (const mgap::InputError& error) {
    message = error.what();
  }
  CHECK(message.find("1 of 2 ranks joined") != std::string::npos);
  CHECK(message.find("--rendezvous-timeout") != std::string::npos);

  options.rank = 1;
  options.master_port = free_port();
  message.clear();
  try {
    DataParallelGroup group(options);
  } catch (const mgap::InputError& error) {
    message = error.what();
  }
  CHECK(message.find("could not reach the TCP store") != std::string::npos);
  CHECK(message.find("MASTER_PORT=" + std::to_string(options.master_port)) != std::string::npos);
}

TEST_CASE("two-rank run keeps ranks identical") {
  const fs::path folder = fresh_folder("identical");
  const fs::path whole = folder / "whole";
  REQUIRE(launch_two_ranks(tiny_train_arguments(4) + " --output-dir " + whole.string(),
                           folder / "whole_logs") == 0);
  const std::string digest = logged_digest(folder / "whole_logs" / "rank_0.log");
  CHECK_FALSE(digest.empty());
  CHECK(logged_digest(folder / "whole_logs" / "rank_1.log") == digest);
  const nlohmann::json summary = read_summary(whole);
  CHECK(summary["final"]["weights_digest"] == digest);
  CHECK(summary["used"]["world_size"] == 2);
  // 4 steps of 4 tiles on each of 2 ranks, plus the header.
  const std::string mpps = mgap::read_text_file(whole / "sampled_mpps.csv");
  CHECK(std::count(mpps.begin(), mpps.end(), '\n') == 1 + 4 * 4 * 2);

  SUBCASE("rank 1 writes nothing and resume matches") {
    // Rank 1 gets its own --output-dir, which must stay absent, for the first two steps.
    const fs::path split = folder / "split";
    const fs::path rank1_dir = folder / "rank1_output";
    const std::string arguments = tiny_train_arguments(4) + " --stop-at-step 2";
    int status = -1;
    for (int attempt = 0; attempt < kPortAttempts; ++attempt) {
      fs::remove_all(split);
      const int port = free_port();
      status = run_shell(
          "(" + distributed_environment(0, port) + bin_dir() + "/mgap-train " + arguments +
          " --output-dir " + split.string() + " >" + (folder / "split_rank0.log").string() +
          " 2>&1 & rank0=$!; " + distributed_environment(1, port) + bin_dir() + "/mgap-train " +
          arguments + " --output-dir " + rank1_dir.string() + " >/dev/null 2>&1; rank1=$?; " +
          "wait $rank0; rank0=$?; [ $rank0 -eq 0 ] && [ $rank1 -eq 0 ])");
      if (status == 0 || !port_was_taken(read_log(folder / "split_rank0.log"))) {
        break;
      }
    }
    REQUIRE(status == 0);
    CHECK(fs::is_regular_file(split / "checkpoint.pt"));
    CHECK(fs::is_regular_file(split / "encoder.pt"));
    CHECK_FALSE(fs::exists(rank1_dir));

    REQUIRE(launch_two_ranks(tiny_train_arguments(4) + " --resume --output-dir " + split.string(),
                             folder / "resume_logs") == 0);
    CHECK(read_summary(split)["final"]["weights_digest"] == digest);
    CHECK(logged_digest(folder / "resume_logs" / "rank_1.log") == digest);
    CHECK(mgap::read_text_file(split / "sampled_mpps.csv") == mpps);

    // A single process cannot continue the two ranks' data streams.
    CHECK(run_shell(bin_dir() + "/mgap-train " + tiny_train_arguments(6) + " --resume " +
                    "--output-dir " + split.string() + " >/dev/null 2>&1") == 2);
  }
}

TEST_CASE("mgap-train rejects bad environment") {
  const fs::path folder = fresh_folder("environment");
  const fs::path output = folder / "run";
  const std::string port = std::to_string(free_port());
  const std::string cleared = "env -u RANK -u WORLD_SIZE -u MASTER_ADDR -u MASTER_PORT ";
  struct Case {
    std::string environment;
    std::string extra_arguments;
  };
  const std::vector<Case> cases = {
      {"RANK=2 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + port, ""},
      {"RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1", ""},
      {"RANK=0 WORLD_SIZE=two MASTER_ADDR=127.0.0.1 MASTER_PORT=" + port, ""},
      // Rank 0 of 2 whose peer never starts.
      {"RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + port, " --rendezvous-timeout 1"},
  };
  for (const Case& bad : cases) {
    CAPTURE(bad.environment);
    CHECK(run_shell(cleared + bad.environment + " " + bin_dir() + "/mgap-train " +
                    tiny_train_arguments(2) + bad.extra_arguments + " --output-dir " +
                    output.string() + " >/dev/null 2>&1") == 2);
    CHECK_FALSE(fs::exists(output));
  }
}
