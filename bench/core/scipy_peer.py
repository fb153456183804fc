#!/usr/bin/python3
"""The optimizer's peer: the same bound problems solved with SciPy (SLSQP and HiGHS).

Builds the discretized bound exactly as mgap does (discrepancy kernel exp(-delta / l) with
delta = |log2 x - log2 t|, l = 0.5, A = 0.1, beta = 0.5, gamma = 0.1, lambda = 0; bins of equal
width in log2 mpp over [0.25, 2]; targets equally spaced in log2 mpp; Gauss-Legendre with 8 nodes
per bin, the bin split at a target inside it), then times one SLSQP solve from the continuous
uniform start for bound maxavg and bound minmax, and the max-min coverage LP with HiGHS.

Usage: /usr/bin/python3 bench/core/scipy_peer.py --bins 128 --targets 64
Prints one JSON object with objective values and wall seconds per problem.
"""

import argparse
import json
import time

import numpy as np
from scipy.optimize import linprog, minimize

AMPLITUDE, BETA, GAMMA, LENGTH = 0.1, 0.5, 0.1, 0.5
LO, HI = -2.0, 1.0  # log2 mpp
NODES, WEIGHTS = np.polynomial.legendre.leggauss(8)


def integrate(function, a, b):
    half = 0.5 * (b - a)
    return half * np.sum(WEIGHTS * function(0.5 * (a + b) + half * NODES))


def matrices(num_bins, num_targets):
    edges = np.linspace(LO, HI, num_bins + 1)
    targets = np.linspace(LO, HI, num_targets)
    kernel = np.empty((num_targets, num_bins))
    discrepancy = np.empty((num_targets, num_bins))
    for t, v in enumerate(targets):
        k_of = lambda u: np.exp(-np.abs(u - v) / LENGTH)
        dk_of = lambda u: np.abs(u - v) * np.exp(-np.abs(u - v) / LENGTH)
        for k in range(num_bins):
            a, b = edges[k], edges[k + 1]
            pieces = [(a, v), (v, b)] if a < v < b else [(a, b)]
            kernel[t, k] = sum(integrate(k_of, p, q) for p, q in pieces) / (b - a)
            discrepancy[t, k] = sum(integrate(dk_of, p, q) for p, q in pieces) / (b - a)
    return kernel, discrepancy


def bound_and_jacobian(kernel, discrepancy, masses):
    n = kernel @ masses
    m = discrepancy @ masses
    bound = AMPLITUDE * n ** -BETA + GAMMA * m / n
    jacobian = (-BETA * AMPLITUDE * n ** (-BETA - 1))[:, None] * kernel + GAMMA * (
        discrepancy * n[:, None] - kernel * m[:, None]) / (n ** 2)[:, None]
    return bound, jacobian


def solve_maxavg(kernel, discrepancy):
    num_targets, num_bins = kernel.shape
    weights = np.full(num_targets, 1.0 / num_targets)

    def objective(masses):
        bound, jacobian = bound_and_jacobian(kernel, discrepancy, masses)
        return weights @ bound, jacobian.T @ weights

    start = np.full(num_bins, 1.0 / num_bins)
    simplex = {"type": "eq", "fun": lambda x: x.sum() - 1.0, "jac": lambda x: np.ones_like(x)}
    return minimize(objective, start, jac=True, method="SLSQP", bounds=[(0.0, 1.0)] * num_bins,
                    constraints=[simplex], options={"ftol": 1e-12, "maxiter": 5000})


def solve_minmax(kernel, discrepancy):
    num_targets, num_bins = kernel.shape
    start_masses = np.full(num_bins, 1.0 / num_bins)
    start = np.append(start_masses, bound_and_jacobian(kernel, discrepancy, start_masses)[0].max())

    def epigraph(x):
        return x[-1] - bound_and_jacobian(kernel, discrepancy, x[:-1])[0]

    def epigraph_jacobian(x):
        jacobian = bound_and_jacobian(kernel, discrepancy, x[:-1])[1]
        return np.hstack([-jacobian, np.ones((num_targets, 1))])

    gradient = np.zeros(num_bins + 1)
    gradient[-1] = 1.0
    simplex_jacobian = np.append(np.ones(num_bins), 0.0)
    constraints = [
        {"type": "eq", "fun": lambda x: x[:-1].sum() - 1.0, "jac": lambda x: simplex_jacobian},
        {"type": "ineq", "fun": epigraph, "jac": epigraph_jacobian},
    ]
    result = minimize(lambda x: (x[-1], gradient), start, jac=True, method="SLSQP",
                      bounds=[(0.0, 1.0)] * num_bins + [(None, None)], constraints=constraints,
                      options={"ftol": 1e-12, "maxiter": 5000})
    result.fun = bound_and_jacobian(kernel, discrepancy, result.x[:-1])[0].max()
    return result


def solve_coverage_lp(kernel):
    num_targets, num_bins = kernel.shape
    cost = np.zeros(num_bins + 1)
    cost[-1] = -1.0
    result = linprog(cost, A_ub=np.hstack([-kernel, np.ones((num_targets, 1))]), b_ub=np.zeros(num_targets),
                     A_eq=np.append(np.ones(num_bins), 0.0)[None, :], b_eq=[1.0],
                     bounds=[(0, None)] * num_bins + [(None, None)], method="highs")
    return result


def timed(function, *arguments, repeats=3):
    best = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        result = function(*arguments)
        best = min(best, time.perf_counter() - began)
    return result, best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bins", type=int, default=128)
    parser.add_argument("--targets", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    arguments = parser.parse_args()
    kernel, discrepancy = matrices(arguments.bins, arguments.targets)
    maxavg, maxavg_seconds = timed(solve_maxavg, kernel, discrepancy, repeats=arguments.repeats)
    minmax, minmax_seconds = timed(solve_minmax, kernel, discrepancy, repeats=arguments.repeats)
    lp, lp_seconds = timed(solve_coverage_lp, kernel, repeats=arguments.repeats)
    print(json.dumps({
        "bins": arguments.bins, "targets": arguments.targets,
        "bound_maxavg": {"objective": float(maxavg.fun), "seconds": maxavg_seconds, "iterations": int(maxavg.nit),
                         "status": int(maxavg.status)},
        "bound_minmax": {"objective": float(minmax.fun), "seconds": minmax_seconds, "iterations": int(minmax.nit),
                         "status": int(minmax.status)},
        "coverage_minmax_lp": {"objective": float(-lp.fun), "seconds": lp_seconds},
    }, indent=2))


if __name__ == "__main__":
    main()
