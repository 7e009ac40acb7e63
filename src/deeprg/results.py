"""Results on disk: provenance, atomic writes, output checks and checkpoints.

One writer for every result in the package (design.md: "one writer function; netCDF on disk").
Every file records the configuration (JSON), its hash, the seed and the package version in its
attrs. Writes go to a temporary file in the target directory followed by ``os.replace`` so that
a crash never leaves a half-written result behind; files get the permissions the user's umask
allows (not ``mkstemp``'s 0600). Outputs are checked writable *before* work starts
(:func:`check_writable`); if a final write still fails, the result goes to a fallback file
whose name the error gives (:func:`write_dataset`).

Checkpoints (:func:`save_checkpoint`, :func:`load_checkpoint`) are ``.npz`` archives read with
``allow_pickle=False``: arrays by name plus a JSON skeleton of the state and the
configuration identity (:mod:`deeprg.identity`). Reading a foreign or corrupt file never
executes code; it raises :class:`~deeprg.errors.InputError` naming the file.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, cast

import numpy as np

from deeprg import __version__
from deeprg.errors import InputError


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "model_dump"):  # pydantic models
        return _jsonable(obj.model_dump())
    if hasattr(obj, "__dataclass_fields__"):
        return {k: _jsonable(getattr(obj, k)) for k in obj.__dataclass_fields__}
    return obj


def to_json(obj: Any, **kw: Any) -> str:
    """JSON-encode configs and results (numpy arrays, dataclasses and pydantic models included)."""
    return json.dumps(_jsonable(obj), **kw)


def provenance(config: Mapping[str, Any] | None = None, seed: int | None = None) -> dict[str, str]:
    """netCDF attrs: the configuration, its hash, the seed, the package version and the time."""
    from deeprg.identity import config_hash

    return {
        "deeprg_version": __version__,
        "config": to_json(config or {}, sort_keys=True),
        "config_hash": config_hash(config or {}),
        "seed": "none" if seed is None else str(int(seed)),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


class OutputError(InputError):
    """An output cannot be written (exit code 2, one line)."""


def _umask() -> int:
    """The process umask, read without changing it where /proc allows."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:  # pragma: no cover - not Linux
        pass
    old = os.umask(0o022)  # pragma: no cover
    os.umask(old)  # pragma: no cover
    return old  # pragma: no cover


def _first_existing(path: Path) -> Path:
    p = path
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def check_writable(
    path: str | os.PathLike[str], *, kind: str = "file", what: str = "output"
) -> Path:
    """Fail early (one line, :class:`OutputError`) if ``path`` cannot be written.

    ``kind`` is ``"file"`` (a file to create or replace) or ``"dir"`` (a directory to create or
    fill). The parent directories are created; a probe file is created and removed, so a
    read-only place, a path under a regular file or a file where a directory is expected are
    all found before any work is done.
    """
    p = Path(path)
    if kind == "file" and p.is_dir():
        raise OutputError(f"cannot write {what} {p}: it is a directory")
    if kind == "dir" and p.exists() and not p.is_dir():
        raise OutputError(f"cannot use {what} {p}: it is not a directory")
    directory = p if kind == "dir" else p.parent
    anc = _first_existing(directory)
    if anc.exists() and not anc.is_dir():
        raise OutputError(f"cannot write {what} {p}: {anc} is not a directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory, prefix=".deeprg-probe-"):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise OutputError(f"cannot write {what} {p}: {reason} ({directory})") from None
    if kind == "file" and p.exists() and not os.access(p, os.W_OK):
        raise OutputError(f"cannot write {what} {p}: permission denied")
    return p


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success rename it onto ``path`` atomically.

    The final file gets mode 0666 & ~umask (as ``open`` would create it)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file + fsync + rename)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    atomic_write_bytes(path, text.encode())


def fallback_path(path: str | os.PathLike[str]) -> Path:
    """Where a result goes when its own path fails at the final write (the temp directory)."""
    p = Path(path)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    d = Path(tempfile.gettempdir()) / "deeprg-fallback"
    return d / f"{p.stem}-{stamp}-{os.getpid()}{p.suffix}"


def write_with_fallback(path: str | os.PathLike[str], write: Callable[[Path], None]) -> Path:
    """Run ``write(tmp)`` and rename onto ``path``; if that fails, write to a fallback file and
    raise :class:`OutputError` naming it (the computed result is never lost)."""
    try:
        with atomic_path(path) as tmp:
            write(tmp)
        return Path(path)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        fb = fallback_path(path)
        try:
            with atomic_path(fb) as tmp:
                write(tmp)
        except OSError:
            raise OutputError(f"could not write {path} ({reason}); no fallback possible") from None
        raise OutputError(
            f"could not write {path} ({reason}); the result was saved to {fb}"
        ) from None


def write_dataset(
    ds: Any,
    path: str | os.PathLike[str],
    *,
    config: Mapping[str, Any] | None = None,
    seed: int | None = None,
) -> Path:
    """Write an ``xarray.Dataset`` to netCDF atomically, adding provenance attrs.

    If the write fails (full disk, vanished directory), the result is written to
    :func:`fallback_path` and :class:`OutputError` names that file."""
    ds = ds.copy()
    ds.attrs.update(provenance(config, seed) if config is not None or seed is not None else {})
    ds.attrs.setdefault("deeprg_version", __version__)
    return write_with_fallback(path, lambda tmp: ds.to_netcdf(tmp, engine="h5netcdf"))


def read_dataset(path: str | os.PathLike[str]) -> Any:
    """Read a netCDF file written by :func:`write_dataset` fully into memory."""
    import xarray as xr

    p = Path(path)
    if p.is_dir():
        raise InputError(f"{p} is a directory, not a netCDF file")
    if not p.exists():
        raise FileNotFoundError(f"file not found: {p}")
    try:
        with xr.open_dataset(p, engine="h5netcdf") as ds:
            return ds.load()
    except Exception as exc:  # any failure to parse: the file is not what it claims to be
        raise InputError(f"{p} is not a readable netCDF file ({type(exc).__name__})") from None


# -- checkpoints: arrays + a JSON skeleton, no pickle --------------------------------------------


def _encode(obj: Any, arrays: dict[str, np.ndarray]) -> Any:
    """JSON skeleton of a state tree; arrays go to ``arrays`` under generated names."""

    def put(a: np.ndarray) -> str:
        name = f"a{len(arrays)}"
        arrays[name] = a
        return name

    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        if obj.dtype.hasobject:
            raise TypeError("object arrays cannot be checkpointed")
        return {"__array__": put(obj)}
    if isinstance(obj, np.random.Generator):
        return {"__rng__": obj.bit_generator.state}
    if isinstance(obj, (list, tuple)):
        tag = "__list__" if isinstance(obj, list) else "__tuple__"
        first = obj[0] if obj else None
        if (
            isinstance(first, np.ndarray)
            and len(obj) > 1
            and all(
                isinstance(x, np.ndarray) and x.shape == first.shape and x.dtype == first.dtype
                for x in obj
            )
        ):
            return {"__stack__": put(np.stack(obj)), "kind": tag}
        return {tag: [_encode(x, arrays) for x in obj]}
    if isinstance(obj, Mapping):
        return {"__dict__": {str(k): _encode(v, arrays) for k, v in obj.items()}}
    if hasattr(obj, "__dataclass_fields__"):
        fields = {k: _encode(getattr(obj, k), arrays) for k in obj.__dataclass_fields__}
        return {"__dataclass__": type(obj).__name__, "fields": fields}
    raise TypeError(f"cannot checkpoint a {type(obj).__name__}")


def _decode(node: Any, arrays: Mapping[str, np.ndarray], types: Mapping[str, type]) -> Any:
    if not isinstance(node, dict):
        return node
    if "__array__" in node:
        return np.array(arrays[node["__array__"]])
    if "__rng__" in node:
        state = node["__rng__"]
        bg = getattr(np.random, state["bit_generator"])()
        bg.state = state
        return np.random.Generator(bg)
    if "__stack__" in node:
        items = list(np.array(arrays[node["__stack__"]]))
        return items if node["kind"] == "__list__" else tuple(items)
    if "__list__" in node:
        return [_decode(x, arrays, types) for x in node["__list__"]]
    if "__tuple__" in node:
        return tuple(_decode(x, arrays, types) for x in node["__tuple__"])
    if "__dict__" in node:
        return {k: _decode(v, arrays, types) for k, v in node["__dict__"].items()}
    if "__dataclass__" in node:
        cls = types[node["__dataclass__"]]  # only the types the caller names are rebuilt
        return cls(**{k: _decode(v, arrays, types) for k, v in node["fields"].items()})
    raise ValueError(f"unknown node {sorted(node)}")


def save_npz(path: str | os.PathLike[str], arrays: Mapping[str, np.ndarray], **meta: Any) -> None:
    """Write arrays plus JSON metadata strings (``meta``) to an ``.npz`` atomically."""
    out = dict(arrays)
    for k, v in meta.items():
        out[f"__{k}__"] = np.array(v if isinstance(v, str) else json.dumps(v))

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            np.savez(fh, **cast(dict[str, Any], out))
            fh.flush()
            os.fsync(fh.fileno())

    with atomic_path(path) as tmp:
        write(tmp)


def load_npz(path: str | os.PathLike[str], what: str = "file") -> dict[str, np.ndarray]:
    """All members of an ``.npz`` (``allow_pickle=False``); one-line InputError if unreadable."""
    p = Path(path)
    if p.is_dir():
        raise InputError(f"{what} {p} is a directory, not an .npz file")
    if not p.exists():
        raise FileNotFoundError(f"file not found: {p}")
    with open(p, "rb") as fh:
        magic = fh.read(4)
    if magic not in (b"PK\x03\x04", b"PK\x05\x06"):
        why = "empty file" if not magic else "not a zip archive"
        raise InputError(f"{what} {p} is not a valid .npz file ({why})")
    try:
        with np.load(p, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except Exception as exc:  # truncated, foreign or corrupt: never executed, only reported
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{what} {p} is not a valid .npz file ({why})") from None


def meta_of(members: Mapping[str, np.ndarray], key: str) -> Any:
    """Decode a JSON metadata member written by :func:`save_npz` (None if absent)."""
    m = members.get(f"__{key}__")
    return None if m is None else json.loads(str(m[()]))


def save_checkpoint(path: str | os.PathLike[str], state: Any, config: Any | None = None) -> None:
    """Write ``state`` (arrays, scalars, lists, dicts, dataclasses, Generators) with the
    identity of ``config`` to an ``.npz`` atomically (a killed run keeps the previous one)."""
    from deeprg.identity import identity

    arrays: dict[str, np.ndarray] = {}
    tree = _encode(state, arrays)
    save_npz(path, arrays, tree=tree, identity=identity(config if config is not None else {}))


def load_checkpoint(
    path: str | os.PathLike[str],
    config: Any | None = None,
    *,
    types: Mapping[str, type] | None = None,
    what: str = "checkpoint",
    hint: str = "choose a new path or pass --overwrite",
) -> Any | None:
    """The checkpointed state, or ``None`` if there is none. Refuses (InputError, one line) a
    file written under another configuration or package version, or one that is corrupt."""
    from deeprg.identity import check_identity

    p = Path(path)
    if not p.exists() and not p.is_symlink():
        return None
    members = load_npz(p, what)
    try:
        ident, tree = meta_of(members, "identity"), meta_of(members, "tree")
    except ValueError:
        raise InputError(f"{what} {p} is corrupt (unreadable metadata)") from None
    if ident is None or tree is None:
        raise InputError(f"{what} {p} is not a deeprg checkpoint (no configuration recorded)")
    check_identity(f"{what} {p}", ident, config if config is not None else {}, hint)
    try:
        return _decode(tree, members, types or {})
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"{what} {p} is corrupt ({type(exc).__name__}: {exc})") from None
