"""Data from the user's files: full MNIST (IDX files or mnist.npz) and ``.npz`` pairs with arrays
X and y for ``--train/--test`` (docs/data.md)."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from deeprg.data.split import DataSplit, _readonly
from deeprg.errors import InputError, check_int, check_xy

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
