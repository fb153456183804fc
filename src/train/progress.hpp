#pragma once

// A one-line progress bar with rate and ETA on stderr, drawn only when stderr is a terminal.

#include <chrono>
#include <cstdint>
#include <string>

namespace mgap::train_detail {

class ProgressBar {
 public:
  // `enabled` is ANDed with isatty(stderr).
  ProgressBar(std::int64_t first_step, std::int64_t last_step, bool enabled);
  // Redraws the bar after `step` with a short status text (for example the loss).
  void update(std::int64_t step, const std::string& status);
  // Erases the bar so a log line can take its place; the next update() redraws it.
  void clear();
  // Ends the line so later log output starts on a fresh one.
  void finish();
  bool active() const { return active_; }

 private:
  std::int64_t first_step_;
  std::int64_t last_step_;
  bool active_;
  std::chrono::steady_clock::time_point start_;
};

// Formats seconds as "1h02m", "3m05s" or "42s".
std::string format_duration(double seconds);

}  // namespace mgap::train_detail
