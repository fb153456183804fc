#!/usr/bin/env bash
# Installs every Debian package that mgap needs to build, test, benchmark and plot.
# Safe to run again: it installs only what is missing. Needs root (or sudo) for apt-get.
set -euo pipefail

packages=(
  # Build tools and C++ libraries
  build-essential cmake pkg-config git
  libeigen3-dev libnlopt-cxx-dev libnlopt-dev libboost-dev nlohmann-json3-dev libglpk-dev
  libcli11-dev libspdlog-dev libfmt-dev doctest-dev libbenchmark-dev
  # Fast BLAS for Eigen-free GEMM users (LibTorch, NumPy); the reference BLAS is 30x slower
  libopenblas0-pthread libopenblas-dev
  # Whole-slide images, image I/O and resampling, training
  libopenslide-dev openslide-tools libvips-dev libvips-tools libtorch-dev libgloo-dev
  # Reference scripts, side-by-side peers and notebooks (run with /usr/bin/python3)
  python3-numpy python3-scipy python3-sklearn python3-torch python3-openslide python3-pil
  python3-pandas python3-matplotlib python3-nbconvert python3-nbformat python3-ipykernel
  jupyter-nbconvert
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages are installed"
  exit 0
fi

sudo_prefix=()
if [ "$(id -u)" -ne 0 ]; then
  sudo_prefix=(sudo)
fi

echo "setup: installing ${#missing[@]} packages: ${missing[*]}"
"${sudo_prefix[@]}" apt-get update -q
DEBIAN_FRONTEND=noninteractive "${sudo_prefix[@]}" apt-get install -y -q --no-install-recommends \
  "${missing[@]}"
