"""Gauss–Hermite rules for Gaussian expectations: the package's one quadrature helper.

``gauss_hermite(n)`` returns nodes z and weights w with Σ_i w_i f(z_i) ≈ E[f(Z)], Z ~ N(0, 1)
(probabilists' Hermite polynomials, weights normalized to sum to 1). The rule is exact for
polynomials of degree < 2n. Rules are cached per order and returned read-only, so callers
share them without copying (the replica theory's Parisi recursions ask for the same few orders
thousands of times).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np


@lru_cache(maxsize=64)
def gauss_hermite(order: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes z and weights w with Σ w f(z) ≈ E[f(Z)], Z ~ N(0, 1) (probabilists' Hermite)."""
    z, w = np.polynomial.hermite_e.hermegauss(int(order))
    w = w / np.sqrt(2.0 * np.pi)
    z.setflags(write=False)
    w.setflags(write=False)
    return z, w
