#pragma once

// Sampling distributions over magnification: a piecewise-constant density on bins plus atoms.
//
// Bin k spans the mpps [edges_mpp[k], edges_mpp[k+1]] and carries mass bin_masses[k], spread
// uniformly in the distribution's coordinate (log2 mpp or mpp). Atoms are point masses at single
// mpps. Bin masses and atom masses sum to 1 within kMassSumTolerance; nothing is ever renormalized
// silently. Sampling is by inverse CDF, so one uniform number maps to one mpp deterministically.

#include <functional>
#include <string>
#include <vector>

#include "mgap/magnification.hpp"
#include "mgap/random.hpp"

namespace mgap {

// Tolerance on the total mass: far above accumulated rounding of a few thousand terms (~1e-13),
// far below any meaningful mass.
inline constexpr double kMassSumTolerance = 1e-9;

struct DensityAtom {
  double mpp = 0.0;
  double mass = 0.0;
};

// Mass within a band of mpps, for summaries.
struct MppBandMass {
  double lo_mpp = 0.0;
  double hi_mpp = 0.0;
  double mass = 0.0;
};

struct DensitySummary {
  double mean_mpp = 0.0;
  double mean_log2_mpp = 0.0;
  std::vector<double> quantile_levels;  // 0.05, 0.25, 0.5, 0.75, 0.95
  std::vector<double> quantiles_mpp;    // the mpp at each level
  std::vector<MppBandMass> octave_masses;  // consecutive octaves from lo_mpp; the last may be partial
  std::vector<MppBandMass> standard_mpp_masses;  // within +-0.1 octave of each standard mpp in the domain
  double mass_below_half_mpp = 0.0;   // P(mpp < 0.5)
  double atom_mass = 0.0;
  // Differential entropy of the continuous part in the coordinate, in nats. An atom makes it minus
  // infinity, so has_entropy is false whenever there are atoms.
  bool has_entropy = false;
  double entropy_nats = 0.0;
};

class SamplingDensity {
 public:
  // Validates and stores a distribution. Throws InputError naming the first invalid value: a
  // non-finite or negative mass, edges not strictly increasing or not spanning the domain, an atom
  // outside the domain or with mass <= 0, or a total mass off 1 by more than kMassSumTolerance.
  SamplingDensity(Coordinate coordinate, MppDomain domain, std::vector<double> edges_mpp,
                  std::vector<double> bin_masses, std::vector<DensityAtom> atoms);

  Coordinate coordinate() const { return coordinate_; }
  const MppDomain& domain() const { return domain_; }
  const std::vector<double>& edges_mpp() const { return edges_mpp_; }
  const std::vector<double>& bin_masses() const { return bin_masses_; }
  const std::vector<DensityAtom>& atoms() const { return atoms_; }
  int num_bins() const { return static_cast<int>(bin_masses_.size()); }
  // Width of bin k in the coordinate.
  double bin_width(int bin) const;

  // Density of the continuous part with respect to log2 mpp (atoms excluded), per octave.
  double pdf_log2_mpp(double mpp) const;
  // Density of the continuous part with respect to mpp (atoms excluded), per micron per pixel:
  // pdf_log2_mpp(mpp) / (mpp ln 2).
  double pdf_mpp(double mpp) const;
  // P(S <= mpp), atoms included.
  double cdf(double mpp) const;
  // Mass in the closed band [lo_mpp, hi_mpp], atoms included.
  double mass_between(double lo_mpp, double hi_mpp) const;
  // Smallest mpp whose CDF reaches `probability` in [0, 1]; linear in the coordinate within a bin.
  double quantile(double probability) const;

  // Draws one mpp by inverse CDF from one uniform of `engine`.
  double sample(RandomEngine& engine) const;
  std::vector<double> sample(RandomEngine& engine, std::size_t count) const;

  DensitySummary summary() const;

 private:
  // A piece of the inverse CDF: an atom, or a part of a bin between atoms.
  struct Piece {
    double start = 0.0;  // in the coordinate
    double end = 0.0;    // equal to start for an atom
    double mass = 0.0;
    double cumulative_end = 0.0;  // CDF after this piece
    bool is_atom = false;
    double atom_mpp = 0.0;  // compared in mpp, since log2 can merge neighbouring doubles
  };

  void validate() const;
  void build_pieces();
  int find_bin(double mpp) const;  // -1 outside the domain

  Coordinate coordinate_;
  MppDomain domain_;
  std::vector<double> edges_mpp_;
  std::vector<double> bin_masses_;
  std::vector<DensityAtom> atoms_;  // sorted by mpp
  std::vector<Piece> pieces_;
};

// Bin edges in mpp of `num_bins` bins of equal width in the coordinate over the domain.
std::vector<double> equal_width_edges_mpp(const MppDomain& domain, Coordinate coordinate,
                                          int num_bins);

// Discrete uniform (DU): equal atoms at `mpps`.
SamplingDensity make_discrete_uniform(const MppDomain& domain, Coordinate coordinate,
                                      const std::vector<double>& mpps);
// DU on the standard mpps (0.25, 0.5, 1.0, 2.0) that lie inside the domain. Throws InputError when
// the domain contains none of them.
SamplingDensity make_discrete_uniform(const MppDomain& domain, Coordinate coordinate);
// Continuous uniform (CU) in the coordinate: log-uniform in mpp for log2_mpp, uniform for mpp.
SamplingDensity make_continuous_uniform(const MppDomain& domain, Coordinate coordinate,
                                        int num_bins);
// A single atom, e.g. training at 0.5 mpp only.
SamplingDensity make_point(const MppDomain& domain, Coordinate coordinate, double mpp);
// Discretizes a distribution on the normalized coordinate x in [0, 1] (x = 0 at lo_mpp) by CDF
// differences over equal-width bins. `normalized_cdf` must be nondecreasing with F(0)=0, F(1)=1.
SamplingDensity make_from_normalized_cdf(const MppDomain& domain, Coordinate coordinate,
                                         int num_bins,
                                         const std::function<double(double)>& normalized_cdf);
// Beta(alpha, beta) on the normalized coordinate (Boost.Math).
SamplingDensity make_beta(const MppDomain& domain, Coordinate coordinate, int num_bins,
                          double alpha, double beta);
// Normal(mean_mpp, sd in the coordinate) truncated to the domain (Boost.Math).
SamplingDensity make_truncated_normal(const MppDomain& domain, Coordinate coordinate,
                                      int num_bins, double mean_mpp, double standard_deviation);

}  // namespace mgap
