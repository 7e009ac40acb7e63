"""Parisi algebra of the k-step RSB ansatz (docs/theory/perceptron.md §3.9).

The ln-det formula of the spherical-weight term (scalar :func:`lndet_parisi`, batched
:func:`lndet_parisi_batch`, explicit finite-n matrices for checks) and the generic Parisi
recursion :func:`parisi_recursion` on nested Gauss–Hermite grids, vectorized over a batch of
layers. The factors of :mod:`deeprg.perceptron.replica.factors` are built on these.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from deeprg.errors import InputError
from deeprg.quadrature import gauss_hermite


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


def lndet_parisi_batch(Q: np.ndarray, x: np.ndarray) -> np.ndarray:
    """(1/n) ln det of k-RSB Parisi matrices (unit diagonal, n → 0), batched over rows of Q.

    Same formula as :func:`lndet_parisi` (§3.9 item 1); complex input allowed (complex-step
    derivatives).
    """
    k = Q.shape[-1] - 1
    lam: list[Any] = [None] * (k + 2)
    lam[k + 1] = 1.0 - Q[..., k]
    for i in range(k, 0, -1):  # levels
        lam[i] = lam[i + 1] + x[i - 1] * (Q[..., i] - Q[..., i - 1])
    val = Q[..., 0] / lam[1] + np.log(lam[k + 1])
    for i in range(1, k + 1):
        val = val + np.log(lam[i] / lam[i + 1]) / x[i - 1]
    return val


def increments(v: np.ndarray) -> np.ndarray:
    """Variance increments Δ_0 = v_0, Δ_j = v_j − v_{j−1} along the last (level) axis."""
    return np.diff(v, axis=-1, prepend=0.0)


Final = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


def parisi_recursion(
    delta: np.ndarray,
    x: np.ndarray,
    final: Final,
    nodes: Sequence[int],
) -> tuple[np.ndarray, np.ndarray]:
    """Generic Parisi recursion, vectorized over a batch (layers): §3.9 items 2–3.

    ``delta`` (B, k+1): variance increments Δ_0 = v_0, Δ_j = v_j − v_{j−1} ≥ 0; ``x`` (k,);
    ``final(y)`` returns (φ_{k+1}(y), ∂_y φ_{k+1}(y)) for a field array y of shape
    (B, n_0, …, n_k). Returns φ_0 = E_{t_0} φ_1(√Δ_0 t_0) (B,) and M (B, k+1),
    M_i = E_{ν_i}[(∂_y φ_{i+1})²].

    Every recursion φ_j(y) = x_j⁻¹ ln E_t exp[x_j φ_{j+1}(y + √Δ_j t)] satisfies
    ∂φ_0/∂v_i = −½ (x_{i+1} − x_i) M_i (x_{k+1} = 1): the identity behind every stationarity
    equation of the chain. Level j uses a Gauss–Hermite rule of order ``nodes[j]``; the
    recursion works in log space (logsumexp).
    """
    B, K1 = delta.shape
    k = K1 - 1
    rules = [gauss_hermite(n) for n in nodes[:K1]]
    y = np.zeros((B, *tuple(len(t) for t, _ in rules)))
    for m, (t, _) in enumerate(rules):
        shp = [1] * (K1 + 1)
        shp[m + 1] = -1
        y = y + np.sqrt(np.maximum(delta[:, m], 0.0)).reshape((B,) + (1,) * K1) * t.reshape(shp)
    g, dg = final(y)
    gs: list[Any] = [None] * (K1 + 1)
    dgs: list[Any] = [None] * (K1 + 1)
    W: list[Any] = [None] * K1
    # reduce the trailing axes: arrays keep (B, n_0, …, n_{j−1}) after level j
    gs[K1], dgs[K1] = g.reshape(y.shape), dg.reshape(y.shape)
    for j in range(k, 0, -1):  # loop over RSB levels (k <= 3), not data
        ax = j + 1
        lw = np.log(rules[j][1]).reshape([1] * ax + [-1])
        a = x[j - 1] * gs[j + 1] + lw
        mx = a.max(axis=ax, keepdims=True)
        e = np.exp(a - mx)
        Z = e.sum(axis=ax, keepdims=True)
        W[j] = e / Z
        gs[j] = ((mx + np.log(Z)) / x[j - 1]).squeeze(axis=ax)
        dgs[j] = (W[j] * dgs[j + 1]).sum(axis=ax)
    w0 = rules[0][1].reshape(1, -1)
    value = (w0 * gs[1]).sum(axis=1)
    M = np.empty((B, K1))
    nu = np.broadcast_to(w0, (B, len(rules[0][1])))
    M[:, 0] = (nu * dgs[1] ** 2).sum(axis=1)
    for i in range(1, K1):
        nu = nu[..., None] * W[i]
        M[:, i] = (nu * dgs[i + 1] ** 2).reshape(B, -1).sum(axis=1)
    return value, M
