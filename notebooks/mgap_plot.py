"""Shared helpers for the mgap notebooks: finding inputs, reading densities, styling and saving.

The notebooks import this module from their own folder. Every figure uses the same mpp axis
(log2 scale, ticks labelled in mpp and nominal objective magnification 10 / mpp), the same colour
for the same distribution name, and is saved as PNG and SVG.
"""

import json
import math
import os
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, NullFormatter

# Magnification grid shared with the C++ code (include/mgap/magnification.hpp).
STANDARD_MPPS = (0.25, 0.5, 1.0, 2.0)
INTERMEDIATE_MPPS = (0.375, 0.75, 1.5)
TEST_MPPS = (0.25, 0.375, 0.5, 0.75, 1.0, 1.5, 2.0)
DEFAULT_DOMAIN_MPP = (0.25, 2.0)

# Okabe-Ito colours (distinguishable with the common colour-vision deficiencies).
DISTRIBUTION_COLOURS = {
    "du": "#0072B2",
    "cu": "#E69F00",
    "cu-linear": "#009E73",
    "optimized": "#D55E00",
    "minmax": "#CC79A7",
    "evaluated": "#56B4E9",
}
EXTRA_COLOURS = ("#000000", "#8C564B", "#17BECF", "#9467BD", "#BCBD22", "#7F7F7F", "#2CA02C",
                 "#E377C2")

# Column sets that identify each tidy CSV by its header.
BOUND_CURVES_COLUMNS = ("distribution", "mpp", "log2_mpp", "bound", "coverage", "discrepancy_term")
DISCREPANCY_COLUMNS = ("mpp_a", "mpp_b", "estimator", "value", "ci_low", "ci_high")
RESULTS_COLUMNS = ("Test_MPP", "Avg_balanced_accuracy", "Std_balanced_accuracy")
SAMPLES_COLUMNS = ("index", "mpp", "log2_mpp")
RANKME_COLUMNS = ("mpp", "rankme", "num_tiles", "embedding_dim")
LOOP_HISTORY_COLUMNS = ("round", "distribution", "test_mpp", "balanced_accuracy",
                        "bound_prediction")


def setup_style():
    """Set matplotlib defaults for paper figures and reproducible SVG files."""
    matplotlib.rcParams.update({
        "figure.dpi": 100,
        "savefig.dpi": 200,
        "font.size": 9,
        "axes.titlesize": 10,
        "axes.labelsize": 9,
        "legend.fontsize": 8,
        "xtick.labelsize": 8,
        "ytick.labelsize": 8,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "svg.hashsalt": "mgap",
        "svg.fonttype": "path",
    })


def prepare_directories(results_dir, figures_dir=None):
    """Resolve the results folder (which must exist) and create the figures folder.

    The figures folder defaults to `figures` inside the results folder.
    """
    results_dir = Path(results_dir).resolve()
    if not results_dir.is_dir():
        raise FileNotFoundError(f"results folder {results_dir} not found; set MGAP_RESULTS_DIR "
                                "to the folder that holds the mgap outputs")
    figures_dir = Path(figures_dir).resolve() if figures_dir else results_dir / "figures"
    figures_dir.mkdir(parents=True, exist_ok=True)
    return results_dir, figures_dir


def known_colour(name):
    """Return the fixed colour of a distribution name (du, cu, ...), or None."""
    return DISTRIBUTION_COLOURS.get(str(name).lower())


class ColourAssigner:
    """Colours for one figure: fixed ones for known distributions, then unused extra colours.

    Names other than the known distributions get the extra colours in the order they are first
    requested, so two names in one figure never share a colour until the extras run out.
    """

    def __init__(self):
        self._assigned = {}

    def __call__(self, name):
        if name in self._assigned:
            return self._assigned[name]
        colour = known_colour(name)
        if colour is None:
            used = set(self._assigned.values())
            free = [c for c in EXTRA_COLOURS if c not in used]
            colour = free[0] if free else EXTRA_COLOURS[len(self._assigned) % len(EXTRA_COLOURS)]
        self._assigned[name] = colour
        return colour


def magnification_label(mpp):
    """Nominal objective magnification of an mpp (40x at 0.25 mpp), as a tick label."""
    power = 10.0 / mpp
    return f"{power:.0f}x" if abs(power - round(power)) < 1e-9 else f"{power:.1f}x"


def format_mpp(mpp):
    """Format an mpp without trailing zeros (0.25, 0.375, 1, 2)."""
    return f"{mpp:g}"


def setup_mpp_axis(ax, domain_mpp=DEFAULT_DOMAIN_MPP, label=True):
    """Put mpp on a log2 axis with ticks at the standard mpps, labelled in mpp and magnification.

    Intermediate test mpps get unlabelled minor ticks so their labels cannot collide.
    """
    lo, hi = domain_mpp
    ax.set_xscale("log", base=2)
    ax.set_xlim(lo / 2 ** 0.12, hi * 2 ** 0.12)
    majors = [m for m in STANDARD_MPPS if lo * (1 - 1e-9) <= m <= hi * (1 + 1e-9)]
    if not majors:
        majors = [lo, hi]
    minors = [m for m in INTERMEDIATE_MPPS if lo < m < hi]
    ax.xaxis.set_major_locator(FixedLocator(majors))
    ax.xaxis.set_minor_locator(FixedLocator(minors))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xticklabels([f"{format_mpp(m)}\n{magnification_label(m)}" for m in majors])
    if label:
        ax.set_xlabel("resolution (µm per pixel; nominal objective magnification)")


def mark_test_mpps(ax, domain_mpp=DEFAULT_DOMAIN_MPP):
    """Draw faint vertical lines at the standard (solid) and intermediate (dashed) test mpps."""
    lo, hi = domain_mpp
    for mpp in STANDARD_MPPS:
        if lo <= mpp <= hi:
            ax.axvline(mpp, color="0.80", linewidth=0.8, linestyle="-", zorder=0)
    for mpp in INTERMEDIATE_MPPS:
        if lo <= mpp <= hi:
            ax.axvline(mpp, color="0.80", linewidth=0.8, linestyle="--", zorder=0)


def test_mpp_legend_handles():
    """Legend entries for the lines that mark_test_mpps draws."""
    return [Line2D([], [], color="0.70", linewidth=0.8, linestyle="-", label="standard mpp"),
            Line2D([], [], color="0.70", linewidth=0.8, linestyle="--",
                   label="intermediate test mpp")]


def save_figure(fig, figures_dir, name):
    """Save `fig` as NAME.png and NAME.svg in figures_dir and return both paths."""
    paths = []
    for extension in ("png", "svg"):
        path = Path(figures_dir) / f"{name}.{extension}"
        metadata = {"Date": None} if extension == "svg" else {"Software": None}
        fig.savefig(path, bbox_inches="tight", metadata=metadata)
        paths.append(path)
    print("saved", ", ".join(str(p) for p in paths))
    return paths


# ---------------------------------------------------------------------------------------------
# Finding inputs

def _visible_files(results_dir, suffix, skip_dirs=()):
    skip = [Path(d).resolve() for d in skip_dirs]
    found = []
    for path in sorted(Path(results_dir).rglob(f"*{suffix}")):
        relative = path.relative_to(results_dir)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if any(s == path.resolve() or s in path.resolve().parents for s in skip):
            continue
        if path.is_file():
            found.append(path)
    return found


def csv_header(path):
    """Return the column names of a CSV's header line (byte order mark and quotes removed)."""
    with open(path, encoding="utf-8-sig") as stream:
        line = stream.readline()
    return [cell.strip().strip('"') for cell in line.rstrip("\r\n").split(",")]


def find_csv_files(results_dir, columns, skip_dirs=()):
    """Return the CSV files under results_dir whose header contains every name in `columns`."""
    return [path for path in _visible_files(results_dir, ".csv", skip_dirs)
            if set(columns) <= set(csv_header(path))]


def find_json_files(results_dir, schema_prefix, skip_dirs=()):
    """Return (path, parsed JSON) for JSON files whose `schema` starts with schema_prefix."""
    found = []
    for path in _visible_files(results_dir, ".json", skip_dirs):
        try:
            with open(path, encoding="utf-8") as stream:
                document = json.load(stream)
        except (OSError, ValueError):
            continue
        if isinstance(document, dict) and str(document.get("schema", "")).startswith(schema_prefix):
            found.append((path, document))
    return found


def display_name(path, results_dir, strip_prefix=""):
    """Name a file by its path relative to results_dir, without suffix and `strip_prefix`."""
    relative = Path(path).relative_to(results_dir).with_suffix("")
    stem = relative.name
    if strip_prefix and stem.startswith(strip_prefix) and len(stem) > len(strip_prefix):
        stem = stem[len(strip_prefix):]
    return str(relative.with_name(stem))


def figure_name(prefix, label):
    """File-system-safe figure name such as bound_curves_optimized.

    The prefix is not repeated when the label already starts with it (discrepancy/mmd gives
    discrepancy_mmd).
    """
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in str(label))
    if safe == prefix or safe.startswith(prefix + "_"):
        return safe
    return f"{prefix}_{safe}"


# ---------------------------------------------------------------------------------------------
# Densities (mgap.density/v1)

def read_density(document):
    """Convert a density JSON document to a dict with domain, coordinate, bins and atoms."""
    bins = document.get("bins") or {}
    edges = np.asarray(bins.get("edges_mpp") or [], dtype=float)
    masses = np.asarray(bins.get("mass") or [], dtype=float)
    if len(masses) and len(edges) != len(masses) + 1:
        raise ValueError(f"density has {len(edges)} bin edges for {len(masses)} masses; "
                         "edges_mpp needs one more entry than mass")
    atoms = [(float(a["mpp"]), float(a["mass"])) for a in document.get("atoms") or []]
    return {"coordinate": document.get("coordinate", "log2_mpp"),
            "domain_mpp": tuple(document.get("domain_mpp", DEFAULT_DOMAIN_MPP)),
            "edges_mpp": edges, "mass": masses, "atoms": atoms,
            "provenance": document.get("provenance") or {}}


def reference_density(name, domain_mpp=DEFAULT_DOMAIN_MPP):
    """Build DU (equal atoms at the standard mpps), CU (uniform in log2 mpp) or CU-linear."""
    lo, hi = domain_mpp
    if name == "du":
        mpps = [m for m in STANDARD_MPPS if lo <= m <= hi]
        return {"coordinate": "log2_mpp", "domain_mpp": (lo, hi), "edges_mpp": np.array([]),
                "mass": np.array([]), "atoms": [(m, 1.0 / len(mpps)) for m in mpps]}
    coordinate = {"cu": "log2_mpp", "cu-linear": "mpp"}[name]
    return {"coordinate": coordinate, "domain_mpp": (lo, hi), "edges_mpp": np.array([lo, hi]),
            "mass": np.array([1.0]), "atoms": []}


def density_label(path, density):
    """Name a density JSON: du, cu or cu-linear when mgap-optimize --evaluate scored that
    reference, else the file name without .json."""
    provenance = density.get("provenance", {})
    if provenance.get("method") == "evaluate" and provenance.get("evaluated") in ("du", "cu"):
        if provenance["evaluated"] == "cu" and density["coordinate"] == "mpp":
            return "cu-linear"
        return provenance["evaluated"]
    return Path(path).stem


def density_per_octave_curve(density, points_per_bin=12):
    """Return (mpp, density per octave) polyline of the binned part of a density.

    Mass is uniform inside each bin in the density's coordinate. In log2_mpp bins the density per
    octave is mass / width in octaves. In mpp bins it is mass / width in mpp times mpp ln 2.
    """
    edges, masses = density["edges_mpp"], density["mass"]
    xs, ys = [], []
    for k, mass in enumerate(masses):
        lo, hi = edges[k], edges[k + 1]
        if density["coordinate"] == "mpp":
            grid = np.geomspace(lo, hi, points_per_bin)
            values = mass / (hi - lo) * grid * math.log(2.0)
        else:
            grid = np.array([lo, hi])
            values = np.full(2, mass / (math.log2(hi) - math.log2(lo)))
        xs.append(grid)
        ys.append(values)
    if not xs:
        return np.array([]), np.array([])
    return np.concatenate(xs), np.concatenate(ys)


def density_cdf(density, mpps):
    """Return P(mpp <= x) at each x in `mpps`, counting atoms at x and bin mass up to x."""
    mpps = np.asarray(mpps, dtype=float)
    edges, masses = density["edges_mpp"], density["mass"]
    if density["coordinate"] == "mpp":
        position, edge_positions = mpps, edges
    else:
        position, edge_positions = np.log2(mpps), np.log2(edges) if len(edges) else edges
    cdf = np.zeros_like(mpps)
    for k, mass in enumerate(masses):
        lo, hi = edge_positions[k], edge_positions[k + 1]
        cdf += mass * np.clip((position - lo) / (hi - lo), 0.0, 1.0)
    for atom_mpp, atom_mass in density["atoms"]:
        cdf += atom_mass * (mpps >= atom_mpp * (1 - 1e-12))
    return cdf


# ---------------------------------------------------------------------------------------------
# Bound curves

def intermediate_gap(mpps, values):
    """Mean of `values` at the intermediate test mpps minus the mean at the standard mpps.

    Values are interpolated linearly in log2 mpp; test mpps outside the sampled range are left out.
    Returns NaN when either group is empty. Positive means the intermediate mpps are served worse.
    """
    order = np.argsort(mpps)
    u = np.log2(np.asarray(mpps, dtype=float)[order])
    v = np.asarray(values, dtype=float)[order]

    def mean_at(targets):
        inside = [math.log2(m) for m in targets if u[0] - 1e-9 <= math.log2(m) <= u[-1] + 1e-9]
        return float(np.mean(np.interp(inside, u, v))) if inside else float("nan")

    return mean_at(INTERMEDIATE_MPPS) - mean_at(STANDARD_MPPS)


def require_numbers(frame, columns, path):
    """Convert `columns` of `frame` to floats, raising ValueError that names the file, column
    and first bad cell."""
    for column in columns:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = values.isna() & frame[column].notna()
        if bad.any():
            row = int(bad.idxmax())
            raise ValueError(f"{path}: column {column} has the non-numeric value "
                             f"{frame[column][row]!r} in data row {row + 1}; fix or remove the row")
        frame[column] = values
    return frame


def sibling_provenance(csv_path):
    """Return the provenance of the density JSON next to a CSV with the same stem, or {}.

    The documented examples and the notebook test run `mgap-optimize --output NAME.json --curves
    NAME.csv`. The JSON records the objective and coordinate, which the CSV does not contain.
    """
    path = Path(csv_path).with_suffix(".json")
    if not path.is_file():
        return {}
    try:
        with open(path, encoding="utf-8") as stream:
            document = json.load(stream)
    except (OSError, ValueError):
        return {}
    if not str(document.get("schema", "")).startswith("mgap.density/v"):
        return {}
    provenance = dict(document.get("provenance") or {})
    provenance.setdefault("coordinate", document.get("coordinate"))
    return provenance


def read_bound_curves(path):
    """Read a bound curves CSV, keeping the first block of each distribution.

    With --evaluate the evaluated reference appears twice (once as the result, once as the
    comparison row), so repeated (distribution, mpp) rows are dropped. In the linear mpp
    coordinate `cu` is uniform in mpp, so it is renamed `cu-linear` when the sibling JSON records
    the coordinate mpp. When the sibling JSON is an optimizer result, `optimized` is renamed to
    the file's stem (minmax.csv: `minmax`), so it has the colour and name of its density.
    """
    frame = pd.read_csv(path, encoding="utf-8-sig")
    require_numbers(frame, ["mpp", "log2_mpp", "bound", "coverage", "discrepancy_term"], path)
    frame = frame.drop_duplicates(subset=["distribution", "mpp"], keep="first")
    provenance = sibling_provenance(path)
    if provenance.get("coordinate") == "mpp":
        frame["distribution"] = frame["distribution"].replace({"cu": "cu-linear"})
    stem = Path(path).stem
    if provenance.get("method") == "optimize" and stem not in ("du", "cu", "cu-linear"):
        frame["distribution"] = frame["distribution"].replace({"optimized": stem})
    order = list(dict.fromkeys(frame["distribution"]))
    return frame.sort_values(["distribution", "mpp"]), order, provenance


def read_results_csv(path):
    """Read a per-mpp results CSV (mgap-eval or the published evaluation scripts).

    Drops an unnamed index column written by pandas and sorts by Test_MPP.
    """
    frame = pd.read_csv(path, encoding="utf-8-sig")
    frame = frame.loc[:, [c for c in frame.columns if not str(c).startswith("Unnamed")]]
    require_numbers(frame, [c for c in frame.columns if c == "Test_MPP" or c[:4] in ("Avg_", "Std_")],
                    path)
    return frame.sort_values("Test_MPP").reset_index(drop=True)
