"""BPKR ReLU heuristic (docs/theory/bpkr.md §5.1): the linear saddle equations on the ReLU NNGP kernel.

The output GP kernel K_L^GP of a ReLU network is renormalized by the same scalars as in the
linear theory, K_eff = (Π_l u_l/σ²_{l+1}) K_L^GP. Because the arc-cosine map is positively
homogeneous, K_L^GP = Π_l σ_l² · K̃_L with K̃_L the unit-variance recursion, so the whole
linear machinery applies with the σ-free base kernel C = K̃_L in place of XXᵀ/N0
(then U K_0 = U σ_1² C = (U/Π_{l≥2}σ_l²) K_L^GP). This is a heuristic, not exact: there is no
exact finite-width mode for ReLU networks.

Memory: the training Gram is built in place, layer by layer, in blocks of rows (one P×P array
plus O(block) temporaries), and the eigendecomposition overwrites it, so the ReLU kernel path
peaks at about two P×P arrays like the linear one.
"""

from __future__ import annotations

import numpy as np

from deeprg.bpkr.base import BaseKernel, base_kernel, check_kernel_memory
from deeprg.errors import check_int, check_xy
from deeprg.kernels import relu_cross_fn, relu_map

_BLOCK = 1_000_000  # elements of the row block mapped at once


def relu_gram(X: np.ndarray, depth: int) -> np.ndarray:
    """The σ-free depth-L ReLU NNGP Gram K̃_L on X, built in place (same arithmetic as
    :func:`deeprg.kernels.relu_base_kernel`, without its per-layer P×P temporaries)."""
    depth = check_int("depth", depth, minimum=0)
    X = np.asarray(X, dtype=np.float64)
    P, n0 = X.shape
    K = X @ X.T
    K /= n0
    v = np.einsum("ij,ij->i", X, X) / n0
    np.fill_diagonal(K, v)
    rows = max(1, _BLOCK // max(P, 1))
    for _ in range(depth):  # loop over layers, not data points
        for a in range(0, P, rows):  # blocks of rows: O(block) temporaries
            K[a : a + rows] = relu_map(K[a : a + rows], v[a : a + rows], v)
        v = 0.5 * v  # ReLU halves the variance (docs/theory/bpkr.md §5.1 note)
        np.fill_diagonal(K, v)
    return K


def relu_kernel(X: np.ndarray, y: np.ndarray, depth: int) -> BaseKernel:
    """Eigendecomposed σ-free ReLU base kernel K̃_L for a network with ``depth`` hidden layers."""
    Xa, ya = check_xy(X, y)
    check_kernel_memory(Xa.shape[0])
    gram = relu_gram(Xa, depth)
    return base_kernel(
        Xa,
        ya,
        gram=gram,
        cross_fn=relu_cross_fn(depth),
        activation="relu",
        path="kernel",
        overwrite_gram=True,
    )
