#!/usr/bin/env bash
# Side-by-side speed of reading 224 x 224 tiles at continuous mpps (log-uniform in [0.25, 2]) from
# a 4096 x 4096 synthetic pyramidal TIFF (JPEG tiles, 0.25 mpp): mgap's region reader on 1 and 2
# threads against python3-openslide + Pillow on one thread, on the same 2,000 requests.
# Usage: bench/slide/compare_with_python.sh [BUILD_DIR]   (run on an otherwise idle machine)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build_dir="${1:-$root/build}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$build_dir/bin/mgap-dataset" synth --output "$work/cohort" --slides 1 --size 4096 --seed 1 \
  --log-level warn
slide="$work/cohort/slides/synth-000.tif"

/usr/bin/python3 - "$work/requests.csv" <<'PYTHON'
import csv, sys
import numpy as np
rng = np.random.default_rng(0)
count = 2000
mpps = 2.0 ** rng.uniform(-2.0, 1.0, count)  # log-uniform over [0.25, 2]
xs = rng.uniform(600, 3500, count)
ys = rng.uniform(600, 3500, count)
with open(sys.argv[1], "w", newline="") as handle:
    writer = csv.writer(handle)
    writer.writerow(["mpp", "x", "y"])
    for row in zip(mpps, xs, ys):
        writer.writerow([f"{value:.6f}" for value in row])
PYTHON

MGAP_BENCH_SLIDE="$slide" MGAP_BENCH_REQUESTS="$work/requests.csv" \
  "$build_dir/bin/bench_region_reader" --benchmark_format=json --benchmark_min_time=3 \
  > "$work/mgap.json"
/usr/bin/python3 "$root/bench/slide/openslide_peer.py" --slide "$slide" \
  --requests "$work/requests.csv" > "$work/peer.json"

/usr/bin/python3 - "$work/mgap.json" "$work/peer.json" <<'PYTHON'
import json, sys
mgap = json.load(open(sys.argv[1]))["benchmarks"]
peer = json.load(open(sys.argv[2]))
print("| reader | block cache | threads | tiles/s | ratio to Python (1 thread) |")
print("|---|---|---|---|---|")
print(f"| python3-openslide + Pillow | OpenSlide's 32 MiB | 1 | {peer['tiles_per_second']:.0f} | 1.00 |")
for row in mgap:
    rate = row["tiles_per_second"]
    cache = "256 MiB" if "cache:1" in row["name"] else "off (OpenSlide's 32 MiB)"
    print(f"| mgap read_region | {cache} | {row['threads']} | {rate:.0f} | {rate / peer['tiles_per_second']:.2f} |")
PYTHON
