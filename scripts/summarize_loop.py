#!/usr/bin/python3
"""Print Markdown tables that summarize an mgap-loop output folder.

Usage: /usr/bin/python3 scripts/summarize_loop.py results/main/loop

Tables: balanced accuracy per test mpp of every run (linear probe and kNN) with the calibrated
bound's prediction, the calibration of every round, and the sampling densities' mass by region.
"""

import json
import sys
from pathlib import Path

import pandas as pd

STANDARD_MPPS = (0.25, 0.5, 1.0, 2.0)


def markdown(frame, float_format="{:.3f}"):
    """Format a data frame as a Markdown table."""
    header = "| " + " | ".join(str(column) for column in frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    rows = []
    for _, row in frame.iterrows():
        cells = [float_format.format(value) if isinstance(value, float) else str(value)
                 for value in row]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join([header, rule, *rows])


def accuracy_table(folder, history):
    """Balanced accuracy per run and test mpp for both classifiers, and the bound's prediction."""
    rows = []
    for (round_index, distribution), group in history.groupby(["round", "distribution"],
                                                             sort=False):
        run = group["run"].iloc[0]
        knn = pd.read_csv(folder / run / "evaluation" / "results_knn.csv")
        name = f"{distribution} (round {round_index})"
        rows.append([name, "linear probe"] + list(group["balanced_accuracy"]))
        rows.append([name, "kNN"] + list(knn["Avg_balanced_accuracy"]))
        rows.append([name, f"1 - bound ({group['prediction'].iloc[0]})"]
                    + list(1.0 - group["bound_prediction"]))
    mpps = list(history[history["run"] == history["run"].iloc[0]]["test_mpp"].drop_duplicates())
    columns = ["run", "measure"] + [f"{mpp:g}" for mpp in mpps]
    frame = pd.DataFrame(rows, columns=columns)
    standard = [f"{mpp:g}" for mpp in mpps if mpp in STANDARD_MPPS]
    intermediate = [f"{mpp:g}" for mpp in mpps if mpp not in STANDARD_MPPS]
    frame["mean"] = frame[columns[2:]].mean(axis=1)
    frame["min"] = frame[columns[2:]].min(axis=1)
    frame["intermediate - standard"] = frame[intermediate].mean(axis=1) - frame[standard].mean(axis=1)
    return frame


def calibration_table(summary):
    """Fitted bound parameters and fit quality per round."""
    rows = []
    for entry in summary["rounds"]:
        fit = entry["calibration"]
        parameters = fit["parameters"]
        rows.append([entry["round"], parameters["amplitude"], parameters["exponent"],
                     fit["transfer_length"], parameters["discrepancy_weight"], parameters["floor"],
                     fit["r_squared"], fit["rms_residual"], fit["leave_one_out_rms"],
                     entry["discrepancy_power_law"]["a"], entry["discrepancy_power_law"]["b"]])
    return pd.DataFrame(rows, columns=["round", "A", "beta", "l", "gamma", "lambda", "R^2",
                                       "RMS residual", "leave-one-run-out RMS", "MMD a",
                                       "MMD b"])


def density_table(folder, summary):
    """Mass of every optimized density by region of the domain (0.25 to 2 mpp)."""
    regions = [(0.25, 0.35), (0.35, 0.71), (0.71, 1.41), (1.41, 2.0)]
    rows = []
    for entry in summary["rounds"]:
        density = json.loads((folder / entry["next_density"]).read_text())
        edges = density["bins"]["edges_mpp"]
        masses = density["bins"]["mass"]
        row = [entry["next_density"]]
        for low, high in regions:
            row.append(sum(mass for lo, hi, mass in zip(edges[:-1], edges[1:], masses)
                           if lo >= low - 1e-12 and hi <= high + 1e-12))
        row.append(sum(atom["mass"] for atom in density.get("atoms", [])))
        rows.append(row)
    return pd.DataFrame(rows, columns=["density"] + [f"{low:g}-{high:g} mpp" for low, high in regions]
                        + ["atoms"])


def main():
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "results/main/loop")
    history = pd.read_csv(folder / "history.csv")
    summary = json.loads((folder / "loop_summary.json").read_text())
    print("## Balanced accuracy per test mpp\n")
    print(markdown(accuracy_table(folder, history)))
    print("\n## Calibration per round\n")
    print(markdown(calibration_table(summary), "{:.4g}"))
    print("\n## Optimized densities: mass by region\n")
    print(markdown(density_table(folder, summary)))
    print(f"\nLoop wall time: {summary['wall_seconds']:.0f} s")


if __name__ == "__main__":
    main()
