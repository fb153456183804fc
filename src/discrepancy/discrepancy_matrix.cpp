#include "mgap/discrepancy_matrix.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "mgap/error.hpp"
#include "mgap/random.hpp"

namespace mgap {

namespace {

// Independent random streams derived from the user's seed, one per purpose.
constexpr std::uint64_t kBandwidthStream = 1;
constexpr std::uint64_t kTileBootstrapStream = 2;
constexpr std::uint64_t kPairBootstrapStream = 3;
constexpr std::uint64_t kFoldStream = 4;

struct MppPair {
  std::size_t i = 0;
  std::size_t j = 0;
};

std::vector<MppPair> upper_pairs(std::size_t num_sets) {
  std::vector<MppPair> pairs;
  for (std::size_t i = 0; i < num_sets; ++i) {
    for (std::size_t j = i + 1; j < num_sets; ++j) {
      pairs.push_back({i, j});
    }
  }
  return pairs;
}

// Bootstrap multiplicities [n, num_resamples]: column r counts how often each row was drawn in
// n draws with replacement from the stream derive_seed(seed, r).
Eigen::MatrixXd bootstrap_counts(Eigen::Index n, int num_resamples, std::uint64_t seed) {
  Eigen::MatrixXd counts = Eigen::MatrixXd::Zero(n, num_resamples);
  for (int r = 0; r < num_resamples; ++r) {
    RandomEngine engine(derive_seed(seed, static_cast<std::uint64_t>(r)));
    for (Eigen::Index k = 0; k < n; ++k) {
      counts(static_cast<Eigen::Index>(uniform_index(engine, static_cast<std::uint64_t>(n))), r) +=
          1.0;
    }
  }
  return counts;
}

// Per-mpp bootstrap multiplicities, shared by every pair that contains the mpp.
std::vector<Eigen::MatrixXd> tile_bootstrap_counts(const EmbeddingBundle& bundle,
                                                   const DiscrepancyOptions& options) {
  std::vector<Eigen::MatrixXd> counts;
  const std::uint64_t stream = derive_seed(options.seed, kTileBootstrapStream);
  for (std::size_t i = 0; i < bundle.sets.size(); ++i) {
    counts.push_back(bootstrap_counts(bundle.sets[i].num_tiles(), options.num_bootstrap,
                                      derive_seed(stream, i)));
  }
  return counts;
}

void set_symmetric(Eigen::MatrixXd& matrix, const MppPair& pair, double value) {
  matrix(static_cast<Eigen::Index>(pair.i), static_cast<Eigen::Index>(pair.j)) = value;
  matrix(static_cast<Eigen::Index>(pair.j), static_cast<Eigen::Index>(pair.i)) = value;
}

// Stores the point estimate and, from the resampled values, the percentile interval.
void record_pair(DiscrepancyReport& report, const MppPair& pair, double value,
                 const std::vector<double>& resampled) {
  set_symmetric(report.matrix, pair, value);
  if (resampled.empty()) {
    set_symmetric(report.ci_low, pair, value);
    set_symmetric(report.ci_high, pair, value);
    return;
  }
  const double tail = 0.5 * (1.0 - report.confidence_level);
  set_symmetric(report.ci_low, pair, percentile(resampled, tail));
  set_symmetric(report.ci_high, pair, percentile(resampled, 1.0 - tail));
}

void estimate_mmd(const EmbeddingBundle& bundle, const DiscrepancyOptions& options,
                  const std::vector<Eigen::MatrixXd>& counts, DiscrepancyReport& report) {
  const std::size_t num_sets = bundle.sets.size();
  report.bandwidths = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(num_sets),
                                            static_cast<Eigen::Index>(num_sets));
  const std::uint64_t stream = derive_seed(options.seed, kBandwidthStream);
  for (const MppPair& pair : upper_pairs(num_sets)) {
    const EmbeddingSet& first = bundle.sets[pair.i];
    const EmbeddingSet& second = bundle.sets[pair.j];
    BandwidthOptions bandwidth_options;
    bandwidth_options.max_points = options.bandwidth_max_points;
    bandwidth_options.seed = derive_seed(stream, pair.i * num_sets + pair.j);
    BandwidthReport bandwidth =
        median_heuristic_bandwidth(first.embeddings, second.embeddings, bandwidth_options);
    if (bandwidth.used_mean_fallback) {
      ++report.num_bandwidth_fallbacks;
      report.warnings.push_back(fmt::format(
          "mmd {} vs {} mpp: the median pairwise distance is 0 (many duplicate rows), so the "
          "bandwidth is the mean distance {}{}",
          first.mpp, second.mpp, bandwidth.mean_distance,
          bandwidth.used_unit_fallback ? " (also 0, so 1 is used)" : ""));
      spdlog::warn("{}", report.warnings.back());
    }
    set_symmetric(report.bandwidths, pair, bandwidth.sigma);
    report.bandwidth_subsamples.push_back(std::move(bandwidth.subsample_rows));
  }
  spdlog::info("mmd: bandwidths done, computing the Gram tiles");

  // Column 0 weights every row once (the estimate); the others are the resamples.
  std::vector<const Eigen::MatrixXd*> samples;
  std::vector<Eigen::MatrixXd> weights;
  for (std::size_t i = 0; i < num_sets; ++i) {
    samples.push_back(&bundle.sets[i].embeddings);
    Eigen::MatrixXd set_weights(bundle.sets[i].num_tiles(), 1 + options.num_bootstrap);
    set_weights.col(0).setOnes();
    set_weights.rightCols(options.num_bootstrap) = counts[i];
    weights.push_back(std::move(set_weights));
  }
  const Eigen::MatrixXd squared =
      pairwise_mmd_squared(samples, report.bandwidths, weights, options.mmd);

  const std::vector<MppPair> pairs = upper_pairs(num_sets);
  for (std::size_t p = 0; p < pairs.size(); ++p) {
    const auto row = static_cast<Eigen::Index>(p);
    std::vector<double> resampled;
    for (int r = 1; r <= options.num_bootstrap; ++r) {
      resampled.push_back(std::sqrt(std::max(0.0, squared(row, r))));
    }
    record_pair(report, pairs[p], std::sqrt(std::max(0.0, squared(row, 0))), resampled);
  }
}

// Weighted means of every set, [num_weight_columns, D] per set.
Eigen::MatrixXd weighted_means(const EmbeddingSet& set, const Eigen::MatrixXd& weights) {
  const Eigen::RowVectorXd totals = weights.colwise().sum();
  Eigen::MatrixXd means = weights.transpose() * set.embeddings;
  means.array().colwise() /= totals.transpose().array();
  return means;
}

void estimate_mean_distance(const EmbeddingBundle& bundle, const DiscrepancyOptions& options,
                            const std::vector<Eigen::MatrixXd>& counts,
                            DiscrepancyReport& report) {
  std::vector<Eigen::MatrixXd> means;
  for (std::size_t i = 0; i < bundle.sets.size(); ++i) {
    Eigen::MatrixXd weights(bundle.sets[i].num_tiles(), 1 + options.num_bootstrap);
    weights.col(0).setOnes();
    weights.rightCols(options.num_bootstrap) = counts[i];
    means.push_back(weighted_means(bundle.sets[i], weights));
  }
  for (const MppPair& pair : upper_pairs(bundle.sets.size())) {
    const Eigen::VectorXd distances = (means[pair.i] - means[pair.j]).rowwise().norm();
    std::vector<double> resampled(distances.data() + 1, distances.data() + distances.size());
    record_pair(report, pair, distances(0), resampled);
  }
}

void estimate_frechet(const EmbeddingBundle& bundle, const DiscrepancyOptions& options,
                      const std::vector<Eigen::MatrixXd>& counts, DiscrepancyReport& report) {
  const std::size_t num_sets = bundle.sets.size();
  const std::vector<MppPair> pairs = upper_pairs(num_sets);
  std::vector<GaussianFit> fits;
  for (const EmbeddingSet& set : bundle.sets) {
    fits.push_back(fit_gaussian(set.embeddings));
    fits.back().covariance = Eigen::MatrixXd();  // only the square root is needed from here on
    report.num_clamped_eigenvalues += fits.back().num_clamped;
  }
  std::vector<double> estimates;
  for (const MppPair& pair : pairs) {
    const FrechetReport frechet = frechet_distance(fits[pair.i], fits[pair.j]);
    report.num_clamped_eigenvalues += frechet.num_clamped;
    estimates.push_back(frechet.distance);
  }

  std::vector<std::vector<double>> resampled(pairs.size());
  for (int r = 0; r < options.num_bootstrap; ++r) {
    std::vector<GaussianFit> resampled_fits;
    for (std::size_t i = 0; i < num_sets; ++i) {
      resampled_fits.push_back(fit_gaussian(bundle.sets[i].embeddings, counts[i].col(r)));
      resampled_fits.back().covariance = Eigen::MatrixXd();
    }
    for (std::size_t p = 0; p < pairs.size(); ++p) {
      resampled[p].push_back(
          frechet_distance(resampled_fits[pairs[p].i], resampled_fits[pairs[p].j]).distance);
    }
    if ((r + 1) % std::max(1, options.num_bootstrap / 10) == 0) {
      spdlog::info("frechet bootstrap: {} of {} resamples", r + 1, options.num_bootstrap);
    }
  }
  for (std::size_t p = 0; p < pairs.size(); ++p) {
    record_pair(report, pairs[p], estimates[p], resampled[p]);
  }
  if (report.num_clamped_eigenvalues > 0) {
    report.warnings.push_back(fmt::format("frechet: {} negative eigenvalues (rounding or rank "
                                          "deficiency) were clamped to 0",
                                          report.num_clamped_eigenvalues));
  }
}

void estimate_paired_cosine(const EmbeddingBundle& bundle, const DiscrepancyOptions& options,
                            DiscrepancyReport& report) {
  const std::size_t num_sets = bundle.sets.size();
  const std::uint64_t stream = derive_seed(options.seed, kPairBootstrapStream);
  for (const MppPair& pair : upper_pairs(num_sets)) {
    const EmbeddingSet& first = bundle.sets[pair.i];
    const EmbeddingSet& second = bundle.sets[pair.j];
    const auto matched = pair_tiles(first, second);
    if (matched.empty()) {
      throw InputError(fmt::format("paired-cosine: no tile id is present at both {} and {} mpp; "
                                   "the tile ids must name the same tiles across mpps",
                                   first.mpp, second.mpp));
    }
    set_symmetric(report.pair_counts, pair, static_cast<double>(matched.size()));
    const double value = paired_cosine_distance(first.embeddings, second.embeddings, matched);
    const Eigen::MatrixXd counts =
        bootstrap_counts(static_cast<Eigen::Index>(matched.size()), options.num_bootstrap,
                         derive_seed(stream, pair.i * num_sets + pair.j));
    std::vector<double> resampled;
    for (int r = 0; r < options.num_bootstrap; ++r) {
      resampled.push_back(
          paired_cosine_distance(first.embeddings, second.embeddings, matched, counts.col(r)));
    }
    record_pair(report, pair, value, resampled);
  }
}

ClassifierDiscrepancyOptions classifier_options(const DiscrepancyOptions& options,
                                                std::uint64_t index) {
  ClassifierDiscrepancyOptions classifier = options.classifier;
  classifier.seed = derive_seed(derive_seed(options.seed, kFoldStream), index);
  return classifier;
}

void estimate_proxy_a(const EmbeddingBundle& bundle, const DiscrepancyOptions& options,
                      const std::vector<Eigen::MatrixXd>& counts, DiscrepancyReport& report) {
  const std::size_t num_sets = bundle.sets.size();
  for (const MppPair& pair : upper_pairs(num_sets)) {
    const EmbeddingSet& first = bundle.sets[pair.i];
    const EmbeddingSet& second = bundle.sets[pair.j];
    const DomainClassifierResult result = cross_validated_domain_classifier(
        first.embeddings, second.embeddings,
        classifier_options(options, pair.i * num_sets + pair.j));
    report.num_unconverged_fits += result.num_unconverged_fits;
    std::vector<double> resampled;
    for (int r = 0; r < options.num_bootstrap; ++r) {
      resampled.push_back(proxy_a_from_correctness(result, counts[pair.i].col(r),
                                                   counts[pair.j].col(r)));
    }
    record_pair(report, pair, proxy_a_from_correctness(result), resampled);
    spdlog::info("proxy-a {} vs {} mpp: {:.4f}", first.mpp, second.mpp,
                 report.matrix(static_cast<Eigen::Index>(pair.i), static_cast<Eigen::Index>(pair.j)));
  }
}

// Integer labels 0..K-1 from the class names of every set (sorted names); every set needs labels.
std::vector<std::vector<int>> encode_labels(const EmbeddingBundle& bundle, int& num_classes) {
  std::map<std::string, int> codes;
  for (const EmbeddingSet& set : bundle.sets) {
    if (set.labels.empty()) {
      throw InputError(fmt::format("transfer-gap needs labels at every mpp, and '{}' ({} mpp) "
                                   "has none; add a label column",
                                   set.source.string(), set.mpp));
    }
    for (const std::string& label : set.labels) {
      codes.emplace(label, 0);
    }
  }
  int next = 0;
  for (auto& entry : codes) {
    entry.second = next++;
  }
  num_classes = next;
  if (num_classes < 2) {
    throw InputError("transfer-gap needs at least 2 classes; the bundle has 1");
  }
  std::vector<std::vector<int>> encoded;
  for (const EmbeddingSet& set : bundle.sets) {
    std::vector<int> labels;
    for (const std::string& label : set.labels) {
      labels.push_back(codes.at(label));
    }
    encoded.push_back(std::move(labels));
  }
  return encoded;
}

void estimate_transfer_gap(const EmbeddingBundle& bundle, const DiscrepancyOptions& options,
                           const std::vector<Eigen::MatrixXd>& counts,
                           DiscrepancyReport& report) {
  const std::size_t num_sets = bundle.sets.size();
  int num_classes = 0;
  const std::vector<std::vector<int>> labels = encode_labels(bundle, num_classes);
  std::vector<LabelledSample> samples;
  for (std::size_t i = 0; i < num_sets; ++i) {
    samples.push_back({&bundle.sets[i].embeddings, labels[i], bundle.sets[i].groups});
  }
  const TransferPredictions predictions =
      transfer_probe_predictions(samples, num_classes, classifier_options(options, 0));
  report.num_unconverged_fits += predictions.num_unconverged_fits;

  // gap(i, j, w) = max(0, err_ij - err_jj), both errors on the rows of mpp j weighted by w.
  auto gap = [&](std::size_t i, std::size_t j, const Eigen::VectorXd& weights) {
    const double transfer =
        balanced_error(predictions.transfer_correct[i][j], labels[j], num_classes, weights);
    const double in_domain =
        balanced_error(predictions.in_domain_correct[j], labels[j], num_classes, weights);
    return std::max(0.0, transfer - in_domain);
  };
  const auto size = static_cast<Eigen::Index>(num_sets);
  report.asymmetric_matrix = Eigen::MatrixXd::Zero(size, size);
  for (const MppPair& pair : upper_pairs(num_sets)) {
    const double forward = gap(pair.i, pair.j, Eigen::VectorXd());
    const double backward = gap(pair.j, pair.i, Eigen::VectorXd());
    report.asymmetric_matrix(static_cast<Eigen::Index>(pair.i), static_cast<Eigen::Index>(pair.j)) =
        forward;
    report.asymmetric_matrix(static_cast<Eigen::Index>(pair.j), static_cast<Eigen::Index>(pair.i)) =
        backward;
    std::vector<double> resampled;
    for (int r = 0; r < options.num_bootstrap; ++r) {
      resampled.push_back(0.5 * (gap(pair.i, pair.j, counts[pair.j].col(r)) +
                                 gap(pair.j, pair.i, counts[pair.i].col(r))));
    }
    record_pair(report, pair, 0.5 * (forward + backward), resampled);
  }
}

}  // namespace

void DiscrepancyOptions::validate() const {
  if (num_bootstrap < 0) {
    throw InputError(fmt::format("--bootstrap {} must be 0 (no intervals) or a positive count",
                                 num_bootstrap));
  }
  if (!(confidence_level > 0.0 && confidence_level < 1.0)) {
    throw InputError(fmt::format("--confidence {} must lie strictly between 0 and 1",
                                 confidence_level));
  }
  if (bandwidth_max_points < 2) {
    throw InputError(fmt::format("--bandwidth-points {} must be at least 2",
                                 bandwidth_max_points));
  }
  mmd.validate();
  classifier.validate();
}

double percentile(std::vector<double> values, double level) {
  if (values.empty()) {
    throw InputError("percentile of an empty list");
  }
  std::sort(values.begin(), values.end());
  const double position = level * static_cast<double>(values.size() - 1);
  const auto lower = static_cast<std::size_t>(std::floor(position));
  const std::size_t upper = std::min(lower + 1, values.size() - 1);
  const double fraction = position - static_cast<double>(lower);
  return values[lower] + fraction * (values[upper] - values[lower]);
}

DiscrepancyReport estimate_discrepancy(const EmbeddingBundle& bundle,
                                       const DiscrepancyOptions& options) {
  options.validate();
  validate_embedding_bundle(bundle);
  if (bundle.sets.size() < 2) {
    throw InputError(fmt::format("'{}' has embeddings at {} mpp only; a discrepancy needs at "
                                 "least 2 mpps",
                                 bundle.manifest_path.string(), bundle.sets.size()));
  }
  DiscrepancyReport report;
  report.estimator = options.estimator;
  report.mpps = bundle.mpps();
  report.embedding_dim = bundle.embedding_dim();
  report.num_bootstrap = options.num_bootstrap;
  report.confidence_level = options.confidence_level;
  report.seed = options.seed;
  report.manifest_path = bundle.manifest_path.string();
  report.manifest_hash = bundle.manifest_hash;
  const auto size = static_cast<Eigen::Index>(bundle.sets.size());
  report.matrix = Eigen::MatrixXd::Zero(size, size);
  report.ci_low = Eigen::MatrixXd::Zero(size, size);
  report.ci_high = Eigen::MatrixXd::Zero(size, size);
  report.pair_counts = Eigen::MatrixXd::Zero(size, size);
  for (Eigen::Index i = 0; i < size; ++i) {
    report.sample_counts.push_back(bundle.sets[static_cast<std::size_t>(i)].num_tiles());
  }
  for (Eigen::Index i = 0; i < size; ++i) {
    for (Eigen::Index j = 0; j < size; ++j) {
      report.pair_counts(i, j) = i == j ? 0.0
                                        : static_cast<double>(report.sample_counts[i] +
                                                              report.sample_counts[j]);
    }
  }

  spdlog::info("estimating {} for {} mpps ({} pairs, {} bootstrap resamples)",
               to_string(options.estimator), size, size * (size - 1) / 2, options.num_bootstrap);
  const bool uses_tile_counts = options.estimator != DiscrepancyEstimator::kPairedCosine;
  const std::vector<Eigen::MatrixXd> counts =
      uses_tile_counts ? tile_bootstrap_counts(bundle, options) : std::vector<Eigen::MatrixXd>();
  switch (options.estimator) {
    case DiscrepancyEstimator::kMmd:
      estimate_mmd(bundle, options, counts, report);
      break;
    case DiscrepancyEstimator::kMeanDistance:
      estimate_mean_distance(bundle, options, counts, report);
      break;
    case DiscrepancyEstimator::kFrechet:
      estimate_frechet(bundle, options, counts, report);
      break;
    case DiscrepancyEstimator::kPairedCosine:
      estimate_paired_cosine(bundle, options, report);
      break;
    case DiscrepancyEstimator::kProxyA:
      estimate_proxy_a(bundle, options, counts, report);
      break;
    case DiscrepancyEstimator::kTransferGap:
      estimate_transfer_gap(bundle, options, counts, report);
      break;
  }
  if (report.num_unconverged_fits > 0) {
    report.warnings.push_back(fmt::format("{} logistic-regression fits stopped before converging",
                                          report.num_unconverged_fits));
  }
  return report;
}

}  // namespace mgap
