#!/usr/bin/python3
"""Reference values of the coverage criterion, computed independently of mgap's C++ code.

Problem: ratio kernel kappa(x, t) = (min(x, t) / max(x, t))^q with q = 2, domain [0.25, 2] mpp,
64 targets equally spaced in the coordinate (end points included, equal weights), 256 bins of equal
width in the coordinate. Bin averages of the kernel are integrated in closed form here (mgap uses
Gauss-Legendre quadrature), and the max-min coverage linear program is solved by SciPy's HiGHS.

Run with Debian's interpreter: /usr/bin/python3 bench/core/reference_values.py
It prints JSON; tests/core/test_reference_values.cpp holds the numbers it printed.
"""

import json

import numpy as np
from scipy.optimize import linprog

Q = 2.0
LO_MPP, HI_MPP = 0.25, 2.0
NUM_TARGETS = 64
NUM_BINS = 256
STANDARD_MPPS = np.array([0.25, 0.5, 1.0, 2.0])


def to_coordinate(mpp, coordinate):
    return np.log2(mpp) if coordinate == "log2_mpp" else mpp


def from_coordinate(value, coordinate):
    return np.exp2(value) if coordinate == "log2_mpp" else value


def kernel(x, t):
    return (np.minimum(x, t) / np.maximum(x, t)) ** Q


def kernel_integral_log2(u0, u1, t):
    """Integral of 2^(-q |u - log2 t|) du over [u0, u1], in closed form."""
    v = np.log2(t)
    rate = Q * np.log(2.0)

    def antiderivative(u):
        # d/du of this is exp(-rate |u - v|), continuous at u = v.
        return np.where(u <= v, np.exp(-rate * (v - u)) / rate, 2.0 / rate - np.exp(-rate * (u - v)) / rate)

    return antiderivative(u1) - antiderivative(u0)


def kernel_integral_mpp(x0, x1, t):
    """Integral of (min(x, t) / max(x, t))^q dx over [x0, x1], in closed form (q != 1)."""

    def antiderivative(x):
        below = x ** (Q + 1) / ((Q + 1) * t ** Q)
        above = t / (Q + 1) + t ** Q * (x ** (1 - Q) - t ** (1 - Q)) / (1 - Q)
        return np.where(x <= t, below, above)

    return antiderivative(x1) - antiderivative(x0)


def problem(coordinate):
    lo, hi = to_coordinate(LO_MPP, coordinate), to_coordinate(HI_MPP, coordinate)
    edges = np.linspace(lo, hi, NUM_BINS + 1)
    widths = np.diff(edges)
    targets = from_coordinate(np.linspace(lo, hi, NUM_TARGETS), coordinate)
    integral = kernel_integral_log2 if coordinate == "log2_mpp" else kernel_integral_mpp
    k = np.array([integral(edges[:-1], edges[1:], t) / widths for t in targets])
    return edges, widths, targets, k, hi - lo


def coverage_minmax(k):
    num_targets, num_bins = k.shape
    # Variables (pi_1..pi_K, z); maximize z  <=>  minimize -z.
    cost = np.zeros(num_bins + 1)
    cost[-1] = -1.0
    inequality = np.hstack([-k, np.ones((num_targets, 1))])  # z - K pi <= 0
    equality = np.hstack([np.ones((1, num_bins)), np.zeros((1, 1))])
    bounds = [(0, None)] * num_bins + [(None, None)]
    result = linprog(cost, A_ub=inequality, b_ub=np.zeros(num_targets), A_eq=equality, b_eq=[1.0],
                     bounds=bounds, method="highs")
    assert result.status == 0, result.message
    return result.x[-1]


def coverage_maxavg(edges, widths, k, length, coordinate, tau=1.0):
    kbar = length * k.mean(axis=0)
    logits = np.log(widths) + kbar / tau
    masses = np.exp(logits - logits.max())
    masses /= masses.sum()
    # Mean mpp of a piecewise-uniform density in the coordinate, bin by bin, in closed form.
    if coordinate == "log2_mpp":
        bin_means = (np.exp2(edges[1:]) - np.exp2(edges[:-1])) / (widths * np.log(2.0))
    else:
        bin_means = 0.5 * (edges[1:] + edges[:-1])
    mean_mpp = float(masses @ bin_means)
    half = to_coordinate(0.5, coordinate)
    below = np.clip((half - edges[:-1]) / widths, 0.0, 1.0)
    return mean_mpp, float(masses @ below)


def main():
    values = {}
    for coordinate in ("log2_mpp", "mpp"):
        edges, widths, targets, k, length = problem(coordinate)
        du = kernel(STANDARD_MPPS[None, :], targets[:, None]).mean(axis=1)
        cu = k.mean(axis=1)  # equal masses 1/K on bins of equal width
        mean_mpp, below_half = coverage_maxavg(edges, widths, k, length, coordinate)
        values[coordinate] = {
            "minmax_worst_coverage": coverage_minmax(k),
            "du_worst_coverage": float(du.min()),
            "cu_worst_coverage": float(cu.min()),
            "maxavg_mean_mpp": mean_mpp,
            "maxavg_mass_below_0.5_mpp": below_half,
        }
    print(json.dumps(values, indent=2))


if __name__ == "__main__":
    main()
