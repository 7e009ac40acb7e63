"""Configuration identity: the canonical JSON of a configuration, its hash, and the refusal of
a mismatch.

Every checkpoint, store and cached sweep point records the *full* configuration (defaults
included), the package version and ``config_hash`` = SHA-256 of the canonical JSON of both.
Resuming into a file written under another configuration or another package version is refused
with one line naming the keys that differ (:func:`check_identity`); the package never reuses a
result it cannot prove belongs to the run that asks for it.

Canonical JSON: keys sorted, no whitespace, tuples as lists, NumPy scalars and arrays as plain
numbers and lists, integral floats kept as floats (``1`` and ``1.0`` differ only where the
configuration's own types differ). Large arrays (data, initial parameters) enter through
:func:`array_digest`, a SHA-256 of their bytes, shape and dtype.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from deeprg import __version__
from deeprg.errors import InputError


def array_digest(a: Any) -> str:
    """SHA-256 (first 16 hex digits) of an array's dtype, shape and bytes; ``None`` stays None."""
    if a is None:
        return "none"
    arr = np.ascontiguousarray(np.asarray(a))
    h = hashlib.sha256(f"{arr.dtype.str}{arr.shape}".encode())
    h.update(arr.tobytes())
    return h.hexdigest()[:16]


def canonical(config: Any) -> Any:
    """The configuration as plain JSON types (dicts, lists, str, int, float, bool, None)."""
    from deeprg.results import _jsonable

    return json.loads(json.dumps(_jsonable(config), sort_keys=True, default=str))


def canonical_json(config: Any) -> str:
    """Canonical JSON text of ``config`` (sorted keys, compact separators)."""
    return json.dumps(canonical(config), sort_keys=True, separators=(",", ":"))


def config_hash(config: Any, version: str | None = None) -> str:
    """Hash of the canonical JSON of the configuration *and* the package version (default:
    this package's)."""
    version = __version__ if version is None else version
    blob = canonical_json({"config": canonical(config), "deeprg_version": version})
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def identity(config: Any) -> dict[str, str]:
    """``{"config": canonical JSON, "deeprg_version": ..., "config_hash": ...}``."""
    return {
        "config": canonical_json(config),
        "deeprg_version": __version__,
        "config_hash": config_hash(config),
    }


def _flat(d: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(d, Mapping):
        out: dict[str, Any] = {}
        for k, v in d.items():
            out |= _flat(v, f"{prefix}{k}.")
        return out
    return {prefix[:-1]: d}


def differences(old: Any, new: Any) -> list[tuple[str, Any, Any]]:
    """Keys (dotted paths) whose values differ between two configurations: top-level keys
    first (the ones a user sets), then nested ones, each group sorted."""
    a, b = _flat(canonical(old)), _flat(canonical(new))
    missing = object()
    return [
        (k, a.get(k, missing), b.get(k, missing))
        for k in sorted(set(a) | set(b), key=lambda k: (k.count("."), k))
        if a.get(k, missing) != b.get(k, missing)
    ]


def _show(v: Any) -> str:
    return (
        "(absent)"
        if not isinstance(v, (str, int, float, bool, list, type(None)))
        else (json.dumps(v) if not isinstance(v, str) else v)
    )


def _technical(key: str) -> bool:
    """Keys derived from others (array digests, the engine's own record): shown last."""
    return key.startswith("run.") or "digest" in key


def mismatch_message(
    what: str, stored: Mapping[str, Any], config: Any, hint: str, limit: int = 3
) -> str | None:
    """One line saying how a stored identity differs from ``config``; None when they match.

    ``stored`` is an :func:`identity` dict read back from disk.
    """
    version = stored.get("deeprg_version")
    try:
        old = json.loads(stored["config"])
    except (KeyError, TypeError, ValueError):
        return f"{what} carries no readable configuration: {hint}"
    diff = differences(old, config)
    if diff:
        user = [d for d in diff if not _technical(d[0])]
        shown = (user or diff)[:limit]
        was = ", ".join(f"{k}={_show(o)}" for k, o, _ in shown)
        now = ", ".join(f"{k}={_show(n)}" for k, _, n in shown)
        more = f" (and {len(diff) - len(shown)} more)" if len(diff) > len(shown) else ""
        return f"{what} was written with {was}; this run has {now}{more}: {hint}"
    if version != __version__:
        return f"{what} was written by deeprg {version}; this is deeprg {__version__}: {hint}"
    if stored.get("config_hash") not in (None, config_hash(config, version)):
        return f"{what} has a configuration hash that does not match its configuration: {hint}"
    return None


def check_identity(what: str, stored: Mapping[str, Any], config: Any, hint: str) -> None:
    """Raise :class:`InputError` (one line) unless ``stored`` was written with ``config``."""
    msg = mismatch_message(what, stored, config, hint)
    if msg is not None:
        raise InputError(msg)
