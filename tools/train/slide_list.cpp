#include "slide_list.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "mgap/cli.hpp"
#include "mgap/error.hpp"

namespace mgap::tools {

namespace {

bool has_slide_extension(const std::filesystem::path& path) {
  static const std::set<std::string> kExtensions = {".svs", ".tif", ".tiff", ".ndpi", ".mrxs",
                                                    ".scn", ".vms", ".vmu",  ".bif",  ".png",
                                                    ".jpg", ".jpeg"};
  std::string extension = path.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return kExtensions.count(extension) != 0;
}

}  // namespace

std::vector<std::filesystem::path> expand_slide_list(const std::string& text) {
  std::vector<std::filesystem::path> paths;
  if (std::filesystem::is_directory(text)) {
    for (const auto& entry : std::filesystem::directory_iterator(text)) {
      if (entry.is_regular_file() && has_slide_extension(entry.path())) {
        paths.push_back(entry.path());
      }
    }
    std::sort(paths.begin(), paths.end());
    if (paths.empty()) {
      throw InputError("folder '" + text +
                       "' has no slide or image files; give a folder with .svs, .tif or .png files");
    }
    return paths;
  }
  for (const std::string& item : cli::split_list(text)) {
    if (!std::filesystem::is_regular_file(item)) {
      throw InputError("slide '" + item + "' not found; check the --slides path");
    }
    paths.emplace_back(item);
  }
  if (paths.empty()) {
    throw InputError("empty --slides; give a folder or a comma-separated list of slide files");
  }
  return paths;
}

}  // namespace mgap::tools
