#include <doctest/doctest.h>

#include <filesystem>
#include <stdexcept>

#include "mgap/atomic_file.hpp"
#include "mgap/error.hpp"

namespace fs = std::filesystem;

namespace {
fs::path fresh_folder(const std::string& name) {
  const fs::path folder = fs::temp_directory_path() / ("mgap_test_" + name);
  fs::remove_all(folder);
  fs::create_directories(folder);
  return folder;
}
}  // namespace

TEST_CASE("atomic write replaces file content") {
  const fs::path folder = fresh_folder("atomic_write");
  const fs::path path = folder / "out.txt";
  mgap::write_file_atomically(path, "first");
  mgap::write_file_atomically(path, "second");
  CHECK(mgap::read_text_file(path) == "second");
  CHECK(std::distance(fs::directory_iterator(folder), fs::directory_iterator()) == 1);
}

TEST_CASE("abandoned writer leaves old file intact") {
  const fs::path folder = fresh_folder("atomic_abandon");
  const fs::path path = folder / "out.txt";
  mgap::write_file_atomically(path, "kept");
  try {
    mgap::AtomicFileWriter writer(path);
    writer.stream() << "half written";
    throw std::runtime_error("simulated failure");
  } catch (const std::runtime_error&) {
  }
  CHECK(mgap::read_text_file(path) == "kept");
  CHECK(std::distance(fs::directory_iterator(folder), fs::directory_iterator()) == 1);
}

TEST_CASE("atomic write into missing folder fails") {
  CHECK_THROWS_AS(mgap::write_file_atomically("/nonexistent/folder/out.txt", "x"),
                  mgap::InputError);
}
