#!/usr/bin/env bash
# Produces fresh mgap outputs in a results folder, runs every notebook on them headless with
# scripts/run_notebooks.sh and checks that every expected figure is a valid PNG and SVG.
#
# Usage: run_notebook_test.sh --work-dir DIR --optimize PATH --sample PATH
#                             [--eval PATH] [--discrepancy PATH]
#
# make_inputs.py writes the inputs that no built program writes, in the documented formats. Without
# --discrepancy it writes the discrepancy JSON and CSV. It always writes the loop history CSV (from
# the real bound curves), a discrepancy CSV alone (to exercise the notebook's own power-law fit)
# and results CSVs in the format of the published Python evaluation scripts.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python=/usr/bin/python3
work_dir="" optimize="" sample="" eval_program="" discrepancy=""
while [ $# -gt 0 ]; do
  case "$1" in
    --work-dir) work_dir="$2" ;;
    --optimize) optimize="$2" ;;
    --sample) sample="$2" ;;
    --eval) eval_program="$2" ;;
    --discrepancy) discrepancy="$2" ;;
    *) echo "run_notebook_test: error: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift 2
done
if [ -z "$work_dir" ] || [ -z "$optimize" ] || [ -z "$sample" ]; then
  echo "run_notebook_test: error: --work-dir, --optimize and --sample are required" >&2
  exit 2
fi

results="$work_dir/results"
figures="$work_dir/figures"
rm -rf "$work_dir"
mkdir -p "$results" "$figures"
cd "$results"
step() { echo "== $*"; }

step "mgap-optimize: default run, minmax, and DU, CU, CU-linear scored"
"$optimize" --output optimized.json --curves optimized.csv --log-level warn
"$optimize" --objective minmax --output minmax.json --curves minmax.csv --log-level warn
"$optimize" --evaluate du --output du.json --curves du.csv --log-level warn
"$optimize" --evaluate cu --output cu.json --curves cu.csv --log-level warn
"$optimize" --evaluate cu --coordinate mpp --output cu-linear.json --curves cu-linear.csv \
  --log-level warn
"$sample" --density optimized.json --count 20000 --seed 1 --output samples_optimized.csv \
  --log-level warn

bundle="$work_dir/bundle"
if [ -n "$eval_program$discrepancy" ]; then
  step "synthetic embeddings bundle (7 mpps, 150 tiles, 16 dimensions)"
  "$python" "$root/bench/embeddings/write_bundle.py" --output "$bundle" --num-tiles 150 --dim 16 \
    --num-groups 12 --noise-std 3 --shift-scale 1.5 --seed 0
fi

mkdir -p discrepancy
if [ -n "$discrepancy" ]; then
  step "mgap-discrepancy: MMD with 20 bootstrap resamples"
  "$discrepancy" --manifest "$bundle/manifest.json" --estimator mmd --bootstrap 20 \
    --output discrepancy/mmd.json --csv discrepancy/mmd.csv --log-level warn
else
  step "mgap-discrepancy is not built: generating discrepancy/mmd.json and .csv"
  "$python" "$here/make_inputs.py" discrepancy --output discrepancy/mmd
fi
step "generating discrepancy/paired_cosine.csv without a JSON"
"$python" "$here/make_inputs.py" discrepancy --output discrepancy/paired_cosine \
  --estimator paired-cosine --a 0.3 --b 1.2 --csv-only --seed 1

if [ -n "$eval_program" ]; then
  step "mgap-eval: 3 folds, linear probe and kNN"
  "$eval_program" --manifest "$bundle/manifest.json" --output-dir eval --folds 3 \
    --c-grid 0.1,1 --k-grid 5,10 --log-level warn > /dev/null
fi
step "generating results CSVs in the published evaluation format"
"$python" "$here/make_inputs.py" published --output published

# TODO: run mgap-loop for the history once it is built; the generated history uses the real
# bound curves as predictions.
step "generating loop_history.csv from the bound curves"
"$python" "$here/make_inputs.py" loop-history --output loop_history.csv \
  --curves du.csv cu.csv optimized.csv minmax.csv

step "running the notebooks"
bash "$root/scripts/run_notebooks.sh" "$results" "$figures"

step "checking the figures and notebooks"
expected=(
  densities samples_optimized
  bound_curves_optimized bound_curves_minmax bound_curves_du bound_curves_cu bound_curves_cu-linear
  discrepancy_mmd discrepancy_paired_cosine
  balanced_accuracy
  loop_history loop_history_per_mpp
)
if [ -n "$eval_program" ]; then
  expected+=(rankme)
fi
status=0
"$python" "$here/check_figures.py" figures "$figures" "${expected[@]}" || status=1
"$python" "$here/check_figures.py" clean "$root"/notebooks/*.ipynb || status=1
"$python" "$here/check_figures.py" gap optimized.csv || status=1
exit $status
