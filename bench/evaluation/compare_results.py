"""Checks that mgap-eval's outputs equal the scikit-learn peer's results on the same bundle.

    /usr/bin/python3 bench/evaluation/compare_results.py --mgap OUTPUT_DIR --sklearn results.json

kNN: chosen k and balanced accuracy per fold and test mpp must be equal. Logistic regression:
chosen C per fold equal, and mean balanced accuracy per test mpp within 0.005 (both stop at a
gradient tolerance, so rows at the decision boundary may flip). Exits with status 1 otherwise.
"""

import argparse
import csv
import json
import os
import sys

BALANCED_ACCURACY_TOLERANCE = 0.005


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mgap", required=True, help="mgap-eval --output-dir")
    parser.add_argument("--sklearn", required=True, help="bench_protocol_sklearn.py --output")
    args = parser.parse_args()
    with open(args.sklearn) as handle:
        reference = json.load(handle)
    with open(os.path.join(args.mgap, "per_fold.csv")) as handle:
        per_fold = list(csv.DictReader(handle))

    failures = []
    for name in ("knn", "logreg"):
        for fold in reference["folds"]:
            rows = [r for r in per_fold if r["classifier"] == name and int(r["fold"]) == fold["fold"]]
            chosen = float(rows[0]["value"])
            if abs(chosen - fold[name]["chosen"]) > 1e-9 * abs(chosen):
                failures.append("%s fold %d: mgap chose %g, scikit-learn %g"
                                % (name, fold["fold"], chosen, fold[name]["chosen"]))
            if name != "knn":
                continue
            for test in fold[name]["test"]:
                row = next(r for r in rows if float(r["test_mpp"]) == test["mpp"])
                if abs(float(row["balanced_accuracy"]) - test["balanced_accuracy"]) > 1e-12:
                    failures.append("knn fold %d at %g mpp: balanced accuracy %s versus %r"
                                    % (fold["fold"], test["mpp"], row["balanced_accuracy"],
                                       test["balanced_accuracy"]))
        with open(os.path.join(args.mgap, "results_%s.csv" % name)) as handle:
            results = {float(r["Test_MPP"]): r for r in csv.DictReader(handle)}
        worst = 0.0
        for row in reference["summary"][name]["per_mpp"]:
            mine = float(results[row["Test_MPP"]]["Avg_balanced_accuracy"])
            worst = max(worst, abs(mine - row["Avg_balanced_accuracy"]))
        print("%s: largest difference of mean balanced accuracy over test mpps %.2g" % (name, worst))
        if worst > BALANCED_ACCURACY_TOLERANCE:
            failures.append("%s: mean balanced accuracy differs by %.4f" % (name, worst))

    for failure in failures:
        print("MISMATCH:", failure)
    print("results equal" if not failures else "%d mismatches" % len(failures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
