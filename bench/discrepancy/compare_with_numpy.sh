#!/usr/bin/env bash
# Times the 21-pair MMD and Frechet matrices (7 mpps x 2,000 rows x 768 dimensions) in mgap and
# in NumPy on the same data, and checks that the values agree to 1e-9 relative.
# Usage: bench/discrepancy/compare_with_numpy.sh BUILD_DIR [SCRATCH_DIR]
set -euo pipefail
build_dir=${1:?usage: compare_with_numpy.sh BUILD_DIR [SCRATCH_DIR]}
scratch=${2:-$(mktemp -d)}
here=$(cd "$(dirname "$0")" && pwd)
/usr/bin/time -f "mgap peak resident memory: %M KB" \
  "$build_dir/bin/bench_discrepancy" --data-dir "$scratch"
/usr/bin/time -f "numpy peak resident memory: %M KB" \
  /usr/bin/python3 "$here/numpy_peer.py" "$scratch"
