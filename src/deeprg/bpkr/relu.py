"""BPKR ReLU heuristic (bpkr.md §5.1): the linear saddle equations on the ReLU NNGP kernel.

The output GP kernel K_L^GP of a ReLU network is renormalized by the same scalars as in the
linear theory, K_eff = (Π_l u_l/σ²_{l+1}) K_L^GP. Because the arc-cosine map is positively
homogeneous, K_L^GP = Π_l σ_l² · K̃_L with K̃_L the unit-variance recursion, so the whole
linear machinery applies with the σ-free base kernel C = K̃_L in place of XXᵀ/N0
(then U K_0 = U σ_1² C = (U/Π_{l≥2}σ_l²) K_L^GP). This is a heuristic, not exact: there is no
exact finite-width mode for ReLU networks.
"""

from __future__ import annotations

import numpy as np

from deeprg.bpkr.base import BaseKernel, base_kernel
from deeprg.kernels import relu_base_kernel, relu_cross_fn


def relu_kernel(X: np.ndarray, y: np.ndarray, depth: int) -> BaseKernel:
    """Eigendecomposed σ-free ReLU base kernel K̃_L for a network with ``depth`` hidden layers."""
    gram = relu_base_kernel(X, depth=depth).cov12
    return base_kernel(X, y, gram=gram, cross_fn=relu_cross_fn(depth), activation="relu")
