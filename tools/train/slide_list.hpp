#pragma once

// Expands the --slides argument of the training programs into slide files.

#include <filesystem>
#include <string>
#include <vector>

namespace mgap::tools {

// A folder gives its files with a slide or image extension (.svs .tif .tiff .ndpi .mrxs .scn .vms
// .vmu .bif .png .jpg .jpeg), sorted by name. Any other text is a comma-separated list of files.
// Throws InputError for a missing file or a folder without slides.
std::vector<std::filesystem::path> expand_slide_list(const std::string& text);

}  // namespace mgap::tools
