"""Amortized BPKR sweeps: one eigendecomposition, many (widths, σ², T, L) points at once.

Points of different depth are padded with infinite-width, unit-variance layers (which leave
the saddle equations unchanged), so the whole grid is solved by one vectorized call to
:func:`deeprg.bpkr.saddle.solve_saddle`. Test errors for every point reuse two spectral
summaries of the test set: M = B B^T/n and B y/n in the eigenbasis (bias² = aᵀMa − 2aᵀb + ȳ²),
and the per-direction mean of B² (variance), where B = V^T C(X, X_test) over the r nonzero
eigen-directions (kernel or feature path alike, :mod:`deeprg.bpkr.base`).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import product

import numpy as np

from deeprg.bpkr.base import BaseKernel, architecture
from deeprg.bpkr.saddle import SaddleArrays, solve_saddle


def pad_points(
    widths: Sequence[Sequence[float]], sigma2: Sequence[float | Sequence[float]]
) -> tuple[np.ndarray, np.ndarray]:
    """Pad per-point widths and σ² lists to (n, Lmax) and (n, Lmax+1) arrays (validated)."""
    Lmax = max(len(w) for w in widths)
    W = np.full((len(widths), Lmax), np.inf)
    S = np.ones((len(widths), Lmax + 1))
    for i, (w, s) in enumerate(zip(widths, sigma2, strict=True)):
        arch = architecture(w, s, 0.0)  # validation only
        W[i, : arch.L] = arch.widths
        # padded layers (N = inf, σ² = 1) contribute log(1) = 0 to the saddle equation
        S[i, : arch.L + 1] = arch.sigma2
    return W, S


def solve_points(
    kern: BaseKernel,
    widths: Sequence[Sequence[float]],
    sigma2: Sequence[float | Sequence[float]],
    T: Sequence[float] | np.ndarray,
) -> SaddleArrays:
    """Solve the saddle for many points sharing ``kern`` (vectorized)."""
    W, S = pad_points(widths, sigma2)
    Ta = np.asarray(T, dtype=np.float64)
    if np.any(Ta < 0) or not np.all(np.isfinite(Ta)):
        from deeprg.errors import InputError

        raise InputError("temperature T must be finite and >= 0 for every point")
    return solve_saddle(kern, W, S, Ta)


def errors_points(
    kern: BaseKernel,
    U: np.ndarray,
    sigma2_first: np.ndarray,
    T: np.ndarray,
    X_test: np.ndarray,
    y_test: np.ndarray,
    *,
    chunk: int = 256,
) -> dict[str, np.ndarray]:
    """ε_g, bias², variance for many renormalized GPs (U, σ_1², T) on one test set (§3.2)."""
    B, d = kern.cross(X_test)  # (r, n), cached per test set
    y = np.asarray(y_test, dtype=np.float64).ravel()
    n = y.size
    M = B @ B.T / n
    b = B @ y / n
    q = (B**2).mean(1)
    V = np.asarray(U, float) * np.asarray(sigma2_first, float)
    T = np.broadcast_to(np.asarray(T, float), V.shape)
    bias2 = np.empty(V.shape)
    var = np.empty(V.shape)
    for a in range(0, V.size, chunk):
        v, t = V[a : a + chunk, None], T[a : a + chunk, None]
        den = v * kern.evals[None, :] + t
        inv = np.divide(1.0, den, out=np.zeros_like(den), where=den > 0)
        coef = v * kern.ytil[None, :] * inv
        quad = np.einsum("pi,pi->p", coef @ M, coef)  # aᵀMa per point (BLAS matmul inside)
        bias2[a : a + chunk] = quad - 2 * coef @ b + y @ y / n
        var[a : a + chunk] = v[:, 0] * d.mean() - (v**2 * inv) @ q
    return {"eps_g": bias2 + var, "bias2": bias2, "variance": var}


def sweep_grid(
    kern: BaseKernel,
    *,
    L: Sequence[int],
    N: Sequence[float],
    sigma2: Sequence[float],
    T: Sequence[float],
    X_test: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
):
    """Equal-width saddle solutions on the product grid (L, N, σ², T) as an xarray Dataset."""
    import xarray as xr

    pts = list(product(L, N, sigma2, T))
    sol = solve_points(
        kern, [[n] * l for l, n, _, _ in pts], [s for *_, s, _ in pts], [t for *_, t in pts]
    )
    shape = (len(L), len(N), len(sigma2), len(T))
    dims = ("L", "N", "sigma2", "T")
    u = sol.u[:, 0]  # equal widths: all u_l equal
    data = {
        "U": (dims, np.exp(sol.logU).reshape(shape)),
        "u": (dims, u.reshape(shape)),
        "G": (dims, sol.G.reshape(shape)),
        "log_evidence": (dims, sol.log_evidence.reshape(shape)),
        "converged": (dims, sol.converged.reshape(shape)),
        "status": (
            dims,
            np.where(sol.converged, "converged", "not_converged").reshape(shape).astype(str),
        ),
        "residual": (dims, sol.residual.reshape(shape)),
    }
    if X_test is not None and y_test is not None:
        s1 = np.array([s for *_, s, _ in pts], float)
        errs = errors_points(
            kern, np.exp(sol.logU), s1, np.array([t for *_, t in pts]), X_test, y_test
        )
        data |= {k: (dims, v.reshape(shape)) for k, v in errs.items()}
    return xr.Dataset(
        data, coords={"L": list(L), "N": list(N), "sigma2": list(sigma2), "T": list(T)}
    )
