#!/usr/bin/env bash
# Side-by-side training-step speed of mgap-train's LibTorch code and the same model in PyTorch
# (Debian python3-torch), batch 32 of 64 x 64 tiles, 2 threads, random tensors; plus the speed of
# one data worker making augmented procedural batches.
# Usage: bench/train/compare_with_pytorch.sh [BUILD_DIR]   (run on an otherwise idle machine)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build_dir="${1:-$root/build}"

# GNU OpenMP threads spin while they wait for work. On a machine shared with other jobs that made
# 2-thread steps 5x slower than 1-thread steps in both programs, so both run with passive waiting.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"

mgap_json="$(mktemp)"
trap 'rm -f "$mgap_json"' EXIT
"$build_dir/bin/bench_train" --benchmark_format=json --benchmark_min_time=10 > "$mgap_json"
peer_json="$(/usr/bin/python3 "$root/bench/train/pytorch_peer.py" --batch-size 32 --tile-size 64 \
  --threads 2 --steps 30)"

/usr/bin/python3 - "$mgap_json" "$peer_json" <<'PYTHON'
import json, sys
mgap = {b["name"].split("/")[0]: b for b in json.load(open(sys.argv[1]))["benchmarks"]}
peer = json.loads(sys.argv[2])
ours = mgap["BM_DinoStep"]["real_time"] / 1000.0  # the benchmark reports milliseconds
theirs = peer["seconds_per_step"]
data = mgap["BM_ProceduralBatch"]["real_time"] / 1000.0
print("| measurement (batch 32, 64 px, 2 threads) | mgap | PyTorch | PyTorch s / mgap s |")
print("|---|---|---|---|")
print(f"| DINO step on random tensors, steps/s | {1 / ours:.2f} | {1 / theirs:.2f} | {theirs / ours:.2f} |")
print(f"| one worker, augmented procedural batch, batches/s | {1 / data:.2f} | | |")
PYTHON
