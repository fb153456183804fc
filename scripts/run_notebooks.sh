#!/usr/bin/env bash
# Runs every notebook in notebooks/ headless on a results folder and saves its figures.
#
# Usage: scripts/run_notebooks.sh RESULTS_DIR [FIGURES_DIR [NOTEBOOK...]]
#
# RESULTS_DIR is searched recursively for mgap outputs. Figures (PNG and SVG) go to FIGURES_DIR,
# default RESULTS_DIR/figures, and the executed notebooks with their outputs to
# FIGURES_DIR/notebooks. NOTEBOOK names (such as 02_bound_curves) select notebooks; the default
# is all of them. The kernel runs MGAP_PYTHON (default /usr/bin/python3, Debian's interpreter with
# pandas, matplotlib and ipykernel), whatever `python3` is first on PATH. Every notebook runs even
# when an earlier one fails. The exit status is 1 if any notebook failed, and 2 for bad arguments
# or a missing package.
set -euo pipefail

usage="usage: $(basename "$0") RESULTS_DIR [FIGURES_DIR [NOTEBOOK...]]"
if [ $# -lt 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
  echo "$usage" >&2
  exit 2
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
notebook_dir="$root/notebooks"
python="${MGAP_PYTHON:-/usr/bin/python3}"

if [ ! -d "$1" ]; then
  echo "run_notebooks: error: results folder '$1' not found; pass the folder that holds the" \
       "mgap outputs" >&2
  exit 2
fi
results_dir="$(cd "$1" && pwd)"
figures_dir="${2:-$results_dir/figures}"
shift $(( $# >= 2 ? 2 : 1 ))

if ! "$python" -c "import nbconvert, nbformat, ipykernel, pandas, matplotlib, scipy" 2>/dev/null; then
  echo "run_notebooks: error: $python cannot import nbconvert, ipykernel, pandas, matplotlib" \
       "and scipy; install them with scripts/setup.sh or set MGAP_PYTHON to an interpreter" \
       "that has them" >&2
  exit 2
fi

notebooks=()
if [ $# -eq 0 ]; then
  for path in "$notebook_dir"/[0-9]*.ipynb; do
    notebooks+=("$path")
  done
else
  for name in "$@"; do
    path="$notebook_dir/${name%.ipynb}.ipynb"
    if [ ! -f "$path" ]; then
      echo "run_notebooks: error: notebook '$name' not found in $notebook_dir" >&2
      exit 2
    fi
    notebooks+=("$path")
  done
fi

mkdir -p "$figures_dir/notebooks"
figures_dir="$(cd "$figures_dir" && pwd)"

# A kernel spec named python3 that runs $python. Kernel specs on JUPYTER_PATH take precedence over
# the user's and the system's, so a python3 kernel of another interpreter cannot be picked up.
work_dir="$(mktemp -d)"
trap 'rm -rf "$work_dir"' EXIT
mkdir -p "$work_dir/kernels/python3" "$work_dir/runtime"
cat > "$work_dir/kernels/python3/kernel.json" <<EOF
{
  "argv": ["$python", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
  "display_name": "Python 3 (mgap notebooks)",
  "language": "python"
}
EOF
export JUPYTER_PATH="$work_dir${JUPYTER_PATH:+:$JUPYTER_PATH}"
export JUPYTER_RUNTIME_DIR="$work_dir/runtime"
export MGAP_RESULTS_DIR="$results_dir"
export MGAP_FIGURES_DIR="$figures_dir"
# Silences debugpy's warning about frozen modules, which every kernel start prints otherwise.
export PYDEVD_DISABLE_FILE_VALIDATION=1

failed=()
for notebook in "${notebooks[@]}"; do
  name="$(basename "$notebook" .ipynb)"
  start=$SECONDS
  if "$python" -m nbconvert --to notebook --execute \
      --ExecutePreprocessor.kernel_name=python3 --ExecutePreprocessor.timeout=600 \
      --output-dir "$figures_dir/notebooks" --log-level=WARN "$notebook"; then
    echo "run_notebooks: $name finished in $((SECONDS - start)) s"
  else
    echo "run_notebooks: $name failed; the error is printed above" >&2
    failed+=("$name")
  fi
done

echo "run_notebooks: figures in $figures_dir, executed notebooks in $figures_dir/notebooks"
if [ ${#failed[@]} -gt 0 ]; then
  echo "run_notebooks: error: ${#failed[@]} notebooks failed: ${failed[*]}" >&2
  exit 1
fi
