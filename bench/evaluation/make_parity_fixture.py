"""Writes the evaluation parity fixture: a small labelled embedding bundle at 7 mpps, its fold
plan as a TCGA-MS labels.csv, and scikit-learn's results of the protocol on it.

    /usr/bin/python3 bench/evaluation/make_parity_fixture.py [--output tests/evaluation/data/parity]

With --slides-per-class, --tiles-per-slide and --dim it writes larger bundles of the same kind
(the benchmark uses 4 x 25 slides x 30 tiles = 3,000 tiles per mpp in 384 dimensions), and
--skip-reference leaves out the scikit-learn run.

The embeddings are synthetic and deterministic (seeded numpy RandomState): 28 slides of 4
classes, 9 tiles per slide, 24 dimensions. A tile's embedding at log2 mpp u is

    class signal (fine-scale part fading with u, coarse-scale part growing with u)
    + slide offset + tile latent + a smooth shift in u + noise,

so accuracy varies across mpps and the intermediate mpps sit between the training ones. Files are
float32 .npy (as encoders export them); both mgap and this script compute in float64.
"""

import argparse
import json
import os
import sys

import numpy as np
import sklearn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sklearn_protocol  # noqa: E402

MPPS = (0.25, 0.375, 0.5, 0.75, 1.0, 1.5, 2.0)
CLASSES = ("adenoma", "carcinoma", "normal", "stroma")
NUM_SLIDES_PER_CLASS = 7
NUM_TILES_PER_SLIDE = 9
DIM = 24
SEED = 20240611


def make_embeddings(rng, num_slides_per_class=NUM_SLIDES_PER_CLASS,
                    num_tiles_per_slide=NUM_TILES_PER_SLIDE, dim=DIM, signal_scale=1.0):
    num_classes = len(CLASSES)
    fine_means = rng.normal(0.0, 1.0, size=(num_classes, dim))
    coarse_means = rng.normal(0.0, 1.0, size=(num_classes, dim))
    shift_directions = rng.normal(0.0, 1.0, size=(2, dim))
    slides, labels = [], []
    for c in range(num_classes):
        for s in range(num_slides_per_class):
            slides.append("slide-%s-%02d" % (CLASSES[c][:3], s))
            labels.append(c)
    num_slides = len(slides)
    slide_offsets = rng.normal(0.0, 0.6, size=(num_slides, dim))
    tile_latents = rng.normal(0.0, 0.9, size=(num_slides, num_tiles_per_slide, dim))

    sets = {}
    for mpp in MPPS:
        u = np.log2(mpp / 0.25) / 3.0  # 0 at 0.25 mpp, 1 at 2.0 mpp
        rows, tile_ids, row_labels, groups = [], [], [], []
        for g in range(num_slides):
            c = labels[g]
            signal = signal_scale * ((1.0 - u) * fine_means[c] + u * coarse_means[c])
            shift = np.sin(2.5 * u) * shift_directions[0] + u * u * shift_directions[1]
            for t in range(num_tiles_per_slide):
                noise = rng.normal(0.0, 0.5, size=dim)
                rows.append(signal + slide_offsets[g] + tile_latents[g, t] + shift + noise)
                tile_ids.append("%s_%d" % (slides[g], t))
                row_labels.append(CLASSES[c])
                groups.append(slides[g])
        sets[mpp] = {"embeddings": np.asarray(rows, dtype=np.float32), "tile_id": tile_ids,
                     "label": row_labels, "group": groups}
    return sets


def write_bundle(folder, sets):
    entries = []
    for mpp, data in sets.items():
        name = ("%g" % mpp)
        np.save(os.path.join(folder, "embeddings_mpp_%s.npy" % name), data["embeddings"])
        with open(os.path.join(folder, "rows_mpp_%s.csv" % name), "w") as handle:
            handle.write("tile_id,label,group\n")
            for row in zip(data["tile_id"], data["label"], data["group"]):
                handle.write(",".join(row) + "\n")
        entries.append({"mpp": mpp, "file": "embeddings_mpp_%s.npy" % name,
                        "rows": "rows_mpp_%s.csv" % name})
    manifest = {"schema": "mgap.embeddings/v1",
                "description": "evaluation parity fixture, bench/evaluation/make_parity_fixture.py",
                "sets": entries}
    with open(os.path.join(folder, "manifest.json"), "w") as handle:
        json.dump(manifest, handle, indent=2)
        handle.write("\n")


def write_labels_csv(path, plans, label_of_slide):
    slides = sorted(set().union(*[plan.keys() for plan in plans]))
    with open(path, "w") as handle:
        handle.write("slide_uuid,label_id," + ",".join("fold_%d" % k for k in range(len(plans)))
                     + "\n")
        for slide in slides:
            handle.write(",".join([slide, label_of_slide[slide]] +
                                  [plan.get(slide, "unused") for plan in plans]) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--output", default=os.path.join(here, "..", "..", "tests", "evaluation",
                                                         "data", "parity"))
    parser.add_argument("--slides-per-class", type=int, default=NUM_SLIDES_PER_CLASS)
    parser.add_argument("--tiles-per-slide", type=int, default=NUM_TILES_PER_SLIDE)
    parser.add_argument("--dim", type=int, default=DIM)
    parser.add_argument("--signal", type=float, default=1.0,
                        help="scale of the class signal (lower it as --dim grows)")
    parser.add_argument("--skip-reference", action="store_true",
                        help="write the bundle and labels.csv only")
    args = parser.parse_args()
    os.makedirs(args.output, exist_ok=True)

    rng = np.random.RandomState(SEED)
    raw = make_embeddings(rng, args.slides_per_class, args.tiles_per_slide, args.dim, args.signal)
    write_bundle(args.output, raw)

    # Reread the files, so the reference computes on the float32 values that mgap reads.
    sets = sklearn_protocol.read_bundle(os.path.join(args.output, "manifest.json"))
    classes = sklearn_protocol.encode_labels(sets)
    plans = sklearn_protocol.make_fold_plans(sets, n_splits=5)
    label_of_slide = {}
    for data in sets.values():
        label_of_slide.update(zip(data["group"], data["label"]))
    write_labels_csv(os.path.join(args.output, "labels.csv"), plans, label_of_slide)
    if args.skip_reference:
        return

    results = sklearn_protocol.run_protocol(sets, plans)
    results.update({
        "generator": "bench/evaluation/make_parity_fixture.py",
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "classes": classes,
        "train_mpps": list(sklearn_protocol.STANDARD_MPPS),
        "logreg_tol": sklearn_protocol.LOGREG_TOL,
        "logreg_max_iter": sklearn_protocol.LOGREG_MAX_ITER,
    })
    with open(os.path.join(args.output, "sklearn_results.json"), "w") as handle:
        json.dump(results, handle, indent=1)
        handle.write("\n")
    for name, summary in results["summary"].items():
        print(name, "chosen per fold:", [fold[name]["chosen"] for fold in results["folds"]])
        for row in summary["per_mpp"]:
            print("  %-6g BA %.4f +- %.4f" % (row["Test_MPP"], row["Avg_balanced_accuracy"],
                                             row["Std_balanced_accuracy"]))


if __name__ == "__main__":
    main()
