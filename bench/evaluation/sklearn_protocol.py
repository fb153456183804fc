"""The per-mpp evaluation protocol written with scikit-learn, as the reference for mgap-eval.

It mirrors, step for step, what mgap's evaluation library does (docs/evaluation.md):

- folds: StratifiedGroupKFold(n_splits, shuffle=False) over the rows of every mpp; the training
  groups of each outer fold are split again the same way and inner fold 0 is the validation part;
- training and validation rows: tiles of those groups at the training mpps, stacked in increasing
  mpp order; test rows: tiles of the test groups at each test mpp, in file order;
- linear probe: StandardScaler fitted on the training rows, then
  LogisticRegression(C, class_weight="balanced", solver="lbfgs") for C in logspace(-4, 4, 9);
- kNN: KNeighborsClassifier(k, metric="cosine", weights="uniform", algorithm="brute") on the raw
  embeddings for k in (1, 3, 5, 10, 20, 40, 80), skipping k above the number of training rows;
- selection by validation balanced accuracy, the first (smallest) value among scores equal
  within 1e-12, no refit on training plus validation;
- metrics per fold and test mpp, mean and numpy.std (ddof = 0) over folds;
- RankMe: exp of the entropy of the normalized eigenvalues of numpy.cov, clamped at 1e-12.

Run with /usr/bin/python3 (Debian's python3-sklearn 1.2 and python3-numpy).
"""

import json
import os

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler

C_GRID = np.logspace(-4, 4, 9)
K_GRID = (1, 3, 5, 10, 20, 40, 80)
STANDARD_MPPS = (0.25, 0.5, 1.0, 2.0)
INTERMEDIATE_MPPS = (0.375, 0.75, 1.5)
# scikit-learn's default tolerance; max_iter high enough that every fit converges, as mgap's
# evaluation-count limit does.
LOGREG_TOL = 1e-4
LOGREG_MAX_ITER = 2000
# Validation scores closer than this are equal, so that a 1-ulp rounding difference between two
# equal mean recalls does not pick the hyperparameter; the smallest value among equal scores wins.
SCORE_TIE_TOLERANCE = 1e-12


def best_index(scores):
    best_score = max(scores)
    return next(i for i, score in enumerate(scores) if score >= best_score - SCORE_TIE_TOLERANCE)


def read_bundle(manifest_path):
    """Reads an mgap.embeddings/v1 bundle whose sets have .npy files and a rows CSV."""
    folder = os.path.dirname(os.path.abspath(manifest_path))
    with open(manifest_path) as handle:
        manifest = json.load(handle)
    sets = {}
    for entry in manifest["sets"]:
        embeddings = np.load(os.path.join(folder, entry["file"])).astype(np.float64)
        rows = np.genfromtxt(os.path.join(folder, entry["rows"]), delimiter=",", dtype=str,
                             skip_header=1)
        with open(os.path.join(folder, entry["rows"])) as handle:
            header = handle.readline().strip().split(",")
        columns = {name: rows[:, i] for i, name in enumerate(header)}
        sets[float(entry["mpp"])] = {"embeddings": embeddings, "label": columns["label"],
                                     "group": columns["group"]}
    return dict(sorted(sets.items()))


def encode_labels(sets):
    """Class names in sorted order (LabelEncoder) and integer labels per set."""
    classes = sorted({name for data in sets.values() for name in data["label"]})
    index = {name: i for i, name in enumerate(classes)}
    for data in sets.values():
        data["y"] = np.array([index[name] for name in data["label"]], dtype=np.int64)
    return classes


def make_fold_plans(sets, n_splits):
    """Role ("train", "dev", "test") of every group in each outer fold."""
    y = np.concatenate([data["y"] for data in sets.values()])
    groups = np.concatenate([data["group"] for data in sets.values()])
    plans = []
    for _, test_idx in StratifiedGroupKFold(n_splits=n_splits).split(y, y, groups):
        test_groups = set(groups[test_idx])
        train_mask = ~np.isin(groups, list(test_groups))
        inner_y, inner_groups = y[train_mask], groups[train_mask]
        _, validation_idx = next(
            StratifiedGroupKFold(n_splits=n_splits).split(inner_y, inner_y, inner_groups))
        validation_groups = set(inner_groups[validation_idx])
        plan = {g: "test" for g in test_groups}
        plan.update({g: ("dev" if g in validation_groups else "train") for g in set(inner_groups)})
        plans.append(plan)
    return plans


def stack(sets, mpps, plan, role):
    features, labels = [], []
    for mpp in mpps:
        data = sets[mpp]
        mask = np.array([plan.get(g) == role for g in data["group"]])
        features.append(data["embeddings"][mask])
        labels.append(data["y"][mask])
    return np.concatenate(features), np.concatenate(labels)


def metrics(y_true, y_pred):
    return {
        "accuracy": accuracy_score(y_true, y_pred),
        "balanced_accuracy": balanced_accuracy_score(y_true, y_pred),
        "f1_macro": f1_score(y_true, y_pred, average="macro"),
        "f1_weighted": f1_score(y_true, y_pred, average="weighted"),
    }


def run_logreg(x_train, y_train, x_val, y_val, tests):
    scaler = StandardScaler().fit(x_train)
    x_train_s, x_val_s = scaler.transform(x_train), scaler.transform(x_val)
    models, scores, iterations = [], [], []
    for c in C_GRID:
        model = LogisticRegression(C=c, class_weight="balanced", tol=LOGREG_TOL,
                                   max_iter=LOGREG_MAX_ITER)
        model.fit(x_train_s, y_train)
        models.append(model)
        iterations.append(int(np.max(model.n_iter_)))
        scores.append(balanced_accuracy_score(y_val, model.predict(x_val_s)))
    best = best_index(scores)
    predictions = [models[best].predict(scaler.transform(x)) for x, _ in tests]
    return list(C_GRID), scores, float(C_GRID[best]), predictions, iterations


def run_knn(x_train, y_train, x_val, y_val, tests):
    grid = [k for k in K_GRID if k <= len(y_train)]
    models, scores = [], []
    for k in grid:
        model = KNeighborsClassifier(n_neighbors=k, metric="cosine", algorithm="brute")
        model.fit(x_train, y_train)
        models.append(model)
        scores.append(balanced_accuracy_score(y_val, model.predict(x_val)))
    best = best_index(scores)
    predictions = [models[best].predict(x) for x, _ in tests]
    return [float(k) for k in grid], scores, float(grid[best]), predictions, None


def rankme(embeddings):
    eigenvalues = np.clip(np.linalg.eigvalsh(np.cov(embeddings, rowvar=False)), 1e-12, None)
    p = eigenvalues / eigenvalues.sum()
    return float(np.exp(-np.sum(p * np.log(p))))


def run_protocol(sets, plans, train_mpps=STANDARD_MPPS, test_mpps=None,
                 classifiers=("logreg", "knn")):
    """Runs the protocol; returns per-fold selections, predictions and metrics plus summaries."""
    test_mpps = sorted(sets) if test_mpps is None else list(test_mpps)
    runners = {"logreg": run_logreg, "knn": run_knn}
    folds = []
    for fold, plan in enumerate(plans):
        x_train, y_train = stack(sets, train_mpps, plan, "train")
        x_val, y_val = stack(sets, train_mpps, plan, "dev")
        tests = [stack(sets, [mpp], plan, "test") for mpp in test_mpps]
        entry = {"fold": fold, "num_train_rows": int(len(y_train)),
                 "num_validation_rows": int(len(y_val))}
        for name in classifiers:
            grid, scores, chosen, predictions, iterations = runners[name](
                x_train, y_train, x_val, y_val, tests)
            entry[name] = {
                "grid": grid,
                "validation_balanced_accuracy": scores,
                "chosen": chosen,
                "test": [dict(mpp=mpp, predictions=[int(v) for v in pred], **metrics(y, pred))
                         for mpp, pred, (_, y) in zip(test_mpps, predictions, tests)],
            }
            if iterations is not None:
                entry[name]["iterations"] = iterations
        folds.append(entry)

    summary = {}
    for name in classifiers:
        rows = []
        for t, mpp in enumerate(test_mpps):
            row = {"Test_MPP": mpp}
            for metric in ("accuracy", "balanced_accuracy", "f1_macro", "f1_weighted"):
                values = [fold[name]["test"][t][metric] for fold in folds]
                row["Avg_" + metric] = float(np.mean(values))
                row["Std_" + metric] = float(np.std(values))
            rows.append(row)
        balanced = {row["Test_MPP"]: row["Avg_balanced_accuracy"] for row in rows}
        standard = [v for m, v in balanced.items() if m in STANDARD_MPPS]
        intermediate = [v for m, v in balanced.items() if m in INTERMEDIATE_MPPS]
        summary[name] = {
            "per_mpp": rows,
            "mean_balanced_accuracy": float(np.mean(list(balanced.values()))),
            "min_balanced_accuracy": float(np.min(list(balanced.values()))),
            "intermediate_penalty": (float(np.mean(intermediate) - np.mean(standard))
                                     if standard and intermediate else None),
        }
    ranks = [{"mpp": mpp, "rankme": rankme(sets[mpp]["embeddings"])} for mpp in test_mpps]
    return {"folds": folds, "summary": summary, "rankme": ranks}
