#!/usr/bin/env bash
# Training speed of mgap-train in one process with 2 LibTorch threads against 2 data-parallel ranks
# (scripts/launch_distributed.sh) with 1 thread each. Both use a global batch of 32 tiles of 64 x 64
# pixels (32 per step in one process, 16 per rank), procedural tiles and the default encoder.
# Steps per second come from the images_per_second column of metrics.csv, which counts all ranks,
# over the intervals after the first, because the first includes start-up.
# Usage: bench/train/compare_distributed.sh [BUILD_DIR] [STEPS]   (run on an otherwise idle machine)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build_dir="${1:-$root/build}"
steps="${2:-40}"
log_every=10
global_batch=32

# GNU OpenMP threads spin while they wait for work, which slows 2-thread steps on a busy machine.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"

work_dir="$(mktemp -d)"
trap 'rm -rf "$work_dir"' EXIT
common=(--density cu --slides procedural --steps "$steps" --tile-size 64 --log-every "$log_every"
        --rankme-every 0 --heldout-tiles 32 --workers 1 --no-progress --log-level warn)

"$build_dir/bin/mgap-train" "${common[@]}" --batch-size "$global_batch" --threads 2 \
  --output-dir "$work_dir/one_rank"
"$root/scripts/launch_distributed.sh" 2 -- "$build_dir/bin/mgap-train" "${common[@]}" \
  --batch-size $((global_batch / 2)) --threads 1 --output-dir "$work_dir/two_ranks"

/usr/bin/python3 - "$work_dir" "$global_batch" "$log_every" <<'PYTHON'
import csv, sys
work_dir, global_batch, log_every = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

def measure(run):
    """Returns steps per second and the mean data-wait fraction of rank 0."""
    rows = list(csv.DictReader(open(f"{work_dir}/{run}/metrics.csv")))[1:]
    seconds = sum(log_every * global_batch / float(row["images_per_second"]) for row in rows)
    wait = sum(float(row["data_wait_fraction"]) for row in rows) / len(rows)
    return log_every * len(rows) / seconds, wait

one_rank, one_rank_wait = measure("one_rank")
two_ranks, two_ranks_wait = measure("two_ranks")
print(f"| configuration (global batch {global_batch}, 64 px) | steps/s | relative to 1 x 2 "
      "| data wait (rank 0) |")
print("|---|---|---|---|")
print(f"| 1 rank x 2 threads | {one_rank:.3f} | 1.00 | {100 * one_rank_wait:.1f}% |")
print(f"| 2 ranks x 1 thread | {two_ranks:.3f} | {two_ranks / one_rank:.2f} "
      f"| {100 * two_ranks_wait:.1f}% |")
PYTHON
