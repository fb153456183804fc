// Google Benchmark of reading tiles at continuous mpps: each iteration reads one 224 x 224 tile at
// the next (mpp, x, y) of a request list, from the level just finer than the mpp, with Lanczos-3
// downsampling. The slide and the requests come from bench/slide/compare_with_python.sh, which
// runs bench/slide/openslide_peer.py on the same requests:
//   MGAP_BENCH_SLIDE    pyramidal TIFF to read
//   MGAP_BENCH_REQUESTS CSV with a header and rows mpp,x,y (level-0 pixels)

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "mgap/region_reader.hpp"
#include "mgap/slide.hpp"

namespace {

constexpr int kTileSizePx = 224;

std::string environment(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr) {
    throw std::runtime_error(std::string(name) + " is not set; run bench/slide/compare_with_python.sh");
  }
  return value;
}

const mgap::Slide& bench_slide() {
  static const mgap::Slide slide(environment("MGAP_BENCH_SLIDE"));
  return slide;
}

const std::vector<mgap::RegionRequest>& bench_requests() {
  static const std::vector<mgap::RegionRequest> requests = []() {
    std::ifstream file(environment("MGAP_BENCH_REQUESTS"));
    std::string line;
    std::getline(file, line);  // header
    std::vector<mgap::RegionRequest> result;
    while (std::getline(file, line)) {
      std::istringstream fields(line);
      mgap::RegionRequest request;
      char comma = 0;
      fields >> request.target_mpp >> comma >> request.center_x >> comma >> request.center_y;
      request.width_px = kTileSizePx;
      request.height_px = kTileSizePx;
      result.push_back(request);
    }
    if (result.empty()) throw std::runtime_error("no requests in MGAP_BENCH_REQUESTS");
    return result;
  }();
  return requests;
}

// Threads share one Slide (OpenSlide handles are thread-safe) and take requests in turn. The
// argument turns mgap's decoded-block cache off (0) or on at its default capacity (1).
void BM_RandomTiles(benchmark::State& state) {
  if (state.thread_index() == 0) {
    mgap::set_tile_cache_capacity(state.range(0) == 0 ? 0 : mgap::kDefaultTileCacheBytes);
  }
  const mgap::Slide& slide = bench_slide();
  const auto& requests = bench_requests();
  std::size_t next = static_cast<std::size_t>(state.thread_index());
  for (auto _ : state) {
    benchmark::DoNotOptimize(mgap::read_region(slide, requests[next % requests.size()]));
    next += static_cast<std::size_t>(state.threads());
  }
  state.counters["tiles_per_second"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_RandomTiles)->ArgName("cache")->Arg(0)->Arg(1)->ThreadRange(1, 2)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
