#pragma once

// A folder of outputs that appears under its final name only when complete.

#include <filesystem>

namespace mgap::detail {

// Files go to a temporary sibling folder; commit() renames it to the destination. Without
// commit(), the destructor removes the temporary folder, so a failure leaves nothing behind. The
// destination must not exist or must be an empty folder.
class StagedFolder {
 public:
  // Throws InputError if the destination is a non-empty folder or a file, or its parent is missing.
  explicit StagedFolder(std::filesystem::path destination);
  ~StagedFolder();
  StagedFolder(const StagedFolder&) = delete;
  StagedFolder& operator=(const StagedFolder&) = delete;

  const std::filesystem::path& path() const { return staging_; }
  void commit();

 private:
  std::filesystem::path destination_;
  std::filesystem::path staging_;
  bool committed_ = false;
};

}  // namespace mgap::detail
