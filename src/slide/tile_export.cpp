#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <sstream>

#include "mgap/atomic_file.hpp"
#include "mgap/error.hpp"
#include "mgap/image_io.hpp"
#include "mgap/tile_sampler.hpp"
#include "output_folder.hpp"

namespace mgap {

void write_sampled_tiles(const std::vector<std::filesystem::path>& slide_paths,
                         SamplingDensity density, const TileSamplerOptions& options,
                         const std::filesystem::path& output_dir) {
  if (options.num_tiles <= 0) {
    throw InputError("invalid number of tiles " + std::to_string(options.num_tiles) +
                     " to write; use a positive count");
  }
  detail::StagedFolder staged(output_dir);
  std::filesystem::create_directories(staged.path() / "tiles");
  TileSampler sampler(slide_paths, std::move(density), options);

  // Progress every 5% of the stream, at most once per 100 tiles.
  constexpr std::int64_t kMinProgressStep = 100;
  const std::int64_t progress_step = std::max(kMinProgressStep, options.num_tiles / 20);
  std::ostringstream csv;
  csv << "index,slide,mpp,x,y,level,path\n";
  while (auto tile = sampler.next()) {
    const std::string name = fmt::format("tiles/{:06d}.png", tile->index);
    write_png(tile->image, staged.path() / name, tile->mpp);
    csv << tile->index << ',' << slide_paths[tile->slide_index].string() << ','
        << fmt::format("{:.17g},{:.17g},{:.17g}", tile->mpp, tile->x, tile->y) << ','
        << tile->level << ',' << name << '\n';
    if ((tile->index + 1) % progress_step == 0) {
      spdlog::info("wrote {}/{} tiles", tile->index + 1, options.num_tiles);
    }
  }
  write_file_atomically(staged.path() / "tiles.csv", csv.str());
  staged.commit();
}

}  // namespace mgap
