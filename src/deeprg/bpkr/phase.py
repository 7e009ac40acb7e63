"""T → 0 closed forms and the phase structure of the depth effect (docs/theory/bpkr.md §2.6, §2.7, §2.9).

With r̃ = Y_∥ᵀ C⁺ Y_∥ / r (σ-free; C = XXᵀ/N0, r = rank C, Y_∥ the part of Y in its range) and
r̄ = r̃/σ_1², the T = 0 saddle reads u_l/σ_{l+1}² = 1 − α_l + α_l r̄/U with α_l = r/N_l (§2.6,
§2.9). For equal widths and σ², u solves u^{L+1}/σ² − (1−α)u^L − α r̄ = 0, and:

- U grows with depth (ε_g increases with L at T = 0) iff σ²(1−α) + α r̃ > 1 (§2.7);
- σ_c²(α) = (1 − α r̃)/(1 − α) is the critical line of the depth effect;
- σ²(1−α) = 1 is the divergence line: beyond it U ~ [σ²(1−α)]^L, below it
  U → U_∞ = α r̃/(1 − σ²(1−α)).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import optimize

from deeprg.bpkr.base import BaseKernel, architecture


def r_tilde(kern: BaseKernel) -> tuple[float, int]:
    """(r̃, rank): the σ-free evidence-optimal kernel scale Y_∥ᵀC⁺Y_∥/rank (§2.6, §2.9)."""
    rank = kern.rank
    return float((kern.ytil**2 / kern.evals).sum() / rank), rank


def t0_solution(
    r_tilde_: float, rank: int, widths: Sequence[float], sigma2: float | Sequence[float] = 1.0
) -> tuple[float, np.ndarray]:
    """(U, u_l) of the exact T = 0 saddle for general widths (§2.6): a 1-D monotone root."""
    arch = architecture(widths, sigma2, 0.0)
    s2 = np.asarray(arch.sigma2)
    alpha = rank / np.asarray(arch.widths, float)
    rbar = r_tilde_ / s2[0]

    def u_of(U: float) -> np.ndarray:
        return s2[1:] * (1.0 - alpha + alpha * rbar / U)

    def f(s: float) -> float:
        uu = u_of(np.exp(s))
        return float(np.sum(np.log(uu)) - s) if np.all(uu > 0) else -np.inf

    # The positive root: f(s) > 0 for s → −∞, and f decreases through it.
    lo, hi = -60.0, 60.0
    grid = np.linspace(lo, hi, 481)
    vals = np.array([f(s) for s in grid])  # scalar 1-D scan (481 cheap evaluations)
    idx = np.flatnonzero((vals[:-1] > 0) & ~(vals[1:] > 0))[0]
    a, b = grid[idx], grid[idx + 1]
    g = lambda s: f(s) if np.isfinite(f(s)) else -1e300  # noqa: E731
    s = optimize.brentq(g, a, b, xtol=1e-14, rtol=1e-15)
    U = float(np.exp(s))
    return U, u_of(U)


def u_equal_t0(alpha: float, sigma2: float, rbar: float, L: int) -> float:
    """Unique positive root of u^{L+1}/σ² − (1−α)u^L − α r̄ = 0 (§2.6, equal widths)."""

    def p(u: float) -> float:
        return u ** (L + 1) / sigma2 - (1 - alpha) * u**L - alpha * rbar

    hi = 1.0
    while p(hi) < 0:
        hi *= 2.0
    return float(optimize.brentq(p, 1e-300, hi, xtol=1e-15, rtol=1e-15))


def sigma_c2(alpha: np.ndarray | float, r_tilde_: float) -> np.ndarray:
    """Critical line of the depth effect at T = 0: σ_c² = (1 − α r̃)/(1 − α) (§2.7)."""
    a = np.asarray(alpha, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (1.0 - a * r_tilde_) / (1.0 - a)


def sigma2_divergence(alpha: np.ndarray | float) -> np.ndarray:
    """Divergence line σ²(1 − α) = 1, i.e. σ² = 1/(1 − α) for α < 1 (inf for α >= 1) (§2.7)."""
    a = np.asarray(alpha, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return np.where(a < 1, 1.0 / (1.0 - a), np.inf)


def U_infinity(
    alpha: np.ndarray | float, sigma2: np.ndarray | float, r_tilde_: float
) -> np.ndarray:
    """L → ∞ limit of U at T = 0: α r̃/(1 − σ²(1−α)), inf beyond the divergence line (§2.7)."""
    a, s = np.broadcast_arrays(np.asarray(alpha, float), np.asarray(sigma2, float))
    den = 1.0 - s * (1.0 - a)
    with np.errstate(divide="ignore"):
        return np.where(den > 0, a * r_tilde_ / den, np.inf)


def depth_effect_sign(
    sigma2: np.ndarray | Sequence[float], alpha: np.ndarray | Sequence[float], r_tilde_: float
) -> np.ndarray:
    """sign(dε_g/dL) at T = 0 on the (σ², α) grid: sign(σ²(1−α) + α r̃ − 1) (§2.7).

    At T = 0 the bias does not depend on the architecture and the variance is ∝ U, and U
    increases with L iff u > 1 iff σ²(1−α) + α r̃ > 1 (equal widths and σ²). Returns an array
    of shape (len(sigma2), len(alpha)) with values −1 (deeper is better), 0, +1.
    """
    s = np.asarray(sigma2, float)[:, None]
    a = np.asarray(alpha, float)[None, :]
    return np.sign(s * (1.0 - a) + a * r_tilde_ - 1.0)
