"""Connectivity of the L weight layers of a deep perceptron network (docs/theory/perceptron.md
§2.1): fully connected layers or sparse random c-regular inputs.

``conn[l−1, i, a]`` is the a-th input of unit i of layer l; the reverse lists
``rk[l−1, rptr[l−1, j]:rptr[l−1, j+1]]`` hold the units of layer l that read unit j of layer
l−1 (the gaps a flip of j changes), sorted by unit index.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from deeprg.perceptron.montecarlo.config import MCConfig


@dataclass(frozen=True)
class Graph:
    """Connectivity of the L weight layers (see the module docstring)."""

    fan: np.ndarray  # (L,) int64: inputs per unit of layer l (= c, or w[l−1] when dense)
    conn: np.ndarray  # (L, Nmax, cmax) int64
    rptr: np.ndarray  # (L, Nmax + 1) int64
    rk: np.ndarray  # (L, Nmax · cmax) int64
    sparse: bool

    def mask(self, l: int, w: np.ndarray) -> np.ndarray:
        """Boolean (w[l], w[l−1]) adjacency of weight layer l (1-based)."""
        m = np.zeros((int(w[l]), int(w[l - 1])), dtype=bool)
        f = int(self.fan[l - 1])
        rows = np.repeat(np.arange(int(w[l])), f)
        m[rows, self.conn[l - 1, : w[l], :f].ravel()] = True
        return m


def _build(w: np.ndarray, conns: list[np.ndarray], sparse: bool) -> Graph:
    L = len(w) - 1
    nmax = int(w.max())
    cmax = max(c.shape[1] for c in conns)
    fan = np.array([c.shape[1] for c in conns], dtype=np.int64)
    conn = np.zeros((L, nmax, cmax), dtype=np.int64)
    rptr = np.zeros((L, nmax + 1), dtype=np.int64)
    rk = np.zeros((L, nmax * cmax), dtype=np.int64)
    for l, c in enumerate(conns):
        conn[l, : c.shape[0], : c.shape[1]] = c
        # reverse lists: units of layer l+1 reading unit j of layer l, sorted by unit index
        units = np.repeat(np.arange(c.shape[0]), c.shape[1])
        order = np.lexsort((units, c.ravel()))
        src = c.ravel()[order]
        rk[l, : src.size] = units[order]
        counts = np.bincount(src, minlength=int(w[l]))
        rptr[l, 1 : int(w[l]) + 1] = np.cumsum(counts)
        rptr[l, int(w[l]) + 1 :] = rptr[l, int(w[l])]
    return Graph(fan, conn, rptr, rk, sparse)


def dense_graph(w: np.ndarray) -> Graph:
    """Fully connected layers (c = w[l−1], the simulations of the paper)."""
    w = np.asarray(w, dtype=np.int64)
    conns = [np.tile(np.arange(w[l - 1]), (w[l], 1)) for l in range(1, len(w))]
    return _build(w, conns, sparse=False)


def random_graph(w: np.ndarray, c: int, rng: np.random.Generator) -> Graph:
    """Sparse random c-regular inputs: every unit of layer l reads c distinct units of layer
    l−1 chosen uniformly (out-degrees are then Binomial, mean c·w[l]/w[l−1])."""
    w = np.asarray(w, dtype=np.int64)
    conns = [
        np.sort(np.argsort(rng.random((w[l], w[l - 1])), axis=1)[:, :c], axis=1)
        for l in range(1, len(w))
    ]
    return _build(w, conns, sparse=True)


def make_graph(cfg: MCConfig, rng: np.random.Generator) -> Graph:
    """Dense graph (c = None) or random c-regular inputs drawn from ``rng``."""
    if cfg.c is None:
        return dense_graph(cfg.widths)
    return random_graph(cfg.widths, cfg.c, rng)
