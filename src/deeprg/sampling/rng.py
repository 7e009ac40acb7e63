"""Per-chain random streams derived from one seed (``numpy.random.SeedSequence.spawn``).

:class:`ChainRNG` holds one independent :class:`numpy.random.Generator` per chain and fills
arrays with a leading chain axis row by row, so chain c's random numbers depend only on
(seed, c): adding chains or changing the batch size leaves the existing chains' streams
unchanged. The loop over chains is over generator calls that each fill a whole block (the
per-call overhead is negligible next to the block); all arithmetic stays vectorized.
It exposes the two methods the samplers use, ``standard_normal`` and ``uniform``, so a plain
``Generator`` works in their place too. Checkpoints carry the exact state of every generator (:meth:`from_generators` rebuilds it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from deeprg.errors import check_int
from deeprg.seeds import derive_seed

__all__ = ["ChainRNG", "derive_seed"]


class ChainRNG:
    """Independent generators for ``n_chains`` chains spawned from ``SeedSequence(seed)``."""

    def __init__(self, seed: int | np.random.SeedSequence, n_chains: int) -> None:
        n_chains = check_int("chains", n_chains)
        ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        self.seed_sequence: np.random.SeedSequence | None = ss
        self.generators = [np.random.default_rng(s) for s in ss.spawn(n_chains)]

    @classmethod
    def from_generators(cls, generators: list[np.random.Generator]) -> ChainRNG:
        """Rebuild from restored generators (e.g. read back from a checkpoint)."""
        self = cls.__new__(cls)
        self.seed_sequence = None
        self.generators = list(generators)
        return self

    @property
    def n_chains(self) -> int:
        return len(self.generators)

    def _rows(self, size: tuple[int, ...] | int, dtype: Any) -> tuple[np.ndarray, np.ndarray]:
        shape: tuple[int, ...] = (size,) if isinstance(size, (int, np.integer)) else tuple(size)
        if not shape or shape[0] != self.n_chains:
            raise ValueError(f"leading axis must be the chain axis ({self.n_chains}), got {shape}")
        out = np.empty(shape, dtype=dtype)
        return out, out.reshape(self.n_chains, -1)

    def standard_normal(self, size, dtype=np.float64) -> np.ndarray:
        """N(0, 1) array of shape ``size`` (leading axis = chains), row c from generator c."""
        out, rows = self._rows(size, dtype)
        for g, row in zip(self.generators, rows, strict=True):
            g.standard_normal(dtype=dtype, out=row)
        return out

    def uniform(self, size) -> np.ndarray:
        """U[0, 1) array of shape ``size`` (leading axis = chains)."""
        out, rows = self._rows(size, np.float64)
        for g, row in zip(self.generators, rows, strict=True):
            g.random(out=row)
        return out
