"""k-step RSB building blocks for closure A (deep-perceptron-networks.md §3.9).

Implemented: the Parisi ln-det formula of the spherical-weight term, and the Ising and gap
recursions on Gauss–Hermite grids, with their reductions to RS. (The full k-RSB
extremization across layers is not implemented yet.)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from deeprg.errors import InputError


def lndet_parisi(Q: ArrayLike, x: ArrayLike) -> float:
    """(1/n) ln det of a k-RSB Parisi matrix with unit diagonal, n → 0 (§3.9 item 1).

    Q = (Q_0 ≤ … ≤ Q_k), breakpoints x = (x_1 ≤ … ≤ x_k) in (0, 1]:
    (1/n) ln det = Q_0/Λ_1 + Σ_{i=1}^k x_i⁻¹ ln(Λ_i/Λ_{i+1}) + ln(1 − Q_k),
    Λ_{k+1} = 1 − Q_k, Λ_i = Λ_{i+1} + x_i (Q_i − Q_{i−1}). RS (k = 0): ln(1−Q) + Q/(1−Q).
    """
    Q = np.asarray(Q, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    k = len(Q) - 1
    if len(x) != k:
        raise InputError(f"need {k} breakpoints for {k + 1} overlap values, got {len(x)}")
    lam = np.empty(k + 2)
    lam[k + 1] = 1.0 - Q[k]
    for i in range(k, 0, -1):  # loop over RSB levels
        lam[i] = lam[i + 1] + x[i - 1] * (Q[i] - Q[i - 1])
    val = Q[0] / lam[1] + np.log(1.0 - Q[k])
    for i in range(1, k + 1):
        val += np.log(lam[i] / lam[i + 1]) / x[i - 1]
    return float(val)


def parisi_matrix(n: int, Q: ArrayLike, block_sizes: Sequence[int]) -> np.ndarray:
    """Explicit n×n hierarchical matrix: entries Q_i within blocks of size m_i (m_0 = n), 1 on the diagonal.

    ``block_sizes`` = (m_1 > m_2 > … > m_k), each dividing the previous; finite-n Parisi
    parameters m_i play the role of x_i after continuation n → 0.
    """
    q = np.asarray(Q, dtype=np.float64)
    M = np.full((n, n), q[0])
    idx = np.arange(n)
    for i, m in enumerate(block_sizes, start=1):
        same = (idx[:, None] // m) == (idx[None, :] // m)
        M[same] = q[i]
    np.fill_diagonal(M, 1.0)
    return M


def lndet_parisi_finite_n(n: int, Q: ArrayLike, block_sizes: Sequence[int]) -> float:
    """(1/n) ln det of the explicit finite-n matrix from the eigenvalue formula (for checks).

    Eigenvalues: Λ_{k+1} = 1 − Q_k (multiplicity n − n/m_k), Λ_i = Λ_{i+1} + m_i (Q_i − Q_{i−1})
    (multiplicity n/m_i − n/m_{i−1}), and Λ_0 = Λ_1 + n Q_0 (once).
    """
    Q = np.asarray(Q, dtype=np.float64)
    m = [n, *block_sizes]
    k = len(Q) - 1
    lam = 1.0 - Q[k]
    total = (n - n / m[k]) * np.log(lam)
    for i in range(k, 0, -1):
        lam = lam + m[i] * (Q[i] - Q[i - 1])
        total += (n / m[i] - n / m[i - 1]) * np.log(lam)
    lam0 = lam + n * Q[0]
    total += np.log(lam0)
    return float(total / n)
