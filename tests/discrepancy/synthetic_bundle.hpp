#pragma once

// Synthetic embedding bundles with a known discrepancy exponent, the C++ twin of
// bench/embeddings/write_bundle.py: embedding = latent tile vector + class offset + shift B(u) +
// noise, where each coordinate of B is an independent fractional Brownian motion in u = log2 mpp
// with Hurst index H, so |mean shift between u and v| grows as |u - v|^H.

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <cmath>
#include <string>
#include <vector>

#include "mgap/embedding_bundle.hpp"
#include "mgap/random.hpp"

namespace mgap::testing {

struct SyntheticBundleOptions {
  std::vector<double> mpps = {0.25, 0.375, 0.5, 0.75, 1.0, 1.5, 2.0};
  Eigen::Index num_tiles = 200;
  Eigen::Index embedding_dim = 64;
  double hurst = 0.6;
  double shift_scale = 0.5;
  double noise_std = 0.5;
  int num_classes = 3;
  int num_groups = 10;
  std::uint64_t seed = 0;
};

inline Eigen::MatrixXd normal_matrix(Eigen::Index rows, Eigen::Index cols, RandomEngine& engine) {
  Eigen::MatrixXd matrix(rows, cols);
  for (Eigen::Index i = 0; i < rows; ++i) {
    for (Eigen::Index j = 0; j < cols; ++j) {
      matrix(i, j) = standard_normal(engine);
    }
  }
  return matrix;
}

inline EmbeddingBundle synthetic_bundle(const SyntheticBundleOptions& options) {
  RandomEngine engine(options.seed);
  const auto num_mpps = static_cast<Eigen::Index>(options.mpps.size());
  const Eigen::MatrixXd latent = normal_matrix(options.num_tiles, options.embedding_dim, engine);
  const Eigen::MatrixXd class_offsets =
      2.0 * normal_matrix(options.num_classes, options.embedding_dim, engine);

  // fBm covariance at positive times t = u - min u + 1 (increments are stationary).
  Eigen::MatrixXd covariance(num_mpps, num_mpps);
  const double two_h = 2.0 * options.hurst;
  for (Eigen::Index i = 0; i < num_mpps; ++i) {
    for (Eigen::Index j = 0; j < num_mpps; ++j) {
      const double s = std::log2(options.mpps[static_cast<std::size_t>(i)] / options.mpps.front()) + 1.0;
      const double t = std::log2(options.mpps[static_cast<std::size_t>(j)] / options.mpps.front()) + 1.0;
      covariance(i, j) = 0.5 * (std::pow(s, two_h) + std::pow(t, two_h) - std::pow(std::abs(s - t), two_h));
    }
  }
  const Eigen::MatrixXd lower = covariance.llt().matrixL();
  const Eigen::MatrixXd shifts = lower * normal_matrix(num_mpps, options.embedding_dim, engine);

  EmbeddingBundle bundle;
  std::vector<std::string> tile_ids;
  std::vector<std::string> labels;
  std::vector<std::string> groups;
  std::vector<int> classes;
  for (Eigen::Index k = 0; k < options.num_tiles; ++k) {
    classes.push_back(static_cast<int>(uniform_index(engine, static_cast<std::uint64_t>(options.num_classes))));
    tile_ids.push_back("tile_" + std::to_string(k));
    labels.push_back("class_" + std::to_string(classes.back()));
    groups.push_back("slide_" + std::to_string(k % options.num_groups));
  }
  for (Eigen::Index m = 0; m < num_mpps; ++m) {
    EmbeddingSet set;
    set.mpp = options.mpps[static_cast<std::size_t>(m)];
    set.embeddings = latent + options.noise_std * normal_matrix(options.num_tiles, options.embedding_dim, engine);
    for (Eigen::Index k = 0; k < options.num_tiles; ++k) {
      set.embeddings.row(k) += class_offsets.row(classes[static_cast<std::size_t>(k)]) +
                               options.shift_scale * shifts.row(m);
    }
    set.tile_ids = tile_ids;
    set.labels = labels;
    set.groups = groups;
    bundle.sets.push_back(std::move(set));
  }
  return bundle;
}

}  // namespace mgap::testing
