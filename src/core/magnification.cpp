#include "mgap/magnification.hpp"

#include <fmt/format.h>

#include <cmath>

#include "mgap/error.hpp"

namespace mgap {

namespace {
constexpr double kMppMatchRelativeTolerance = 1e-9;
}

std::string to_string(Coordinate coordinate) {
  return coordinate == Coordinate::kLog2Mpp ? "log2_mpp" : "mpp";
}

Coordinate coordinate_from_string(const std::string& text) {
  if (text == "log2_mpp") {
    return Coordinate::kLog2Mpp;
  }
  if (text == "mpp") {
    return Coordinate::kMpp;
  }
  throw InputError("unknown coordinate '" + text + "'; use log2_mpp or mpp");
}

double mpp_to_log2(double mpp) { return std::log2(mpp); }
double log2_to_mpp(double log2_mpp) { return std::exp2(log2_mpp); }

double mpp_to_coordinate(double mpp, Coordinate coordinate) {
  return coordinate == Coordinate::kLog2Mpp ? mpp_to_log2(mpp) : mpp;
}

double coordinate_to_mpp(double value, Coordinate coordinate) {
  return coordinate == Coordinate::kLog2Mpp ? log2_to_mpp(value) : value;
}

double nominal_objective_power(double mpp) { return 10.0 / mpp; }

void MppDomain::validate() const {
  if (!std::isfinite(lo_mpp) || !std::isfinite(hi_mpp) || lo_mpp <= 0.0 || lo_mpp >= hi_mpp) {
    throw InputError(fmt::format(
        "invalid mpp domain [{}, {}]; it needs 0 < LO < HI, for example 0.25,2.0", lo_mpp,
        hi_mpp));
  }
}

bool MppDomain::contains(double mpp) const {
  const double slack = kMppMatchRelativeTolerance * hi_mpp;
  return mpp >= lo_mpp - slack && mpp <= hi_mpp + slack;
}

double MppDomain::length(Coordinate coordinate) const {
  return mpp_to_coordinate(hi_mpp, coordinate) - mpp_to_coordinate(lo_mpp, coordinate);
}

const std::vector<double>& standard_mpps() {
  static const std::vector<double> mpps = {0.25, 0.5, 1.0, 2.0};
  return mpps;
}

const std::vector<double>& test_mpps() {
  static const std::vector<double> mpps = {0.25, 0.375, 0.5, 0.75, 1.0, 1.5, 2.0};
  return mpps;
}

const std::vector<double>& intermediate_mpps() {
  static const std::vector<double> mpps = {0.375, 0.75, 1.5};
  return mpps;
}

bool is_standard_mpp(double mpp) {
  for (const double standard : standard_mpps()) {
    if (std::abs(mpp - standard) <= kMppMatchRelativeTolerance * standard) {
      return true;
    }
  }
  return false;
}

std::string format_mpp(double mpp) {
  // Shortest representation that keeps at least one decimal: 1 -> "1.0", 0.375 -> "0.375".
  std::string text = fmt::format("{}", mpp);
  if (text.find_first_of(".e") == std::string::npos) {
    text += ".0";
  }
  return text;
}

}  // namespace mgap
