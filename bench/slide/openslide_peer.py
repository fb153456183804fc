"""Peer of bench_region_reader: the same tiles read with python3-openslide and Pillow.

For each (mpp, x, y) request it picks the coarsest level whose pixels are no larger than the
target, reads the region of the tile's physical size with OpenSlide, converts it to RGB over white
and resizes it to 224 x 224 with Pillow's Lanczos filter (antialiased when shrinking). Prints JSON
with the tile count and seconds. Run with Debian's interpreter: /usr/bin/python3.
"""
import argparse
import csv
import json
import time

import openslide
from PIL import Image

TILE_SIZE_PX = 224


def read_tile(slide, mpp_x, mpp_y, target_mpp, center_x, center_y):
    level = 0
    for index, downsample in enumerate(slide.level_downsamples):
        if downsample * max(mpp_x, mpp_y) <= target_mpp * (1 + 1e-6):
            level = index
    downsample = slide.level_downsamples[level]
    width = max(1, round(TILE_SIZE_PX * target_mpp / (mpp_x * downsample)))
    height = max(1, round(TILE_SIZE_PX * target_mpp / (mpp_y * downsample)))
    left = round(center_x / downsample - 0.5 * width)
    top = round(center_y / downsample - 0.5 * height)
    region = slide.read_region((int(left * downsample), int(top * downsample)), level,
                               (width, height))
    white = Image.new("RGB", region.size, (255, 255, 255))
    white.paste(region, mask=region.split()[3])
    return white.resize((TILE_SIZE_PX, TILE_SIZE_PX), Image.LANCZOS)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--slide", required=True)
    parser.add_argument("--requests", required=True, help="CSV with columns mpp,x,y")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    slide = openslide.OpenSlide(args.slide)
    # Generic TIFF in OpenSlide 3.4 has no openslide.mpp-x; the TIFF tags give the pixel size.
    mpp_x = 1e4 / float(slide.properties["tiff.XResolution"])
    mpp_y = 1e4 / float(slide.properties["tiff.YResolution"])
    with open(args.requests) as handle:
        requests = [(float(r["mpp"]), float(r["x"]), float(r["y"])) for r in csv.DictReader(handle)]
    read_tile(slide, mpp_x, mpp_y, *requests[0])  # warm the tile cache like the benchmark does
    start = time.perf_counter()
    count = 0
    for _ in range(args.repeats):
        for request in requests:
            read_tile(slide, mpp_x, mpp_y, *request)
            count += 1
    seconds = time.perf_counter() - start
    print(json.dumps({"tiles": count, "seconds": seconds, "tiles_per_second": count / seconds}))


if __name__ == "__main__":
    main()
