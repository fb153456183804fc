#!/usr/bin/python3
"""Write small notebook inputs in the documented formats for files no mgap program writes here.

The notebook test uses this for:
  discrepancy     mgap.discrepancy/v1 JSON and its tidy CSV, when mgap-discrepancy is not built,
                  or a tidy CSV alone (--csv-only) to exercise the notebook's own power-law fit;
  published       results CSVs in the format of the published Python evaluation scripts;
  loop-history    a loop history CSV (round,distribution,test_mpp,balanced_accuracy,
                  bound_prediction) whose predictions come from real bound curves CSVs.
Values are synthetic but shaped like real results, and the same seed gives the same files.
"""

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

TEST_MPPS = (0.25, 0.375, 0.5, 0.75, 1.0, 1.5, 2.0)
STANDARD_MPPS = (0.25, 0.5, 1.0, 2.0)
RESULTS_COLUMNS = ("Test_MPP,Avg_accuracy,Std_accuracy,Avg_balanced_accuracy,"
                   "Std_balanced_accuracy,Avg_f1_macro,Std_f1_macro,Avg_f1_weighted,"
                   "Std_f1_weighted").split(",")


def write_discrepancy(output, estimator, a, b, seed, csv_only):
    """Write pairs d = a |du|^b with 5 % multiplicative noise and half-widths of 8 to 16 %."""
    rng = np.random.default_rng(seed)
    mpps = np.array(TEST_MPPS)
    u = np.log2(mpps)
    n = len(mpps)
    matrix, low, high = (np.zeros((n, n)) for _ in range(3))
    rows = []

    for i in range(n):
        for j in range(i + 1, n):
            value = a * abs(u[i] - u[j]) ** b * (1 + 0.05 * rng.standard_normal())
            half = value * (0.08 + 0.08 * rng.random())
            matrix[i, j] = matrix[j, i] = value
            low[i, j] = low[j, i] = value - half
            high[i, j] = high[j, i] = value + half
            rows.append((mpps[i], mpps[j], estimator, value, value - half, value + half))

    output.parent.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(rows, columns=["mpp_a", "mpp_b", "estimator", "value", "ci_low",
                                        "ci_high"])
    frame.to_csv(output.with_suffix(".csv"), index=False)
    if csv_only:
        return

    document = {
        "schema": "mgap.discrepancy/v1",
        "estimator": estimator,
        "units": "estimator",
        "mpps": mpps.tolist(),
        "log2_mpps": u.tolist(),
        "matrix": matrix.tolist(),
        "ci_low": low.tolist(),
        "ci_high": high.tolist(),
        "confidence_level": 0.95,
        "normalization": {"kind": "octave", "scale": a},
        "model": {"kind": "power-law", "a": a, "b": b, "r_squared": 0.98},
        "warnings": [],
        "provenance": {"program": "tests/notebooks/make_inputs.py", "seed": seed},
    }
    output.with_suffix(".json").write_text(json.dumps(document, indent=2) + "\n")


def write_published(output, seed):
    """Write two models: one with a dip at the intermediate mpps (trained on the standard mpps only),
    one flat. The first file has a leading pandas index column, as DataFrame.to_csv writes it."""
    rng = np.random.default_rng(seed)
    output.mkdir(parents=True, exist_ok=True)
    for name, dip, with_index in (("model_du_results.csv", 0.06, True),
                                  ("model_cu_results.csv", 0.01, False)):
        records = []
        for mpp in TEST_MPPS:
            penalty = 0.0 if mpp in STANDARD_MPPS else dip
            ba = 0.86 - penalty - 0.03 * abs(np.log2(mpp) + 0.5) + 0.005 * rng.standard_normal()
            std = 0.01 + 0.01 * rng.random()
            accuracy = ba + 0.02
            records.append([f"{mpp:g}", accuracy, std, ba, std, ba - 0.01, std, accuracy - 0.005,
                            std])
        frame = pd.DataFrame(records, columns=RESULTS_COLUMNS)
        frame.to_csv(output / name, index=with_index)


def write_loop_history(output, curves, seed):
    """Write one round per bound curves CSV, in the given order. The measured balanced error follows the
    bound at each test mpp with a small offset and noise, as a calibrated bound would."""
    rng = np.random.default_rng(seed)
    records = []
    for round_index, path in enumerate(curves):
        frame = pd.read_csv(path).drop_duplicates(subset=["distribution", "mpp"], keep="first")
        distribution = frame["distribution"].iloc[0]
        rows = frame[frame["distribution"] == distribution].sort_values("log2_mpp")
        name = Path(path).stem if distribution == "optimized" else distribution
        for mpp in TEST_MPPS:
            bound = float(np.interp(np.log2(mpp), rows["log2_mpp"], rows["bound"]))
            error = 0.9 * bound - 0.01 + 0.004 * rng.standard_normal()
            records.append((round_index, name, mpp, 1.0 - error, bound))
    output.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(records, columns=["round", "distribution", "test_mpp", "balanced_accuracy",
                                   "bound_prediction"]).to_csv(output, index=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    discrepancy = commands.add_parser("discrepancy", help="discrepancy JSON and CSV")
    discrepancy.add_argument("--output", type=Path, required=True,
                             help="path without suffix; .json and .csv are added")
    discrepancy.add_argument("--estimator", default="mmd")
    discrepancy.add_argument("--a", type=float, default=0.8, help="power-law amplitude")
    discrepancy.add_argument("--b", type=float, default=0.7, help="power-law exponent")
    discrepancy.add_argument("--csv-only", action="store_true", help="write the CSV only")
    published = commands.add_parser("published", help="results CSVs of the published scripts")
    published.add_argument("--output", type=Path, required=True, help="folder")
    loop = commands.add_parser("loop-history", help="loop history CSV")
    loop.add_argument("--output", type=Path, required=True, help="CSV file")
    loop.add_argument("--curves", type=Path, nargs="+", required=True,
                      help="bound curves CSVs, one per round, in round order")
    for command in (discrepancy, published, loop):
        command.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    if args.command == "discrepancy":
        write_discrepancy(args.output, args.estimator, args.a, args.b, args.seed, args.csv_only)
    elif args.command == "published":
        write_published(args.output, args.seed)
    else:
        write_loop_history(args.output, args.curves, args.seed)


if __name__ == "__main__":
    main()
