#!/usr/bin/env bash
# Side-by-side timing of mgap's optimizer and SciPy on the same bound problems (K bins, T targets):
# bound maxavg and minmax with SLSQP from the CU start, and the max-min coverage LP (GLPK vs HiGHS).
# Usage: bench/core/compare_with_scipy.sh [BUILD_DIR]   (run on an otherwise idle machine)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build_dir="${1:-$root/build}"

mgap_json="$(mktemp)"
trap 'rm -f "$mgap_json"' EXIT
"$build_dir/bin/bench_optimizer" --benchmark_filter='BM_Solve.*/K:128/T:64' \
  --benchmark_format=json --benchmark_min_time=1 > "$mgap_json"

/usr/bin/python3 - "$mgap_json" "$root" <<'PYTHON'
import json, subprocess, sys
mgap = {b["name"].split("/")[0]: b for b in json.load(open(sys.argv[1]))["benchmarks"]}
peer = json.loads(subprocess.check_output(
    ["/usr/bin/python3", sys.argv[2] + "/bench/core/scipy_peer.py", "--bins", "128", "--targets", "64"]))
rows = [("bound maxavg (SLSQP)", "BM_SolveBoundMaxAvg", "bound_maxavg"),
        ("bound minmax (SLSQP)", "BM_SolveBoundMinMax", "bound_minmax"),
        ("coverage minmax LP", "BM_SolveCoverageLp", "coverage_minmax_lp")]
print("| problem (K=128, T=64) | mgap ms | SciPy ms | SciPy / mgap | mgap objective | SciPy objective | relative difference |")
print("|---|---|---|---|---|---|---|")
for label, ours, theirs in rows:
    ours_ms = mgap[ours]["real_time"]  # milliseconds (the benchmark's unit)
    theirs_ms = 1000.0 * peer[theirs]["seconds"]
    a, b = mgap[ours]["objective"], peer[theirs]["objective"]
    print(f"| {label} | {ours_ms:.2f} | {theirs_ms:.2f} | {theirs_ms / ours_ms:.2f} | {a:.12g} | {b:.12g} | {abs(a - b) / abs(b):.1e} |")
PYTHON
