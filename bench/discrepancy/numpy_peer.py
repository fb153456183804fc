#!/usr/bin/python3
"""NumPy peer of bench_discrepancy: the same MMD and Frechet formulas on the same data.

Run bench_discrepancy --data-dir DIR first; it writes DIR/set_*.npy and DIR/mgap_values.json
(mgap's matrices and the rows of each bandwidth subsample). This script times the full 21-pair
matrices with NumPy, prints the mean seconds per matrix, and checks that its values agree with
mgap's to 1e-9 relative.

    /usr/bin/python3 bench/discrepancy/numpy_peer.py DIR
"""

import json
import sys
import time

import numpy as np

RELATIVE_TOLERANCE = 1e-9
MMD_REPEATS = 2
FRECHET_REPEATS = 3


def squared_distances(a, b):
    """Return max(|a_i|^2 + |b_j|^2 - 2 a_i.b_j, 0) for all row pairs."""
    d2 = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * (a @ b.T)
    return np.maximum(d2, 0.0)


def median_bandwidth(x, y, rows):
    """Median pairwise distance of the pooled subsample; mean if the median is 0, else 1."""
    sample = np.vstack([x, y])[rows]
    upper = np.triu_indices(len(sample), k=1)
    distances = np.sqrt(squared_distances(sample, sample)[upper])
    sigma = np.median(distances)
    if not sigma > 0.0:
        sigma = distances.mean()
    return sigma if sigma > 0.0 else 1.0


def mmd(x, y, sigma):
    """sqrt(max(unbiased MMD^2, 0)) with a Gaussian kernel, kernel diagonal exactly 1."""
    scale = -1.0 / (2.0 * sigma * sigma)
    n, m = len(x), len(y)
    k_xx = np.exp(squared_distances(x, x) * scale)
    np.fill_diagonal(k_xx, 1.0)
    k_yy = np.exp(squared_distances(y, y) * scale)
    np.fill_diagonal(k_yy, 1.0)
    k_xy = np.exp(squared_distances(x, y) * scale)
    value = ((k_xx.sum() - n) / (n * (n - 1)) + (k_yy.sum() - m) / (m * (m - 1))
             - 2.0 * k_xy.sum() / (n * m))
    return np.sqrt(max(value, 0.0))


def mmd_matrix(sets, subsamples):
    count = len(sets)
    values = np.zeros((count, count))
    sigmas = np.zeros((count, count))
    pair = 0
    for i in range(count):
        for j in range(i + 1, count):
            sigma = median_bandwidth(sets[i], sets[j], subsamples[pair])
            values[i, j] = values[j, i] = mmd(sets[i], sets[j], sigma)
            sigmas[i, j] = sigmas[j, i] = sigma
            pair += 1
    return values, sigmas


def gaussian_fit(x):
    """Mean, covariance (n - 1) and its symmetric square root from eigh, negatives clamped."""
    mean = x.mean(0)
    centered = x - mean
    covariance = centered.T @ centered / (len(x) - 1)
    covariance = 0.5 * (covariance + covariance.T)
    eigenvalues, vectors = np.linalg.eigh(covariance)
    root = (vectors * np.sqrt(np.maximum(eigenvalues, 0.0))) @ vectors.T
    return mean, covariance, root


def frechet(fit_x, fit_y):
    mean_x, cov_x, root_x = fit_x
    mean_y, cov_y, root_y = fit_y
    # S_x Sigma_y S_x = B B^T with B = S_x S_y, symmetric by construction.
    product = root_x @ root_y
    middle = product @ product.T
    trace_sqrt = np.sqrt(np.maximum(np.linalg.eigvalsh(middle), 0.0)).sum()
    squared = (np.sum((mean_x - mean_y) ** 2) + np.trace(cov_x) + np.trace(cov_y)
               - 2.0 * trace_sqrt)
    return np.sqrt(max(squared, 0.0))


def frechet_matrix(sets):
    fits = [gaussian_fit(x) for x in sets]
    count = len(sets)
    values = np.zeros((count, count))
    for i in range(count):
        for j in range(i + 1, count):
            values[i, j] = values[j, i] = frechet(fits[i], fits[j])
    return values


def timed(function, repeats):
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        seconds.append(time.perf_counter() - start)
    return result, float(np.mean(seconds))


def max_relative_difference(ours, theirs):
    mask = np.abs(theirs) > 0
    return float(np.max(np.abs(ours[mask] - theirs[mask]) / np.abs(theirs[mask])))


def main():
    folder = sys.argv[1]
    reference = json.load(open(f"{folder}/mgap_values.json"))
    sets = [np.load(f"{folder}/set_{m}.npy") for m in range(reference["num_mpps"])]
    subsamples = [np.asarray(rows) for rows in reference["subsample_rows"]]

    (mmd_values, sigmas), mmd_seconds = timed(lambda: mmd_matrix(sets, subsamples), MMD_REPEATS)
    frechet_values, frechet_seconds = timed(lambda: frechet_matrix(sets), FRECHET_REPEATS)

    checks = {
        "mmd": max_relative_difference(mmd_values, np.asarray(reference["mmd"])),
        "sigma": max_relative_difference(sigmas, np.asarray(reference["sigma"])),
        "frechet": max_relative_difference(frechet_values, np.asarray(reference["frechet"])),
    }
    print(f"numpy {np.__version__}: mmd matrix {mmd_seconds:.2f} s, "
          f"frechet matrix {frechet_seconds:.2f} s (mean of {MMD_REPEATS} and "
          f"{FRECHET_REPEATS} runs)")
    failed = False
    for name, difference in checks.items():
        status = "ok" if difference <= RELATIVE_TOLERANCE else "MISMATCH"
        failed |= difference > RELATIVE_TOLERANCE
        print(f"{name}: max relative difference to mgap {difference:.2e} ({status})")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
