#pragma once

// Classifier-based discrepancies in error units [0, 1]: proxy A-distance and transfer gap.
//
// Both use L2 logistic regression (logistic_regression.hpp: balanced class weights, intercept not
// penalized) on features standardized with the training part's mean and standard deviation.
// Each function returns per-row held-out correctness, so a bootstrap over tiles can re-weight the
// rows without refitting. The error functions below turn correctness into error rates.
//
// - proxy-a (Ben-David et al., "Analysis of representations for domain adaptation", NIPS 2006):
//   a domain classifier separates X (class 0) from Y (class 1) under stratified k-fold cross
//   validation. With err its balanced held-out error, the proxy A-distance is 2 (1 - 2 err),
//   clamped to [0, 2]; mgap reports it divided by 2, that is clamp(1 - 2 err, 0, 1).
// - transfer-gap: a label probe trained on all tiles at mpp i is tested at mpp j (err_ij); the
//   in-domain error err_jj is the k-fold held-out error at mpp j (folds grouped by slide when
//   groups are given). d_ij = max(0, err_ij - err_jj), balanced errors throughout.
//
// Complexity: one logistic-regression fit costs O(n D K) per L-BFGS evaluation; proxy-a fits
// num_folds models per pair, transfer-gap num_folds + 1 models per mpp.

#include <Eigen/Core>

#include <cstdint>
#include <string>
#include <vector>

namespace mgap {

struct ClassifierDiscrepancyOptions {
  int num_folds = 5;
  double inverse_regularization = 1.0;  // C of the logistic regression
  std::uint64_t seed = 0;               // fold shuffling

  // Throws InputError unless num_folds >= 2 and inverse_regularization > 0.
  void validate() const;
};

// Held-out correctness (1 correct, 0 wrong) of every row of X [n_x] and Y [n_y].
struct DomainClassifierResult {
  std::vector<std::uint8_t> correct_x;
  std::vector<std::uint8_t> correct_y;
  int num_unconverged_fits = 0;
};

// Cross-validated domain classifier between X [n_x, D] and Y [n_y, D]. Throws InputError if
// either sample has fewer rows than folds.
DomainClassifierResult cross_validated_domain_classifier(
    const Eigen::Ref<const Eigen::MatrixXd>& x, const Eigen::Ref<const Eigen::MatrixXd>& y,
    const ClassifierDiscrepancyOptions& options);

// clamp(1 - 2 err, 0, 1) with err = (err_x + err_y) / 2, each a weighted error rate. Weights
// [n_x] and [n_y] are row multiplicities; empty means all 1.
double proxy_a_from_correctness(const DomainClassifierResult& result,
                                const Eigen::VectorXd& weights_x = Eigen::VectorXd(),
                                const Eigen::VectorXd& weights_y = Eigen::VectorXd());

// Proxy A-distance in error units, from one cross-validated domain classifier.
double proxy_a_distance(const Eigen::Ref<const Eigen::MatrixXd>& x,
                        const Eigen::Ref<const Eigen::MatrixXd>& y,
                        const ClassifierDiscrepancyOptions& options);

// Balanced error: the mean over classes present (with positive weight) of the weighted error
// rate of that class. `correct` and `labels` [n]; labels in 0..num_classes-1.
double balanced_error(const std::vector<std::uint8_t>& correct, const std::vector<int>& labels,
                      int num_classes, const Eigen::VectorXd& weights = Eigen::VectorXd());

// One labelled sample per mpp for the transfer gap.
struct LabelledSample {
  const Eigen::MatrixXd* features = nullptr;  // [n, D]
  std::vector<int> labels;                    // [n], 0..num_classes-1
  std::vector<std::string> groups;            // [n] or empty
};

struct TransferPredictions {
  // in_domain_correct[j][row]: held-out correctness at mpp j.
  std::vector<std::vector<std::uint8_t>> in_domain_correct;
  // transfer_correct[i][j][row]: correctness at mpp j of the probe trained on all of mpp i
  // (empty for i == j).
  std::vector<std::vector<std::vector<std::uint8_t>>> transfer_correct;
  int num_unconverged_fits = 0;
};

// Fits the probes and records correctness. Throws InputError if a class has fewer rows than
// folds at some mpp, or the samples differ in dimension.
TransferPredictions transfer_probe_predictions(const std::vector<LabelledSample>& samples,
                                               int num_classes,
                                               const ClassifierDiscrepancyOptions& options);

}  // namespace mgap
