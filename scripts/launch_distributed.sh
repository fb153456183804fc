#!/usr/bin/env bash
# Starts N ranks of a program on this host for data-parallel training, as
# `torchrun --standalone --nproc_per_node N` does: every rank gets RANK, LOCAL_RANK, WORLD_SIZE,
# LOCAL_WORLD_SIZE, MASTER_ADDR=127.0.0.1 and the same free MASTER_PORT. Waits for all ranks.
# When one fails, the others are stopped and the script exits with the failed rank's status;
# otherwise it exits 0.
#
# Usage: scripts/launch_distributed.sh [--port P] [--log-dir DIR] N -- PROGRAM [ARGS...]
#   --port P       MASTER_PORT to use (default: a port that is free when the script starts)
#   --log-dir DIR  write rank R's stdout and stderr to DIR/rank_R.log instead of the terminal
#
# Example: scripts/launch_distributed.sh 2 -- build/bin/mgap-train --density cu \
#            --slides procedural --steps 100 --output-dir runs/ddp
set -euo pipefail

usage() {
  echo "usage: $0 [--port P] [--log-dir DIR] N -- PROGRAM [ARGS...]" >&2
  exit 2
}

port=""
log_dir=""
while [[ $# -gt 0 && "$1" == --* ]]; do
  case "$1" in
    --port) [[ $# -ge 2 ]] || usage; port="$2"; shift 2 ;;
    --log-dir) [[ $# -ge 2 ]] || usage; log_dir="$2"; shift 2 ;;
    *) echo "$0: error: unknown option '$1'" >&2; usage ;;
  esac
done
[[ $# -ge 3 && "$2" == "--" ]] || usage
num_ranks="$1"
shift 2
if ! [[ "$num_ranks" =~ ^[1-9][0-9]*$ ]]; then
  echo "$0: error: invalid number of ranks '$num_ranks'; give a positive integer" >&2
  exit 2
fi

if [[ -z "$port" ]]; then
  # The kernel picks a free port. Another process may take it before rank 0 binds it, and then
  # rank 0 fails with "Address already in use" and the run can be started again.
  port="$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
fi
if [[ -n "$log_dir" ]]; then
  mkdir -p "$log_dir"
fi

declare -A rank_of_pid=()
pids=()
stop_all() {
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
}
trap 'stop_all; exit 130' INT TERM

for ((rank = 0; rank < num_ranks; ++rank)); do
  if [[ -n "$log_dir" ]]; then
    RANK=$rank LOCAL_RANK=$rank WORLD_SIZE=$num_ranks LOCAL_WORLD_SIZE=$num_ranks \
      MASTER_ADDR=127.0.0.1 MASTER_PORT=$port "$@" >"$log_dir/rank_$rank.log" 2>&1 &
  else
    RANK=$rank LOCAL_RANK=$rank WORLD_SIZE=$num_ranks LOCAL_WORLD_SIZE=$num_ranks \
      MASTER_ADDR=127.0.0.1 MASTER_PORT=$port "$@" &
  fi
  pids+=("$!")
  rank_of_pid[$!]=$rank
done
echo "launch_distributed: started $num_ranks ranks on 127.0.0.1:$port" >&2

exit_status=0
running=("${pids[@]}")
while [[ ${#running[@]} -gt 0 ]]; do
  finished_pid=""
  status=0
  wait -n -p finished_pid "${running[@]}" || status=$?
  remaining=()
  for pid in "${running[@]}"; do
    [[ "$pid" == "$finished_pid" ]] || remaining+=("$pid")
  done
  running=("${remaining[@]}")
  if [[ $status -ne 0 && $exit_status -eq 0 ]]; then
    exit_status=$status
    echo "launch_distributed: rank ${rank_of_pid[$finished_pid]} failed with exit status" \
      "$status; stopping the other ranks" >&2
    stop_all
  fi
done
exit "$exit_status"
