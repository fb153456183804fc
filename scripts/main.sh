#!/usr/bin/env bash
# Installs the dependencies, builds the programs the main job needs, and runs the main job: one
# round of the closed loop on a synthetic cohort plus the real colon tissue image in data/real.
#   1. mgap-dataset synth writes 16 H&E-like slides (four classes) at 0.25 mpp;
#   2. mgap-dataset build cuts a benchmark of 64 px tiles at the seven test mpps, with 4 folds;
#   3. mgap-loop trains DU and CU, evaluates them, calibrates the bound, optimizes a density,
#      trains and evaluates it, and calibrates and optimizes once more.
# Outputs go to results/main (or $MGAP_OUTPUT_DIR), which is replaced on every run.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${MGAP_BUILD_DIR:-$root/build}"
output_dir="${MGAP_OUTPUT_DIR:-$root/results/main}"
steps="${MGAP_MAIN_STEPS:-300}"

bash "$root/scripts/build.sh" mgap-dataset mgap-loop mgap-optimize mgap-sample
bin="$build_dir/bin"

start=$(date +%s)
rm -rf "$output_dir"
mkdir -p "$output_dir"
"$bin/mgap-dataset" synth --output "$output_dir/cohort" --slides 16 --size 3072 \
  --region-size 512 --seed 1
"$bin/mgap-dataset" build --input "$output_dir/cohort/regions" --output "$output_dir/benchmark" \
  --tile-size 64 --folds 4 --seed 1
"$bin/mgap-loop" --rounds 1 --slides "$output_dir/cohort/slides,$root/data/real/ihc.tif" \
  --benchmark "$output_dir/benchmark" --steps "$steps" --batch-size 32 --tile-size 64 \
  --no-progress --seed 1 --output-dir "$output_dir/loop"
echo "main: finished in $(( $(date +%s) - start )) s; outputs are in $output_dir/loop" \
  "(history.csv, loop_summary.json, round_*/)"
