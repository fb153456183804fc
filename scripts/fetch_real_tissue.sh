#!/usr/bin/env bash
# Extracts the immunohistochemistry image of human colon tissue (skimage/data/ihc.png, 512 x 512)
# from Debian's python3-skimage package into data/real/. It then converts the image to a tiled
# pyramidal TIFF that OpenSlide can read, with a declared pixel size of 0.5 microns per pixel
# (data/README.md gives the reason). Only the package archive is downloaded, and the library is
# not installed.
# Safe to run again: it does nothing when both files exist. Needs apt-get (network to the Debian
# mirror) and the vips command from libvips-tools.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out_dir="$root/data/real"
png="$out_dir/ihc.png"
tiff="$out_dir/ihc.tif"

# Declared pixel size in microns per pixel, and the same in pixels per millimetre for libvips.
mpp="0.5"
pixels_per_mm="2000"

if [ -s "$png" ] && [ -s "$tiff" ]; then
  echo "fetch_real_tissue: $png and $tiff exist"
  exit 0
fi
mkdir -p "$out_dir"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [ ! -s "$png" ]; then
  # apt-get drops privileges to the _apt user for downloads, which needs write access here.
  mkdir -p "$work/download" && chmod 0777 "$work/download"
  (cd "$work/download" && apt-get download python3-skimage >/dev/null)
  deb="$(ls "$work"/download/python3-skimage_*.deb)"
  dpkg-deb -x "$deb" "$work/unpacked"
  source_png="$(find "$work/unpacked" -path '*/skimage/data/ihc.png' | head -n 1)"
  if [ -z "$source_png" ]; then
    echo "fetch_real_tissue: error: skimage/data/ihc.png not found in $deb" >&2
    exit 1
  fi
  cp "$source_png" "$work/ihc.png"
  mv "$work/ihc.png" "$png"
  echo "fetch_real_tissue: extracted $png from $(basename "$deb")"
fi

# The PNG's own pHYs chunk records 96 dpi, a software default, so the TIFF gets the declared size.
vips copy "$png" "$work/ihc.v" --xres "$pixels_per_mm" --yres "$pixels_per_mm"
vips tiffsave "$work/ihc.v" "$work/ihc.tif" --tile --pyramid --tile-width 128 --tile-height 128 \
  --compression deflate --resunit cm
mv "$work/ihc.tif" "$tiff"
echo "fetch_real_tissue: wrote $tiff at $mpp mpp"
