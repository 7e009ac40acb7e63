"""Multi-output targets for the D×D theory: 10-class one-hot MNIST and ``.npz`` files with y of
shape (P, D) (docs/theory/nonlinear-renormalization.md §3)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from deeprg.data import DataSplit
from deeprg.errors import InputError, check_int


def one_hot(labels: np.ndarray, D: int = 10) -> np.ndarray:
    """One-hot targets (1 for the class, 0 elsewhere; deepbays' oneHotEncoding convention)."""
    return np.eye(D)[np.asarray(labels, int)]


def mnist_all_classes(
    P: int, P_test: int, *, seed: int = 0, center: bool = True, path: str | Path | None = None
) -> DataSplit:
    """All ten MNIST digits with one-hot targets (P, 10); inputs as the two-class sets
    (centered on the training mean, ‖x‖² = N0). Default: the 5,000 shipped digits."""
    from deeprg.data.files import load_mnist
    from deeprg.data.images import _mnist_raw
    from deeprg.data.split import check_seed

    P, P_test = check_int("P", P), check_int("P_test", P_test)
    seed = check_seed(seed)
    rng = np.random.default_rng(seed)
    if path is None:
        images, labels = _mnist_raw()
        if P + P_test > labels.size:
            raise InputError(
                f"P + P_test must be <= {labels.size} (mnist digits), got {P + P_test}"
            )
        pick = rng.permutation(labels.size)[: P + P_test]
        raw, lab = images[pick], labels[pick]
    else:
        xtr, ytr, xte, yte = load_mnist(path)
        if P > ytr.size or P_test > yte.size:
            raise InputError(f"P must be <= {ytr.size} and P_test <= {yte.size}, got {P}, {P_test}")
        tr = rng.permutation(ytr.size)[:P]
        te = rng.permutation(yte.size)[:P_test]
        raw = np.concatenate([xtr[tr], xte[te]])
        lab = np.concatenate([ytr[tr], yte[te]])
    X = raw.reshape(raw.shape[0], -1).astype(np.float64)
    if center:
        X -= X[:P].mean(0)
    norms = np.sqrt(np.einsum("ij,ij->i", X, X))[:, None]
    X *= np.sqrt(X.shape[1]) / np.where(norms > 0, norms, 1.0)
    Y = one_hot(lab)
    info = {"name": "mnist", "seed": seed, "center": center, "classes": "all", "D": 10}
    info |= {"N0": int(X.shape[1]), "targets": "one-hot"}
    return DataSplit(X[:P], Y[:P], X[P:], Y[P:], info)


def npz_targets_2d(path: str | Path) -> bool:
    """True when an .npz holds y with two dimensions and more than one column."""
    try:
        with np.load(path, allow_pickle=False) as f:
            return "y" in f.files and f["y"].ndim == 2 and f["y"].shape[1] > 1
    except Exception:
        return False


def load_npz_multi(
    train: str | Path, test: str | Path, *, P: int | None = None, P_test: int | None = None
) -> DataSplit:
    """Training and test ``.npz`` files with X (P, N0) and y (P, D), validated."""
    out = []
    for p, n, name in ((train, P, "P"), (test, P_test, "P_test")):
        with np.load(p, allow_pickle=False) as f:
            if "X" not in f.files or "y" not in f.files:
                raise InputError(f"{p}: missing array(s) X and y")
            X, y = np.asarray(f["X"], float), np.asarray(f["y"], float)
        if X.ndim != 2 or y.ndim != 2 or y.shape[0] != X.shape[0]:
            raise InputError(
                f"{p}: need X of shape (P, N0) and y of shape (P, D), got {X.shape}, {y.shape}"
            )
        if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
            raise InputError(f"{p}: X or y contains NaN or inf")
        if n is not None:
            if n > X.shape[0]:
                raise InputError(f"{name} must be <= {X.shape[0]} (rows of {p}), got {n}")
            X, y = X[:n], y[:n]
        out.append((X, y))
    (X, y), (Xt, yt) = out
    if Xt.shape[1] != X.shape[1] or yt.shape[1] != y.shape[1]:
        raise InputError("the test file must have the same N0 and D as the training file")
    return DataSplit(X, y, Xt, yt, {"name": "npz", "train": str(train), "test": str(test)})
