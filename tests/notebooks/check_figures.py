#!/usr/bin/python3
"""Check the notebook figures, the committed notebooks and the bound gap of the default run.

  check_figures.py figures FIGURES_DIR NAME...   each NAME.png is a PNG of at least
                                                 MIN_PNG_PIXELS x MIN_PNG_PIXELS and MIN_PNG_BYTES,
                                                 and each NAME.svg parses as XML with an <svg> root
  check_figures.py clean NOTEBOOK...             notebooks are committed without outputs
  check_figures.py gap CURVES_CSV                DU has a positive gap (bound at the intermediate
                                                 test mpps above the standard ones) and CU a
                                                 smaller one

Prints one line per failed check and exits with status 1 if any check failed.
"""

import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
from PIL import Image

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The notebook figures at 200 dpi are 1200 px or more wide and 40 KB or more. A blank canvas of
# the same size is about 5 KB (matplotlib 3.6), so these limits catch figures that drew nothing.
MIN_PNG_PIXELS = 200
MIN_PNG_BYTES = 10_000
STANDARD_MPPS = (0.25, 0.5, 1.0, 2.0)
INTERMEDIATE_MPPS = (0.375, 0.75, 1.5)


def check_png(path):
    if not path.is_file():
        return [f"{path}: missing"]
    data = path.read_bytes()
    if not data.startswith(PNG_SIGNATURE):
        return [f"{path}: no PNG signature"]
    try:
        with Image.open(path) as image:
            image.verify()  # checks the chunks and their CRCs
            width, height = image.size
    except (OSError, SyntaxError) as error:
        return [f"{path}: damaged PNG ({error})"]
    problems = []
    if width < MIN_PNG_PIXELS or height < MIN_PNG_PIXELS:
        problems.append(f"{path}: {width} x {height} pixels, expected at least "
                        f"{MIN_PNG_PIXELS} x {MIN_PNG_PIXELS}")
    if len(data) < MIN_PNG_BYTES:
        problems.append(f"{path}: {len(data)} bytes, expected at least {MIN_PNG_BYTES}")
    return problems


def check_svg(path):
    if not path.is_file():
        return [f"{path}: missing"]
    try:
        root = ElementTree.parse(path).getroot()
    except ElementTree.ParseError as error:
        return [f"{path}: invalid XML ({error})"]
    if not root.tag.endswith("svg"):
        return [f"{path}: root element is <{root.tag}>, expected <svg>"]
    return []


def check_figures(figures_dir, names):
    problems = []
    for name in names:
        problems += check_png(Path(figures_dir) / f"{name}.png")
        problems += check_svg(Path(figures_dir) / f"{name}.svg")
    if not problems:
        print(f"{len(names)} figures valid as PNG and SVG in {figures_dir}")
    return problems


def check_clean(paths):
    problems = []
    for path in paths:
        notebook = nbformat.read(path, as_version=4)
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None):
                problems.append(f"{path}: cell {index} has outputs; clear them before committing "
                                "(jupyter nbconvert --clear-output --inplace)")
        if notebook.metadata.get("kernelspec", {}).get("name") != "python3":
            problems.append(f"{path}: kernelspec name is not python3")
    if not problems:
        print(f"{len(paths)} notebooks have no outputs and use the python3 kernel")
    return problems


def mean_at(rows, mpps):
    return float(np.mean(np.interp(np.log2(mpps), rows["log2_mpp"], rows["bound"])))


def check_gap(curves_path):
    frame = pd.read_csv(curves_path).drop_duplicates(subset=["distribution", "mpp"])
    gaps = {}
    for name in ("du", "cu"):
        rows = frame[frame["distribution"] == name].sort_values("log2_mpp")
        if rows.empty:
            return [f"{curves_path}: no rows for distribution {name}"]
        gaps[name] = mean_at(rows, INTERMEDIATE_MPPS) - mean_at(rows, STANDARD_MPPS)
    print(f"{curves_path}: gap du {gaps['du']:+.5f}, cu {gaps['cu']:+.5f}")
    problems = []
    if not gaps["du"] > 0:
        problems.append(f"{curves_path}: DU gap {gaps['du']:+.5f} is not positive")
    if not gaps["cu"] < gaps["du"]:
        problems.append(f"{curves_path}: CU gap {gaps['cu']:+.5f} is not below DU's")
    return problems


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("figures", "clean", "gap"):
        sys.exit(__doc__)
    command, arguments = sys.argv[1], sys.argv[2:]
    if command == "figures":
        problems = check_figures(arguments[0], arguments[1:])
    elif command == "clean":
        problems = check_clean(arguments)
    else:
        problems = check_gap(arguments[0])
    for problem in problems:
        print(f"check_figures: error: {problem}", file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
