#include "mgap/density.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/math/distributions/beta.hpp>
#include <boost/math/distributions/normal.hpp>
#include <cmath>
#include <numeric>

#include "mgap/error.hpp"

namespace mgap {

namespace {

// Half-width, in octaves, of the band around each standard mpp reported in summaries.
constexpr double kStandardBandOctaves = 0.1;

void check_finite_nonnegative(double mass, const std::string& what) {
  if (!std::isfinite(mass) || mass < 0.0) {
    throw InputError(fmt::format("invalid {} {}: masses must be finite and >= 0", what, mass));
  }
}

}  // namespace

SamplingDensity::SamplingDensity(Coordinate coordinate, MppDomain domain,
                                 std::vector<double> edges_mpp, std::vector<double> bin_masses,
                                 std::vector<DensityAtom> atoms)
    : coordinate_(coordinate),
      domain_(domain),
      edges_mpp_(std::move(edges_mpp)),
      bin_masses_(std::move(bin_masses)),
      atoms_(std::move(atoms)) {
  std::sort(atoms_.begin(), atoms_.end(),
            [](const DensityAtom& a, const DensityAtom& b) { return a.mpp < b.mpp; });
  validate();
  build_pieces();
}

void SamplingDensity::validate() const {
  domain_.validate();
  if (bin_masses_.empty() && atoms_.empty()) {
    throw InputError("a sampling density needs at least one bin or one atom");
  }
  if (!bin_masses_.empty()) {
    if (edges_mpp_.size() != bin_masses_.size() + 1) {
      throw InputError(fmt::format("{} bin masses need {} edges, but {} edges were given",
                                   bin_masses_.size(), bin_masses_.size() + 1, edges_mpp_.size()));
    }
    for (std::size_t i = 0; i < edges_mpp_.size(); ++i) {
      if (!std::isfinite(edges_mpp_[i]) || edges_mpp_[i] <= 0.0) {
        throw InputError(fmt::format("invalid bin edge {} mpp at index {}", edges_mpp_[i], i));
      }
      if (i > 0 && edges_mpp_[i] <= edges_mpp_[i - 1]) {
        throw InputError(fmt::format(
            "bin edges must increase strictly, but edge {} is {} mpp after {} mpp", i,
            edges_mpp_[i], edges_mpp_[i - 1]));
      }
    }
    if (!domain_.contains(edges_mpp_.front()) || !domain_.contains(edges_mpp_.back())) {
      throw InputError(fmt::format("bin edges [{}, {}] mpp leave the domain [{}, {}] mpp",
                                   edges_mpp_.front(), edges_mpp_.back(), domain_.lo_mpp,
                                   domain_.hi_mpp));
    }
  } else if (!edges_mpp_.empty()) {
    throw InputError("bin edges were given without bin masses; give both or neither");
  }
  double total = 0.0;
  for (std::size_t k = 0; k < bin_masses_.size(); ++k) {
    check_finite_nonnegative(bin_masses_[k], fmt::format("mass of bin {}", k));
    total += bin_masses_[k];
  }
  for (const DensityAtom& atom : atoms_) {
    if (!std::isfinite(atom.mpp) || !domain_.contains(atom.mpp)) {
      throw InputError(fmt::format("atom at {} mpp lies outside the domain [{}, {}] mpp", atom.mpp,
                                   domain_.lo_mpp, domain_.hi_mpp));
    }
    if (!std::isfinite(atom.mass) || atom.mass <= 0.0) {
      throw InputError(
          fmt::format("atom at {} mpp has mass {}; atom masses must be > 0", atom.mpp, atom.mass));
    }
    total += atom.mass;
  }
  if (std::abs(total - 1.0) > kMassSumTolerance) {
    throw InputError(fmt::format(
        "masses sum to {:.12g}, not 1 (tolerance {:g}); normalize them before use", total,
        kMassSumTolerance));
  }
}

double SamplingDensity::bin_width(int bin) const {
  return mpp_to_coordinate(edges_mpp_[bin + 1], coordinate_) -
         mpp_to_coordinate(edges_mpp_[bin], coordinate_);
}

void SamplingDensity::build_pieces() {
  // Walk bins and atoms in order of position; an atom inside a bin splits the bin in two pieces.
  pieces_.clear();
  std::size_t next_atom = 0;
  auto emit_atom = [this, &next_atom]() {
    const DensityAtom& atom = atoms_[next_atom++];
    const double position = mpp_to_coordinate(atom.mpp, coordinate_);
    pieces_.push_back({position, position, atom.mass, 0.0, true, atom.mpp});
  };
  for (int k = 0; k < num_bins(); ++k) {
    double start = mpp_to_coordinate(edges_mpp_[k], coordinate_);
    const double end = mpp_to_coordinate(edges_mpp_[k + 1], coordinate_);
    const double density = bin_masses_[k] / (end - start);
    while (next_atom < atoms_.size() && atoms_[next_atom].mpp <= edges_mpp_[k + 1]) {
      const double position = mpp_to_coordinate(atoms_[next_atom].mpp, coordinate_);
      if (position > start) {
        pieces_.push_back({start, position, density * (position - start), 0.0, false});
        start = position;
      }
      emit_atom();
    }
    if (end > start) {
      pieces_.push_back({start, end, density * (end - start), 0.0, false});
    }
  }
  while (next_atom < atoms_.size()) {
    emit_atom();
  }
  double cumulative = 0.0;
  for (Piece& piece : pieces_) {
    cumulative += piece.mass;
    piece.cumulative_end = cumulative;
  }
}

int SamplingDensity::find_bin(double mpp) const {
  if (bin_masses_.empty() || mpp < edges_mpp_.front() || mpp > edges_mpp_.back()) {
    return -1;
  }
  const auto upper = std::upper_bound(edges_mpp_.begin(), edges_mpp_.end(), mpp);
  const int bin = static_cast<int>(upper - edges_mpp_.begin()) - 1;
  return std::min(bin, num_bins() - 1);
}

double SamplingDensity::pdf_log2_mpp(double mpp) const {
  const int bin = find_bin(mpp);
  if (bin < 0) {
    return 0.0;
  }
  const double density_in_coordinate = bin_masses_[bin] / bin_width(bin);
  // Jacobian dc/du: 1 for log2_mpp, mpp ln 2 for mpp.
  return coordinate_ == Coordinate::kLog2Mpp ? density_in_coordinate
                                             : density_in_coordinate * mpp * std::log(2.0);
}

double SamplingDensity::pdf_mpp(double mpp) const {
  return pdf_log2_mpp(mpp) / (mpp * std::log(2.0));
}

double SamplingDensity::cdf(double mpp) const {
  const double position = mpp_to_coordinate(std::max(mpp, 1e-300), coordinate_);
  double total = 0.0;
  for (const Piece& piece : pieces_) {
    if (piece.is_atom) {
      if (piece.atom_mpp <= mpp) {
        total += piece.mass;
      }
    } else if (position >= piece.end) {
      total += piece.mass;
    } else if (position > piece.start) {
      total += piece.mass * (position - piece.start) / (piece.end - piece.start);
    }
  }
  return std::min(total, 1.0);
}

double SamplingDensity::mass_between(double lo_mpp, double hi_mpp) const {
  const double lo = mpp_to_coordinate(std::max(lo_mpp, 1e-300), coordinate_);
  const double hi = mpp_to_coordinate(std::max(hi_mpp, 1e-300), coordinate_);
  double total = 0.0;
  for (const Piece& piece : pieces_) {
    if (piece.is_atom) {
      if (piece.atom_mpp >= lo_mpp && piece.atom_mpp <= hi_mpp) {
        total += piece.mass;
      }
      continue;
    }
    const double overlap = std::min(hi, piece.end) - std::max(lo, piece.start);
    if (overlap > 0.0) {
      total += piece.mass * overlap / (piece.end - piece.start);
    }
  }
  return total;
}

double SamplingDensity::quantile(double probability) const {
  if (!(probability >= 0.0 && probability <= 1.0)) {
    throw InputError(fmt::format("probability {} is outside [0, 1]", probability));
  }
  double cumulative_start = 0.0;
  const Piece* last_with_mass = nullptr;
  for (const Piece& piece : pieces_) {
    if (piece.mass <= 0.0) {
      cumulative_start = piece.cumulative_end;
      continue;
    }
    last_with_mass = &piece;
    if (piece.cumulative_end >= probability) {
      if (piece.is_atom) {
        return piece.atom_mpp;
      }
      const double fraction =
          std::clamp((probability - cumulative_start) / piece.mass, 0.0, 1.0);
      return coordinate_to_mpp(piece.start + fraction * (piece.end - piece.start), coordinate_);
    }
    cumulative_start = piece.cumulative_end;
  }
  // Rounding can leave the total a hair below 1: return the end of the last piece with mass.
  return coordinate_to_mpp(last_with_mass->end, coordinate_);
}

double SamplingDensity::sample(RandomEngine& engine) const { return quantile(uniform01(engine)); }

std::vector<double> SamplingDensity::sample(RandomEngine& engine, std::size_t count) const {
  std::vector<double> mpps(count);
  for (double& mpp : mpps) {
    mpp = sample(engine);
  }
  return mpps;
}

DensitySummary SamplingDensity::summary() const {
  DensitySummary summary;
  const double ln2 = std::log(2.0);
  for (const Piece& piece : pieces_) {
    if (piece.mass <= 0.0) {
      continue;
    }
    if (piece.is_atom) {
      const double mpp = piece.atom_mpp;
      summary.mean_mpp += piece.mass * mpp;
      summary.mean_log2_mpp += piece.mass * std::log2(mpp);
      summary.atom_mass += piece.mass;
      continue;
    }
    const double width = piece.end - piece.start;
    if (coordinate_ == Coordinate::kLog2Mpp) {
      // Uniform in u on [a, b]: E[2^u] = (2^b - 2^a) / ((b - a) ln 2), E[u] = (a + b) / 2.
      summary.mean_mpp += piece.mass * (std::exp2(piece.end) - std::exp2(piece.start)) / (width * ln2);
      summary.mean_log2_mpp += piece.mass * 0.5 * (piece.start + piece.end);
    } else {
      // Uniform in s on [a, b]: E[s] = (a + b) / 2, E[log2 s] = (b log2 b - a log2 a) / (b - a) - 1/ln 2.
      const double a = piece.start;
      const double b = piece.end;
      summary.mean_mpp += piece.mass * 0.5 * (a + b);
      summary.mean_log2_mpp += piece.mass * ((b * std::log2(b) - a * std::log2(a)) / width - 1.0 / ln2);
    }
  }

  summary.quantile_levels = {0.05, 0.25, 0.5, 0.75, 0.95};
  for (const double level : summary.quantile_levels) {
    summary.quantiles_mpp.push_back(quantile(level));
  }

  for (double lo = domain_.lo_mpp; lo < domain_.hi_mpp * (1.0 - 1e-12); lo *= 2.0) {
    const double hi = std::min(2.0 * lo, domain_.hi_mpp);
    // Half-open octaves [lo, hi) so that an atom on a boundary is counted once; the last is closed.
    const bool last = hi >= domain_.hi_mpp;
    const double mass = last ? mass_between(lo, hi) : cdf(std::nextafter(hi, 0.0)) - cdf(std::nextafter(lo, 0.0));
    summary.octave_masses.push_back({lo, hi, mass});
  }

  const double band = std::exp2(kStandardBandOctaves);
  for (const double standard : standard_mpps()) {
    if (domain_.contains(standard)) {
      summary.standard_mpp_masses.push_back(
          {standard / band, standard * band, mass_between(standard / band, standard * band)});
    }
  }
  summary.mass_below_half_mpp = cdf(std::nextafter(0.5, 0.0));

  summary.has_entropy = atoms_.empty();
  if (summary.has_entropy) {
    for (int k = 0; k < num_bins(); ++k) {
      if (bin_masses_[k] > 0.0) {
        summary.entropy_nats -= bin_masses_[k] * std::log(bin_masses_[k] / bin_width(k));
      }
    }
  }
  return summary;
}

std::vector<double> equal_width_edges_mpp(const MppDomain& domain, Coordinate coordinate,
                                          int num_bins) {
  domain.validate();
  if (num_bins < 1) {
    throw InputError(fmt::format("invalid number of bins {}; use 1 or more", num_bins));
  }
  const double lo = mpp_to_coordinate(domain.lo_mpp, coordinate);
  const double hi = mpp_to_coordinate(domain.hi_mpp, coordinate);
  std::vector<double> edges(num_bins + 1);
  for (int k = 0; k <= num_bins; ++k) {
    edges[k] = coordinate_to_mpp(lo + (hi - lo) * k / num_bins, coordinate);
  }
  // Pin the ends so that rounding in exp2/log2 cannot move them off the domain.
  edges.front() = domain.lo_mpp;
  edges.back() = domain.hi_mpp;
  return edges;
}

SamplingDensity make_discrete_uniform(const MppDomain& domain, Coordinate coordinate,
                                      const std::vector<double>& mpps) {
  if (mpps.empty()) {
    throw InputError("discrete uniform sampling needs at least one mpp");
  }
  std::vector<DensityAtom> atoms;
  for (const double mpp : mpps) {
    atoms.push_back({mpp, 1.0 / static_cast<double>(mpps.size())});
  }
  return SamplingDensity(coordinate, domain, {}, {}, std::move(atoms));
}

SamplingDensity make_discrete_uniform(const MppDomain& domain, Coordinate coordinate) {
  domain.validate();
  std::vector<double> inside;
  for (const double mpp : standard_mpps()) {
    if (domain.contains(mpp)) {
      inside.push_back(mpp);
    }
  }
  if (inside.empty()) {
    throw InputError(fmt::format(
        "the domain [{}, {}] mpp contains none of the standard mpps 0.25, 0.5, 1.0 and 2.0, so "
        "discrete uniform sampling (du) is undefined; widen the domain or give a density file",
        domain.lo_mpp, domain.hi_mpp));
  }
  return make_discrete_uniform(domain, coordinate, inside);
}

SamplingDensity make_continuous_uniform(const MppDomain& domain, Coordinate coordinate,
                                        int num_bins) {
  std::vector<double> edges = equal_width_edges_mpp(domain, coordinate, num_bins);
  std::vector<double> masses(num_bins, 1.0 / num_bins);
  return SamplingDensity(coordinate, domain, std::move(edges), std::move(masses), {});
}

SamplingDensity make_point(const MppDomain& domain, Coordinate coordinate, double mpp) {
  return SamplingDensity(coordinate, domain, {}, {}, {{mpp, 1.0}});
}

SamplingDensity make_from_normalized_cdf(const MppDomain& domain, Coordinate coordinate,
                                         int num_bins,
                                         const std::function<double(double)>& normalized_cdf) {
  std::vector<double> edges = equal_width_edges_mpp(domain, coordinate, num_bins);
  std::vector<double> masses(num_bins);
  double previous = normalized_cdf(0.0);
  for (int k = 0; k < num_bins; ++k) {
    const double current = normalized_cdf(static_cast<double>(k + 1) / num_bins);
    masses[k] = current - previous;
    previous = current;
  }
  // Rescale only the rounding of the CDF differences; a CDF off by more is a caller error that
  // the constructor reports.
  const double total = std::accumulate(masses.begin(), masses.end(), 0.0);
  if (std::abs(total - 1.0) < 1e-6 && total > 0.0) {
    for (double& mass : masses) {
      mass /= total;
    }
  }
  return SamplingDensity(coordinate, domain, std::move(edges), std::move(masses), {});
}

SamplingDensity make_beta(const MppDomain& domain, Coordinate coordinate, int num_bins,
                          double alpha, double beta) {
  if (!(alpha > 0.0) || !(beta > 0.0) || !std::isfinite(alpha) || !std::isfinite(beta)) {
    throw InputError(fmt::format("invalid Beta parameters ({}, {}); both must be > 0", alpha, beta));
  }
  const boost::math::beta_distribution<double> distribution(alpha, beta);
  return make_from_normalized_cdf(domain, coordinate, num_bins, [&distribution](double x) {
    return boost::math::cdf(distribution, std::clamp(x, 0.0, 1.0));
  });
}

SamplingDensity make_truncated_normal(const MppDomain& domain, Coordinate coordinate,
                                      int num_bins, double mean_mpp, double standard_deviation) {
  if (!(standard_deviation > 0.0) || !std::isfinite(standard_deviation) || !(mean_mpp > 0.0)) {
    throw InputError(fmt::format(
        "invalid truncated normal (mean {} mpp, sd {}); the mean must be > 0 mpp and the sd > 0",
        mean_mpp, standard_deviation));
  }
  const boost::math::normal_distribution<double> distribution(
      mpp_to_coordinate(mean_mpp, coordinate), standard_deviation);
  const double lo = mpp_to_coordinate(domain.lo_mpp, coordinate);
  const double hi = mpp_to_coordinate(domain.hi_mpp, coordinate);
  const double cdf_lo = boost::math::cdf(distribution, lo);
  const double cdf_hi = boost::math::cdf(distribution, hi);
  if (!(cdf_hi - cdf_lo > 1e-12)) {
    throw InputError(fmt::format(
        "the normal with mean {} mpp has no mass on the domain; move the mean inside it", mean_mpp));
  }
  return make_from_normalized_cdf(domain, coordinate, num_bins, [&](double x) {
    return (boost::math::cdf(distribution, lo + x * (hi - lo)) - cdf_lo) / (cdf_hi - cdf_lo);
  });
}

}  // namespace mgap
