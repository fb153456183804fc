#!/usr/bin/python3
"""Write an mgap embeddings bundle (schema mgap.embeddings/v1) with NumPy.

Use it as a library from your own export code:

    from write_bundle import write_bundle
    write_bundle("out/bundle", {0.25: {"embeddings": x25, "tile_id": ids, "label": labels},
                                0.5: {"embeddings": x50, "tile_id": ids, "label": labels}})

or run it to write a synthetic bundle whose inter-magnification discrepancy grows as
|log2 mpp difference| ** exponent (a known result for mgap-discrepancy to recover):

    /usr/bin/python3 bench/embeddings/write_bundle.py --output /tmp/bundle --exponent 0.7

Synthetic model: tile i has a latent vector z_i ~ N(0, I_D) shared across mpps and a class
offset; at log2 mpp u every embedding is shifted by B(u), where each of the D coordinates of B is
an independent fractional Brownian motion with Hurst index H = exponent (0 < H <= 1). Then
E|B(u) - B(v)|^2 = D |u - v|^(2H), so the distance between the mpp means grows as
sqrt(D) * shift_scale * |u - v|^H. Per-mpp noise with standard deviation noise_std is added.
"""

import argparse
import json
import os
import tempfile

import numpy as np

SCHEMA = "mgap.embeddings/v1"


def format_mpp(mpp):
    """Format an mpp as mgap names files: 0.25, 0.375, 1.0, 2.0."""
    return repr(float(mpp))


def _atomic_write(path, write):
    folder = os.path.dirname(path) or "."
    handle, temporary = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path))
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _csv_cell(value):
    text = str(value)
    if any(c in text for c in ',"\r\n'):
        text = '"' + text.replace('"', '""') + '"'
    return text


def write_bundle(folder, sets, dtype=np.float32):
    """Write one .npy per mpp, a rows CSV (tile_id, label, group) where given, and manifest.json.

    sets maps mpp -> dict with "embeddings" ([num_tiles, embedding_dim] array) and optional
    "tile_id", "label" and "group" sequences of length num_tiles. Files are written to temporary
    names and renamed, and the manifest is written last.
    """
    os.makedirs(folder, exist_ok=True)
    entries = []
    for mpp in sorted(sets):
        item = sets[mpp]
        embeddings = np.ascontiguousarray(item["embeddings"], dtype=dtype)
        if embeddings.ndim != 2 or embeddings.shape[0] == 0 or embeddings.shape[1] == 0:
            raise ValueError(f"embeddings at {mpp} mpp must be a non-empty 2-D array, "
                             f"got shape {embeddings.shape}")
        name = format_mpp(mpp)
        npy_name = f"embeddings_mpp_{name}.npy"
        _atomic_write(os.path.join(folder, npy_name), lambda s: np.save(s, embeddings))
        entry = {"mpp": float(mpp), "file": npy_name}

        columns = [c for c in ("tile_id", "label", "group") if item.get(c) is not None]
        if columns:
            for column in columns:
                if len(item[column]) != embeddings.shape[0]:
                    raise ValueError(f"{column} at {mpp} mpp has {len(item[column])} values "
                                     f"for {embeddings.shape[0]} rows")
            lines = [",".join(columns)]
            for row in range(embeddings.shape[0]):
                lines.append(",".join(_csv_cell(item[c][row]) for c in columns))
            rows_name = f"rows_mpp_{name}.csv"
            text = ("\n".join(lines) + "\n").encode("utf-8")
            _atomic_write(os.path.join(folder, rows_name), lambda s: s.write(text))
            entry["rows"] = rows_name
        entries.append(entry)

    manifest = json.dumps({"schema": SCHEMA, "sets": entries}, indent=2).encode("utf-8")
    _atomic_write(os.path.join(folder, "manifest.json"), lambda s: s.write(manifest + b"\n"))


def fractional_brownian_shifts(log2_mpps, hurst, embedding_dim, rng):
    """Return [num_mpps, embedding_dim] fBm values at log2_mpps, one independent path per column."""
    times = np.asarray(log2_mpps, dtype=float)
    times = times - times.min() + 1.0  # positive times; increments are stationary
    s, t = np.meshgrid(times, times, indexing="ij")
    covariance = 0.5 * (s ** (2 * hurst) + t ** (2 * hurst) - np.abs(s - t) ** (2 * hurst))
    factor = np.linalg.cholesky(covariance)
    return factor @ rng.standard_normal((len(times), embedding_dim))


def synthetic_sets(mpps, num_tiles, embedding_dim, exponent, shift_scale, noise_std,
                   num_classes, num_groups, seed):
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((num_tiles, embedding_dim))
    labels = rng.integers(0, num_classes, size=num_tiles)
    class_offsets = 2.0 * rng.standard_normal((num_classes, embedding_dim))
    shifts = fractional_brownian_shifts(np.log2(mpps), exponent, embedding_dim, rng)
    tile_ids = [f"tile_{i:05d}" for i in range(num_tiles)]
    groups = [f"slide_{i % num_groups:03d}" for i in range(num_tiles)]
    sets = {}
    for k, mpp in enumerate(mpps):
        noise = noise_std * rng.standard_normal((num_tiles, embedding_dim))
        embeddings = latent + class_offsets[labels] + shift_scale * shifts[k] + noise
        sets[mpp] = {"embeddings": embeddings, "tile_id": tile_ids,
                     "label": [f"class_{c}" for c in labels], "group": groups}
    return sets


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", required=True, help="bundle folder (created if missing)")
    parser.add_argument("--mpps", default="0.25,0.375,0.5,0.75,1.0,1.5,2.0",
                        help="comma-separated mpps (default: the seven test mpps)")
    parser.add_argument("--num-tiles", type=int, default=300, help="tiles per mpp (default 300)")
    parser.add_argument("--dim", type=int, default=64, help="embedding dimension (default 64)")
    parser.add_argument("--exponent", type=float, default=0.7,
                        help="Hurst index H in (0, 1]: discrepancy grows as |du|^H (default 0.7)")
    parser.add_argument("--shift-scale", type=float, default=0.5,
                        help="standard deviation of the mpp shift per octave (default 0.5)")
    parser.add_argument("--noise-std", type=float, default=0.5,
                        help="per-mpp noise standard deviation (default 0.5)")
    parser.add_argument("--num-classes", type=int, default=3, help="label classes (default 3)")
    parser.add_argument("--num-groups", type=int, default=10, help="slides (default 10)")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    args = parser.parse_args()
    if not 0.0 < args.exponent <= 1.0:
        parser.error(f"--exponent {args.exponent} must lie in (0, 1] (a Hurst index)")

    mpps = [float(m) for m in args.mpps.split(",")]
    sets = synthetic_sets(mpps, args.num_tiles, args.dim, args.exponent, args.shift_scale,
                          args.noise_std, args.num_classes, args.num_groups, args.seed)
    write_bundle(args.output, sets, dtype=np.dtype(args.dtype))
    print(f"wrote {len(mpps)} mpps x {args.num_tiles} tiles x {args.dim} dims to "
          f"{os.path.join(args.output, 'manifest.json')}")


if __name__ == "__main__":
    main()
