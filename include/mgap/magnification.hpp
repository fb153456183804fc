#pragma once

// Magnification in microns per pixel (mpp) and the log2 coordinate u = log2(mpp).
//
// One unit of u is one octave: 0.5 mpp (about 20x) to 1.0 mpp (about 10x). Objective power is only
// a label (power ~ 10 / mpp) and is never used for computation.

#include <string>
#include <vector>

namespace mgap {

// The coordinate in which a sampling distribution is uniform within a bin, and which defines the
// measure over targets and the base measure of entropy.
enum class Coordinate {
  kLog2Mpp,  // c = log2(mpp): one unit per octave (the default)
  kMpp,      // c = mpp: linear in microns per pixel
};

std::string to_string(Coordinate coordinate);
// Accepts "log2_mpp" and "mpp"; throws InputError naming the value otherwise.
Coordinate coordinate_from_string(const std::string& text);

double mpp_to_log2(double mpp);
double log2_to_mpp(double log2_mpp);

// Maps mpp to the coordinate c and back.
double mpp_to_coordinate(double mpp, Coordinate coordinate);
double coordinate_to_mpp(double value, Coordinate coordinate);

// Nominal objective power for display (40x at 0.25 mpp): 10 / mpp.
double nominal_objective_power(double mpp);

// Closed interval of mpps [lo_mpp, hi_mpp] with 0 < lo_mpp < hi_mpp.
struct MppDomain {
  double lo_mpp = 0.25;
  double hi_mpp = 2.0;

  // Throws InputError unless 0 < lo_mpp < hi_mpp and both are finite.
  void validate() const;
  bool contains(double mpp) const;
  // Length of the domain in the coordinate (3 octaves for the default domain in log2_mpp).
  double length(Coordinate coordinate) const;
};

// The four mpps of discrete-uniform training: 0.25, 0.5, 1.0, 2.0.
const std::vector<double>& standard_mpps();
// The seven benchmark test mpps: 0.25, 0.375, 0.5, 0.75, 1.0, 1.5, 2.0.
const std::vector<double>& test_mpps();
// The test mpps between standard ones: 0.375, 0.75, 1.5.
const std::vector<double>& intermediate_mpps();

// Whether `mpp` is one of the standard mpps (relative tolerance 1e-9).
bool is_standard_mpp(double mpp);

// Formats an mpp for file and folder names the way the benchmark layouts do (0.25, 0.375, 1.0, 2.0).
std::string format_mpp(double mpp);

}  // namespace mgap
