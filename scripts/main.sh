#!/usr/bin/env bash
# Installs the dependencies, builds mgap and runs the main job on the shipped default input:
# the bound-optimal sampling density over mpp for the default bound parameters, with the bound
# curves of the optimum, discrete uniform (DU) and continuous uniform (CU) sampling.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${MGAP_BUILD_DIR:-$root/build}"
output_dir="${MGAP_OUTPUT_DIR:-$root/results/main}"

bash "$root/scripts/build.sh"
mkdir -p "$output_dir"
"$build_dir/bin/mgap-optimize" --objective minmax --seed 0 \
  --output "$output_dir/density.json" --curves "$output_dir/curves.csv"
echo "main: outputs are in $output_dir (density.json, curves.csv)"
