#pragma once

// Runs an mgap program from build/bin in a shell and captures its exit status and output.

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace mgap::test {

struct ProgramRun {
  int exit_status = -1;
  std::string output;  // stdout and stderr together
};

inline std::filesystem::path program_path(const std::string& name) {
  const char* folder = std::getenv("MGAP_BIN_DIR");
  return std::filesystem::path(folder != nullptr ? folder : MGAP_BINARY_DIR "/bin") / name;
}

inline ProgramRun run_program(const std::string& name, const std::string& arguments) {
  const std::string command = program_path(name).string() + " " + arguments + " 2>&1";
  ProgramRun run;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    return run;
  }
  std::array<char, 4096> buffer{};
  std::size_t count = 0;
  while ((count = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    run.output.append(buffer.data(), count);
  }
  const int status = pclose(pipe);
  run.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

// A fresh, empty folder under the system temporary folder.
inline std::filesystem::path fresh_folder(const std::string& name) {
  const std::filesystem::path folder = std::filesystem::temp_directory_path() / ("mgap_test_" + name);
  std::filesystem::remove_all(folder);
  std::filesystem::create_directories(folder);
  return folder;
}

}  // namespace mgap::test
