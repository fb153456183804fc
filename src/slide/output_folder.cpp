#include "output_folder.hpp"

#include <system_error>
#include <unistd.h>

#include "mgap/error.hpp"

namespace mgap::detail {

StagedFolder::StagedFolder(std::filesystem::path destination)
    : destination_(std::move(destination)) {
  std::error_code error;
  if (std::filesystem::exists(destination_, error)) {
    if (!std::filesystem::is_directory(destination_) ||
        !std::filesystem::is_empty(destination_)) {
      throw InputError("output folder '" + destination_.string() +
                       "' already exists and is not empty; remove it or choose another");
    }
  }
  const std::filesystem::path parent =
      std::filesystem::absolute(destination_).lexically_normal().parent_path();
  if (!std::filesystem::is_directory(parent)) {
    throw InputError("parent folder '" + parent.string() + "' of the output does not exist; "
                     "create it first");
  }
  staging_ = parent / ("." + std::filesystem::absolute(destination_).lexically_normal()
                                 .filename().string() +
                       ".tmp-" + std::to_string(::getpid()));
  std::filesystem::remove_all(staging_, error);
  std::filesystem::create_directories(staging_);
}

StagedFolder::~StagedFolder() {
  if (!committed_) {
    std::error_code ignored;
    std::filesystem::remove_all(staging_, ignored);
  }
}

void StagedFolder::commit() {
  std::error_code error;
  if (std::filesystem::exists(destination_, error)) {
    std::filesystem::remove(destination_, error);  // empty, checked in the constructor
  }
  std::filesystem::rename(staging_, destination_, error);
  if (error) {
    throw InputError("failed to rename '" + staging_.string() + "' to '" + destination_.string() +
                     "': " + error.message());
  }
  committed_ = true;
}

}  // namespace mgap::detail
