#!/usr/bin/env bash
# Installs the dependencies (scripts/setup.sh) and builds mgap into build/ (or $MGAP_BUILD_DIR).
# Arguments, if any, name the only targets to build (for example mgap-loop). In CI (CI=true)
# compiler warnings are errors.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${MGAP_BUILD_DIR:-$root/build}"

bash "$root/scripts/setup.sh"

werror=OFF
if [ "${CI:-}" = "true" ]; then
  werror=ON
fi

cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DMGAP_WERROR="$werror"
targets=()
for target in "$@"; do
  targets+=(--target "$target")
done
cmake --build "$build_dir" --parallel "$(nproc)" "${targets[@]}"
