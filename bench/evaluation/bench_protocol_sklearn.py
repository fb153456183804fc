"""Peer of mgap-eval for the benchmark: the same protocol written with scikit-learn, end to end
(reading the bundle, folds, both classifiers with full grids, metrics, RankMe, writing results).

    /usr/bin/python3 bench/evaluation/bench_protocol_sklearn.py --manifest M.json \
        [--labels labels.csv] --output results.json

Prints the wall-clock and CPU seconds of the run. The results JSON has the layout of the parity
fixture's sklearn_results.json, so compare_results.py can check it against mgap-eval's outputs.
"""

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sklearn_protocol  # noqa: E402


def read_plans(path):
    header, plans = None, None
    with open(path) as handle:
        for line in handle:
            fields = line.rstrip("\n").split(",")
            if header is None:
                header = fields
                fold_columns = [i for i, name in enumerate(header) if name.startswith("fold_")]
                plans = [{} for _ in fold_columns]
                continue
            for k, column in enumerate(fold_columns):
                plans[k][fields[0]] = fields[column]
    return plans


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--labels", help="labels.csv with fold_k columns (default: build folds)")
    parser.add_argument("--output", required=True)
    args = parser.parse_args()

    wall_start, cpu_start = time.perf_counter(), time.process_time()
    sets = sklearn_protocol.read_bundle(args.manifest)
    classes = sklearn_protocol.encode_labels(sets)
    plans = (read_plans(args.labels) if args.labels
             else sklearn_protocol.make_fold_plans(sets, n_splits=5))
    results = sklearn_protocol.run_protocol(sets, plans)
    results["classes"] = classes
    with open(args.output, "w") as handle:
        json.dump(results, handle)
    wall, cpu = time.perf_counter() - wall_start, time.process_time() - cpu_start
    print("scikit-learn protocol: %.2f s wall, %.2f s CPU" % (wall, cpu))
    for name, summary in results["summary"].items():
        print(name, "mean balanced accuracy %.4f" % summary["mean_balanced_accuracy"],
              "chosen", [fold[name]["chosen"] for fold in results["folds"]])


if __name__ == "__main__":
    main()
