#pragma once

#include <filesystem>
#include <fstream>
#include <string_view>

namespace mgap {

// Output file that appears under its final name only when complete.
//
// Data goes to a temporary file in the destination folder; commit() flushes it and renames it over
// the destination (rename is atomic within one file system on POSIX). If the writer is destroyed
// without commit(), for example because an exception was thrown, the temporary file is removed and
// any existing file at the destination is left untouched.
class AtomicFileWriter {
 public:
  // Throws InputError if the destination folder does not exist or the temporary file cannot be created.
  explicit AtomicFileWriter(std::filesystem::path destination);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  std::ofstream& stream() { return stream_; }

  // Flushes, closes and renames the temporary file to the destination. Throws InputError on failure.
  void commit();

  const std::filesystem::path& destination() const { return destination_; }

 private:
  std::filesystem::path destination_;
  std::filesystem::path temporary_;
  std::ofstream stream_;
  bool committed_ = false;
};

// Writes `contents` to `path` through an AtomicFileWriter.
void write_file_atomically(const std::filesystem::path& path, std::string_view contents);

// Reads a whole file into a string. Throws InputError naming the path if it cannot be read.
std::string read_text_file(const std::filesystem::path& path);

}  // namespace mgap
