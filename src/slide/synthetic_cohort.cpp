#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <sstream>
#include <system_error>
#include <unistd.h>

#include "mgap/atomic_file.hpp"
#include "mgap/error.hpp"
#include "mgap/random.hpp"
#include "mgap/synthetic_tissue.hpp"
#include "output_folder.hpp"

namespace mgap {

void SyntheticCohortOptions::validate() const {
  if (output_dir.empty()) {
    throw InputError("no output folder for the synthetic cohort; give one with --output");
  }
  if (num_slides < 1) {
    throw InputError("invalid number of slides " + std::to_string(num_slides) +
                     "; use at least 1");
  }
  SyntheticSlideOptions slide;
  slide.width_px = slide_size_px;
  slide.height_px = slide_size_px;
  slide.mpp = mpp;
  slide.validate();
  const int usable = static_cast<int>(slide_size_px * (1.0 - 2.0 * kSyntheticRegionMarginFraction));
  if (region_size_px < 16 || region_size_px > usable) {
    throw InputError("invalid region size " + std::to_string(region_size_px) +
                     " px for slides of " + std::to_string(slide_size_px) + " px; use 16 to " +
                     std::to_string(usable) + " px");
  }
  if (jpeg_quality < 1 || jpeg_quality > 100) {
    throw InputError("invalid JPEG quality " + std::to_string(jpeg_quality) + "; use 1 to 100");
  }
}

SyntheticCohortReport write_synthetic_cohort(const SyntheticCohortOptions& options) {
  options.validate();
  detail::StagedFolder staged(options.output_dir);
  const std::filesystem::path& root = staged.path();
  std::filesystem::create_directories(root / "slides");
  const auto& classes = synthetic_classes();
  // Region folders are "{label_id}_{class name}" so that sorting them by name, as the benchmark
  // builder does, keeps the label ids.
  auto class_folder = [&classes](int label_id) {
    return std::to_string(label_id) + "_" + classes[label_id].name;
  };
  for (int label_id = 0; label_id < static_cast<int>(classes.size()); ++label_id) {
    std::filesystem::create_directories(root / "regions" / class_folder(label_id));
  }

  SyntheticCohortReport report;
  const int num_classes = static_cast<int>(classes.size());
  const int per_side = static_cast<int>(options.slide_size_px *
                                        (1.0 - 2.0 * kSyntheticRegionMarginFraction)) /
                       options.region_size_px;
  const int offset = (options.slide_size_px - per_side * options.region_size_px) / 2;
  for (int index = 0; index < options.num_slides; ++index) {
    SyntheticSlideOptions slide_options;
    slide_options.width_px = options.slide_size_px;
    slide_options.height_px = options.slide_size_px;
    slide_options.mpp = options.mpp;
    slide_options.class_id = index % num_classes;
    slide_options.seed = derive_seed(options.seed, static_cast<std::uint64_t>(index));
    const RgbImage image = render_synthetic_slide(slide_options);

    SyntheticSlideRecord slide;
    slide.slide_id = fmt::format("synth-{:03d}", index);
    slide.label_id = slide_options.class_id;
    slide.path = std::filesystem::path("slides") / (slide.slide_id + ".tif");
    PyramidalTiffOptions tiff;
    tiff.mpp = options.mpp;
    tiff.compression = options.compression;
    tiff.jpeg_quality = options.jpeg_quality;
    write_pyramidal_tiff(image, root / slide.path, tiff);
    report.slides.push_back(slide);

    for (int row = 0; row < per_side; ++row) {
      for (int column = 0; column < per_side; ++column) {
        SyntheticRegionRecord region;
        region.slide_id = slide.slide_id;
        region.label_id = slide.label_id;
        region.x = offset + column * options.region_size_px;
        region.y = offset + row * options.region_size_px;
        region.size_px = options.region_size_px;
        region.path = std::filesystem::path("regions") / class_folder(slide.label_id) /
                      fmt::format("{}_{}_{}.png", slide.slide_id, region.x, region.y);
        RgbImage crop(region.size_px, region.size_px);
        for (int y = 0; y < region.size_px; ++y) {
          std::copy_n(image.pixel(region.x, region.y + y), 3 * region.size_px, crop.pixel(0, y));
        }
        write_png(crop, root / region.path, options.mpp);
        report.regions.push_back(region);
      }
    }
    spdlog::info("synthetic slide {}/{}: {} ({}), {} regions", index + 1, options.num_slides,
                 slide.slide_id, classes[slide.label_id].name, per_side * per_side);
  }

  std::ostringstream slides_csv;
  slides_csv << "slide_id,label_id,class_name,path,width_px,height_px,mpp\n";
  for (const auto& slide : report.slides) {
    slides_csv << slide.slide_id << ',' << slide.label_id << ',' << classes[slide.label_id].name
               << ',' << slide.path.generic_string() << ',' << options.slide_size_px << ','
               << options.slide_size_px << ',' << options.mpp << '\n';
  }
  write_file_atomically(root / "slides.csv", slides_csv.str());
  std::ostringstream regions_csv;
  regions_csv << "slide_id,label_id,class_name,x,y,width_px,height_px,path\n";
  for (const auto& region : report.regions) {
    regions_csv << region.slide_id << ',' << region.label_id << ','
                << classes[region.label_id].name << ',' << region.x << ',' << region.y << ','
                << region.size_px << ',' << region.size_px << ','
                << region.path.generic_string() << '\n';
  }
  write_file_atomically(root / "regions.csv", regions_csv.str());
  staged.commit();
  return report;
}

}  // namespace mgap
