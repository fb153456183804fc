#!/usr/bin/env bash
# Times mgap-eval and the scikit-learn peer end to end on the same bundle (7 mpps x 3,000 tiles x
# 384 dimensions, 4 classes, 100 slides, 5 grouped folds, both classifiers, full grids), then checks
# that their results agree.
# Usage: bench/evaluation/compare_with_sklearn.sh [BUILD_DIR]   (default: build)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build_dir="${1:-$root/build}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

/usr/bin/python3 "$root/bench/evaluation/make_parity_fixture.py" --output "$work/bundle" \
  --slides-per-class 25 --tiles-per-slide 30 --dim 384 --signal 0.25 --skip-reference

echo "== mgap-eval"
/usr/bin/time -f "mgap-eval: %e s wall, %U s user, %S s system" \
  "$build_dir/bin/mgap-eval" --manifest "$work/bundle/manifest.json" \
  --labels "$work/bundle/labels.csv" --output-dir "$work/mgap" --log-level warn
echo "== scikit-learn $(/usr/bin/python3 -c 'import sklearn; print(sklearn.__version__)')"
/usr/bin/time -f "scikit-learn peer: %e s wall, %U s user, %S s system" \
  /usr/bin/python3 "$root/bench/evaluation/bench_protocol_sklearn.py" \
  --manifest "$work/bundle/manifest.json" --labels "$work/bundle/labels.csv" \
  --output "$work/sklearn.json"
echo "== comparison"
/usr/bin/python3 "$root/bench/evaluation/compare_results.py" --mgap "$work/mgap" \
  --sklearn "$work/sklearn.json"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
