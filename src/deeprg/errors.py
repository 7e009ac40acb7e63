"""Errors and input checks shared by every room of the package.

Every user-facing function validates its inputs with the helpers below. They raise
:class:`InputError` with a one-line message that names the parameter and the allowed range;
the CLI turns it into exit code 2 and that single line (no traceback).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


class InputError(ValueError):
    """Bad user input. The message is one line naming the parameter and the allowed range."""


def _fmt(value: Any) -> str:
    """repr() of a value, with numpy scalars shown as plain Python numbers."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


def check_positive(name: str, value: float, *, allow_zero: bool = False) -> float:
    """Return ``float(value)`` if it is finite and > 0 (or >= 0 with ``allow_zero``)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, got {_fmt(value)}") from None
    if not np.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        rng = ">= 0" if allow_zero else "> 0"
        raise InputError(f"{name} must be finite and {rng}, got {_fmt(value)}")
    return v


def check_int(name: str, value: Any, *, minimum: int = 1, maximum: int | None = None) -> int:
    """Return ``int(value)`` if it is an integer in ``[minimum, maximum]``."""
    if isinstance(value, bool) or not float(value).is_integer():
        raise InputError(f"{name} must be an integer, got {_fmt(value)}")
    v = int(value)
    if v < minimum or (maximum is not None and v > maximum):
        hi = "" if maximum is None else f" and <= {maximum}"
        raise InputError(f"{name} must be an integer >= {minimum}{hi}, got {_fmt(value)}")
    return v


def check_in_range(
    name: str, value: float, lo: float, hi: float, *, lo_open: bool = False, hi_open: bool = False
) -> float:
    """Return ``float(value)`` if it lies in the interval (open or closed ends as given)."""
    v = float(value)
    ok = np.isfinite(v) and (v > lo if lo_open else v >= lo) and (v < hi if hi_open else v <= hi)
    if not ok:
        left, right = ("(" if lo_open else "["), (")" if hi_open else "]")
        raise InputError(f"{name} must lie in {left}{lo}, {hi}{right}, got {_fmt(value)}")
    return v


def check_choice(name: str, value: str, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices``."""
    if value not in choices:
        raise InputError(f"{name} must be one of {', '.join(map(str, choices))}; got {_fmt(value)}")
    return value


def check_array(
    name: str,
    arr: Any,
    *,
    ndim: int | tuple[int, ...] | None = None,
    min_rows: int = 1,
) -> np.ndarray:
    """Return ``arr`` as a finite float64 array; reject NaN/inf, wrong ndim and empty data."""
    try:
        a = np.asarray(arr, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a numeric array") from None
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if a.ndim not in allowed:
            raise InputError(
                f"{name} must have {' or '.join(map(str, allowed))} dims, got {a.ndim}"
            )
    if a.size == 0 or (a.ndim >= 1 and a.shape[0] < min_rows):
        raise InputError(f"{name} is empty (need at least {min_rows} row(s))")
    if not np.all(np.isfinite(a)):
        raise InputError(f"{name} contains NaN or inf")
    return a


def check_xy(
    X: Any, y: Any, *, xname: str = "X", yname: str = "y"
) -> tuple[np.ndarray, np.ndarray]:
    """Validate a data set: X of shape (P, N0), y of shape (P,) with matching P."""
    Xa = check_array(xname, X, ndim=2)
    ya = check_array(yname, y, ndim=(1, 2))
    if ya.ndim == 2:
        if ya.shape[1] != 1:
            raise InputError(f"{yname} must have shape (P,) or (P, 1), got {ya.shape}")
        ya = ya[:, 0]
    if ya.shape[0] != Xa.shape[0]:
        raise InputError(
            f"{xname} and {yname} have mismatched shapes: {Xa.shape[0]} rows vs {ya.shape[0]} labels"
        )
    return Xa, ya


def per_layer(
    name: str, value: float | Sequence[float], n: int, *, positive: bool = True
) -> np.ndarray:
    """Broadcast a scalar or a length-``n`` sequence to a float64 array of length ``n``."""
    arr = np.atleast_1d(np.asarray(value, dtype=np.float64))
    if arr.size == 1:
        arr = np.full(n, float(arr[0]))
    if arr.shape != (n,):
        raise InputError(f"{name} must be one value or {n} values, got {arr.size}")
    for v in arr:
        (check_positive if positive else check_array)(name, v)
    return arr


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation, or None when it cannot be determined.

    Linux: ``MemAvailable`` of /proc/meminfo; elsewhere the free physical pages from
    ``os.sysconf`` where it offers them.
    """
    import os

    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):
        return None


def check_memory(name: str, n_bytes: float) -> float:
    """Refuse a computation whose memory estimate ``n_bytes`` exceeds the available memory.

    ``name`` says what would be allocated (e.g. ``"BPKR kernel (P = 100000)"``). Returns the
    estimate; without a way to read the available memory nothing is checked.
    """
    avail = available_memory()
    if avail is not None and n_bytes > avail:
        raise InputError(
            f"{name} needs about {n_bytes / 1e9:.3g} GB of memory, more than the "
            f"{avail / 1e9:.3g} GB available; choose smaller sizes"
        )
    return float(n_bytes)
