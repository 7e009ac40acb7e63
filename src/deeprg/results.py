"""Results on disk: provenance, atomic netCDF writes and checkpoints.

One writer for every result in the package (design.md: "one writer function; netCDF on disk").
Every file records the configuration (JSON), the seed and the package version in its attrs.
Writes go to a temporary file in the target directory followed by ``os.replace`` so that a
crash never leaves a half-written result behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from deeprg import __version__


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
    """netCDF attrs recording the configuration, the seed and the package version."""
    return {
        "deeprg_version": __version__,
        "config": to_json(config or {}, sort_keys=True),
        "seed": "none" if seed is None else str(int(seed)),
    }


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success rename it onto ``path`` atomically."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
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


def write_dataset(
    ds: Any,
    path: str | os.PathLike[str],
    *,
    config: Mapping[str, Any] | None = None,
    seed: int | None = None,
) -> Path:
    """Write an ``xarray.Dataset`` to netCDF atomically, adding provenance attrs."""
    ds = ds.copy()
    ds.attrs.update(provenance(config, seed) if config is not None or seed is not None else {})
    ds.attrs.setdefault("deeprg_version", __version__)
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, engine="h5netcdf")
    return Path(path)


def read_dataset(path: str | os.PathLike[str]) -> Any:
    """Read a netCDF file written by :func:`write_dataset` fully into memory."""
    import xarray as xr

    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()


def save_checkpoint(path: str | os.PathLike[str], state: Any) -> None:
    """Pickle ``state`` to ``path`` atomically (a killed run keeps the previous checkpoint)."""
    atomic_write_bytes(path, pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL))


def load_checkpoint(path: str | os.PathLike[str]) -> Any | None:
    """Return the checkpointed state, or ``None`` if there is no checkpoint."""
    p = Path(path)
    if not p.exists():
        return None
    with open(p, "rb") as fh:
        return pickle.load(fh)
