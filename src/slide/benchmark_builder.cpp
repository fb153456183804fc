#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "mgap/atomic_file.hpp"
#include "mgap/benchmark_dataset.hpp"
#include "mgap/error.hpp"
#include "mgap/magnification.hpp"
#include "mgap/region_reader.hpp"
#include "mgap/slide.hpp"
#include "mgap/image_io.hpp"
#include "mgap/version.hpp"
#include "output_folder.hpp"

namespace mgap {
namespace {

// Relative slack when comparing a region's physical size or pixel size with what a target mpp
// needs, so that 448 um stored as 447.9999 um is not skipped.
constexpr double kSizeSlack = 1e-6;

bool is_image_file(const std::filesystem::path& path) {
  std::string extension = path.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return extension == ".png" || extension == ".jpg" || extension == ".jpeg" ||
         extension == ".tif" || extension == ".tiff";
}

struct RegionInput {
  std::filesystem::path path;
  int label_id = 0;
  std::string slide_id;
  long long x = 0;
  long long y = 0;
};

RegionInput describe_region(const std::filesystem::path& path, int label_id) {
  RegionInput region;
  region.path = path;
  region.label_id = label_id;
  const std::string stem = path.stem().string();
  region.slide_id = stem;
  // "{slide}_{x}_{y}" keeps its coordinates; any other name is a slide of its own at (0, 0).
  const auto last = stem.rfind('_');
  const auto middle = last == std::string::npos || last == 0 ? std::string::npos
                                                               : stem.rfind('_', last - 1);
  if (middle != std::string::npos && middle > 0) {
    try {
      std::size_t used_x = 0;
      std::size_t used_y = 0;
      const std::string x_text = stem.substr(middle + 1, last - middle - 1);
      const std::string y_text = stem.substr(last + 1);
      const long long x = std::stoll(x_text, &used_x);
      const long long y = std::stoll(y_text, &used_y);
      if (used_x == x_text.size() && used_y == y_text.size()) {
        region.slide_id = stem.substr(0, middle);
        region.x = x;
        region.y = y;
      }
    } catch (const std::exception&) {
      // Not numeric: keep the whole stem as the slide id.
    }
  }
  return region;
}

// Centre crop of `image` of crop_width x crop_height pixels.
RgbImage centre_crop(const RgbImage& image, int crop_width, int crop_height) {
  RgbImage crop(crop_width, crop_height);
  const int left = (image.width - crop_width) / 2;
  const int top = (image.height - crop_height) / 2;
  for (int y = 0; y < crop_height; ++y) {
    std::copy_n(image.pixel(left, top + y), 3 * crop_width, crop.pixel(0, y));
  }
  return crop;
}

}  // namespace

void BuildBenchmarkOptions::validate() const {
  if (!std::filesystem::is_directory(input_dir)) {
    throw InputError("input folder '" + input_dir.string() + "' not found; give a folder of "
                     "class folders with --input");
  }
  if (output_dir.empty()) {
    throw InputError("no output folder; give one with --output");
  }
  if (target_mpps.empty()) {
    throw InputError("no target mpps; give at least one with --mpps");
  }
  for (const double mpp : target_mpps) {
    if (!(std::isfinite(mpp) && mpp > 0.0)) {
      throw InputError("invalid target mpp " + std::to_string(mpp) + "; use positive values");
    }
  }
  if (tile_size_px <= 0) {
    throw InputError("invalid tile size " + std::to_string(tile_size_px) + " px; use a "
                     "positive size such as 224");
  }
  MppResolutionOptions mpp;
  mpp.override_mpp = input_mpp;
  mpp.validate();
}

BuildBenchmarkReport build_benchmark(const BuildBenchmarkOptions& options) {
  options.validate();
  BuildBenchmarkReport report;

  // Class folders in name order give the label ids.
  std::vector<RegionInput> inputs;
  std::vector<std::filesystem::path> class_folders;
  for (const auto& entry : std::filesystem::directory_iterator(options.input_dir)) {
    if (entry.is_directory()) class_folders.push_back(entry.path());
  }
  std::sort(class_folders.begin(), class_folders.end());
  for (const auto& folder : class_folders) {
    const int label_id = static_cast<int>(report.class_names.size());
    report.class_names.push_back(folder.filename().string());
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(folder)) {
      if (entry.is_regular_file() && is_image_file(entry.path())) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) inputs.push_back(describe_region(file, label_id));
  }
  if (inputs.empty()) {
    throw InputError("no images under '" + options.input_dir.string() + "'; expected "
                     "INPUT/{class}/{image}.png (or .jpg, .tif)");
  }
  report.num_regions = static_cast<int>(inputs.size());

  std::vector<double> mpps = options.target_mpps;
  std::sort(mpps.begin(), mpps.end());
  mpps.erase(std::unique(mpps.begin(), mpps.end()), mpps.end());
  const double max_mpp = mpps.back();
  const double min_mpp = mpps.front();

  detail::StagedFolder staged(options.output_dir);
  for (const double mpp : mpps) {
    std::filesystem::create_directories(staged.path() / ("mpp_" + format_mpp(mpp)));
  }

  std::map<std::string, int> slide_labels;  // slides in first-appearance order below
  std::vector<std::string> slide_order;
  SlideOpenOptions open_options;
  open_options.mpp.override_mpp = options.input_mpp;
  for (std::size_t index = 0; index < inputs.size(); ++index) {
    const RegionInput& input = inputs[index];
    const Slide image(input.path, open_options);
    const MppResolution& pixel = image.mpp();
    const double width_um = static_cast<double>(image.width()) * pixel.mpp_x;
    const double height_um = static_cast<double>(image.height()) * pixel.mpp_y;
    const double needed_um = options.tile_size_px * max_mpp;
    if (std::min(width_um, height_um) < needed_um * (1.0 - kSizeSlack)) {
      ++report.num_skipped_too_small;
      spdlog::debug("skipping '{}': {:.1f} x {:.1f} um, {:.1f} um needed at {} mpp",
                    input.path.string(), width_um, height_um, needed_um, max_mpp);
      continue;
    }
    if (std::max(pixel.mpp_x, pixel.mpp_y) > min_mpp * (1.0 + kSizeSlack)) {
      ++report.num_skipped_too_coarse;
      spdlog::debug("skipping '{}': {} mpp is coarser than the target {} mpp",
                    input.path.string(), std::max(pixel.mpp_x, pixel.mpp_y), min_mpp);
      continue;
    }
    const auto [existing, inserted] = slide_labels.emplace(input.slide_id, input.label_id);
    if (inserted) {
      slide_order.push_back(input.slide_id);
    } else if (existing->second != input.label_id) {
      throw InputError("slide '" + input.slide_id + "' has regions in class folders '" +
                       report.class_names[existing->second] + "' and '" +
                       report.class_names[input.label_id] +
                       "'; labels.csv holds one label per slide, so rename the regions");
    }

    // Only the centre crop of the largest target mpp is decoded; smaller crops are cut from it.
    auto crop_size = [&](double mpp, double pixel_mpp, std::int64_t limit) {
      const double side_um = options.tile_size_px * mpp;
      return static_cast<int>(std::min<std::int64_t>(limit, std::lround(side_um / pixel_mpp)));
    };
    const int largest_width = crop_size(max_mpp, pixel.mpp_x, image.width());
    const int largest_height = crop_size(max_mpp, pixel.mpp_y, image.height());
    const RgbImage largest = image.read_level_region(0, (image.width() - largest_width) / 2,
                                                     (image.height() - largest_height) / 2,
                                                     largest_width, largest_height);
    const std::string name = input.slide_id + "_" + std::to_string(input.x) + "_" +
                             std::to_string(input.y) + ".png";
    for (const double mpp : mpps) {
      const int crop_width = crop_size(mpp, pixel.mpp_x, largest_width);
      const int crop_height = crop_size(mpp, pixel.mpp_y, largest_height);
      const RgbImage tile = progressive_downsample(centre_crop(largest, crop_width, crop_height),
                                                   options.tile_size_px, options.tile_size_px);
      write_png(tile, staged.path() / ("mpp_" + format_mpp(mpp)) / name, mpp);
    }
    ++report.num_written;
    if ((index + 1) % 50 == 0) {
      spdlog::info("built {}/{} regions", index + 1, inputs.size());
    }
  }
  report.num_slides = static_cast<int>(slide_order.size());
  if (report.num_written == 0) {
    throw InputError("every region under '" + options.input_dir.string() + "' was skipped (" +
                     std::to_string(report.num_skipped_too_small) + " too small for " +
                     std::to_string(options.tile_size_px) + " px at " + format_mpp(max_mpp) +
                     " mpp, " + std::to_string(report.num_skipped_too_coarse) +
                     " coarser than " + format_mpp(min_mpp) +
                     " mpp); use larger regions, a smaller --tile-size or other --mpps");
  }

  std::vector<int> group_labels;
  for (const auto& slide : slide_order) group_labels.push_back(slide_labels[slide]);
  const auto roles = assign_grouped_folds(group_labels, options.num_folds, options.seed);
  std::vector<SlideLabel> labels;
  for (std::size_t i = 0; i < slide_order.size(); ++i) {
    labels.push_back(SlideLabel{slide_order[i], group_labels[i], roles[i]});
  }
  write_labels_csv(staged.path() / "labels.csv", labels);

  nlohmann::json summary;
  summary["program_version"] = kVersion;
  summary["input_dir"] = options.input_dir.string();
  summary["class_names"] = report.class_names;
  summary["target_mpps"] = mpps;
  summary["tile_size_px"] = options.tile_size_px;
  summary["num_folds"] = options.num_folds;
  summary["seed"] = options.seed;
  summary["num_regions"] = report.num_regions;
  summary["num_written"] = report.num_written;
  summary["num_skipped_too_small"] = report.num_skipped_too_small;
  summary["num_skipped_too_coarse"] = report.num_skipped_too_coarse;
  summary["num_slides"] = report.num_slides;
  write_file_atomically(staged.path() / "build_report.json", summary.dump(2) + "\n");
  staged.commit();
  spdlog::info("benchmark written to '{}': {} regions from {} slides, {} skipped as too small, "
               "{} as too coarse",
               options.output_dir.string(), report.num_written, report.num_slides,
               report.num_skipped_too_small, report.num_skipped_too_coarse);
  return report;
}

}  // namespace mgap
