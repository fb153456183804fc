#include "mgap/atomic_file.hpp"

#include <unistd.h>

#include <atomic>
#include <sstream>
#include <system_error>

#include "mgap/error.hpp"

namespace mgap {

namespace {

// The process id and a counter keep concurrent writers (threads or processes) from sharing a name.
std::filesystem::path make_temporary_path(const std::filesystem::path& destination) {
  static std::atomic<unsigned> counter{0};
  std::ostringstream name;
  name << "." << destination.filename().string() << ".tmp-" << ::getpid() << "-" << counter++;
  return destination.parent_path() / name.str();
}

}  // namespace

AtomicFileWriter::AtomicFileWriter(std::filesystem::path destination)
    : destination_(std::move(destination)) {
  if (destination_.filename().empty()) {
    throw InputError("output path '" + destination_.string() + "' names no file; give a file name");
  }
  const std::filesystem::path folder =
      destination_.parent_path().empty() ? std::filesystem::path(".") : destination_.parent_path();
  if (!std::filesystem::is_directory(folder)) {
    throw InputError("output folder '" + folder.string() + "' does not exist; create it first");
  }
  temporary_ = make_temporary_path(destination_);
  stream_.open(temporary_, std::ios::binary | std::ios::trunc);
  if (!stream_) {
    throw InputError("cannot create a file in '" + folder.string() + "'; check its permissions");
  }
}

AtomicFileWriter::~AtomicFileWriter() {
  if (!committed_) {
    stream_.close();
    std::error_code ignored;
    std::filesystem::remove(temporary_, ignored);
  }
}

void AtomicFileWriter::commit() {
  stream_.flush();
  const bool written = static_cast<bool>(stream_);
  stream_.close();
  if (!written) {
    throw InputError("writing '" + destination_.string() + "' failed (disk full?)");
  }
  std::error_code error;
  std::filesystem::rename(temporary_, destination_, error);
  if (error) {
    throw InputError("cannot move the finished output to '" + destination_.string() +
                     "': " + error.message());
  }
  committed_ = true;
}

void write_file_atomically(const std::filesystem::path& path, std::string_view contents) {
  AtomicFileWriter writer(path);
  writer.stream().write(contents.data(), static_cast<std::streamsize>(contents.size()));
  writer.commit();
}

std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream input(path, std::ios::binary);
  if (!input) {
    throw InputError("cannot open '" + path.string() + "': file not found or not readable");
  }
  std::ostringstream contents;
  contents << input.rdbuf();
  return contents.str();
}

}  // namespace mgap
