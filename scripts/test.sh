#!/usr/bin/env bash
# Installs the dependencies, builds mgap and runs the whole test suite with CTest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${MGAP_BUILD_DIR:-$root/build}"

bash "$root/scripts/build.sh"
cd "$build_dir"
ctest --output-on-failure --parallel "$(nproc)" --timeout 1800
