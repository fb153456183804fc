#include "progress.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>

#include <fmt/format.h>

namespace mgap::train_detail {

namespace {
constexpr int kBarWidth = 30;  // characters between the brackets
}  // namespace

ProgressBar::ProgressBar(std::int64_t first_step, std::int64_t last_step, bool enabled)
    : first_step_(first_step),
      last_step_(last_step),
      active_(enabled && ::isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()) {}

void ProgressBar::update(std::int64_t step, const std::string& status) {
  if (!active_) {
    return;
  }
  const double total = static_cast<double>(std::max<std::int64_t>(1, last_step_ - first_step_));
  const double done = static_cast<double>(step - first_step_);
  const double fraction = std::min(1.0, done / total);
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double eta = done > 0 ? elapsed * (total - done) / done : 0.0;
  const int filled = static_cast<int>(std::round(fraction * kBarWidth));
  std::fprintf(stderr, "\r[%s%s] %lld/%lld %s ETA %s   ", std::string(filled, '#').c_str(),
               std::string(kBarWidth - filled, '.').c_str(), static_cast<long long>(step),
               static_cast<long long>(last_step_), status.c_str(), format_duration(eta).c_str());
  std::fflush(stderr);
}

void ProgressBar::clear() {
  if (active_) {
    std::fputs("\r\033[K", stderr);
  }
}

void ProgressBar::finish() {
  if (active_) {
    std::fputc('\n', stderr);
    std::fflush(stderr);
  }
}

std::string format_duration(double seconds) {
  const auto total = static_cast<long long>(std::max(0.0, std::round(seconds)));
  if (total >= 3600) {
    return fmt::format("{}h{:02}m", total / 3600, (total % 3600) / 60);
  }
  if (total >= 60) {
    return fmt::format("{}m{:02}s", total / 60, total % 60);
  }
  return fmt::format("{}s", total);
}

}  // namespace mgap::train_detail
