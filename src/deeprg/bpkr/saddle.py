"""BPKR saddle point, vectorized over many (widths, σ², T) points (docs/theory/bpkr.md §2.4, §2.8, §2.11).

In the eigenbasis of the σ-free base kernel C (eigenvalues μ_i, label projections ỹ_i) and with
V = U σ_1² (so that U λ_i = V μ_i),

    G(U) = Σ_i ỹ_i² Vμ_i/(Vμ_i + T)² − Σ_i Vμ_i/(Vμ_i + T)                 (§2.4)
    u_l  = σ_{l+1}² (1 + G(U)/N_l)                                        (§2.4, §2.8)
    F(s) = Σ_l log[σ_{l+1}² (1 + G(e^s)/N_l)] − s = 0,   s = log U          (§2.11)

F is scanned on a coarse grid of s to bracket the root, refined by vectorized bisection and
polished by Newton steps on the exact G. Every point costs O(r) per evaluation of G (r the
rank of C: r <= min(P, N0)); the decomposition is shared by all points. Null directions of C
never enter G (§2.9); at T = 0, G(U) = R/V − r with R = Σ_{μ>0} ỹ²/μ (§2.6).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deeprg.bpkr.base import BaseKernel

S_MIN, S_MAX = -60.0, 60.0
_N_SCAN = 121
_CHUNK = 2_000_000  # max (points x eigenvalues) elements per vectorized G evaluation


def g_and_slope(
    kern: BaseKernel, V: np.ndarray, T: np.ndarray, *, slope: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Exact G(U) and dG/dlog U for arrays of V = U σ_1² and T (docs/theory/bpkr.md §2.4), chunked.

    Only the nonzero eigen-directions enter: null directions contribute nothing to G (§2.9).
    With x_k = V μ_k and f_k = x_k/(x_k + T): G = Σ ỹ_k² f_k/(x_k + T) − Σ f_k and
    dG/dlog U = Σ ỹ_k² f_k (1 − 2 f_k)/(x_k + T) − T Σ f_k/(x_k + T), the ỹ² sums as
    matrix–vector products. ``slope=False`` skips dG (returned as zeros).
    """
    V = np.asarray(V, dtype=np.float64)
    T = np.broadcast_to(np.asarray(T, dtype=np.float64), V.shape)
    mu = kern.evals
    y2 = kern.ytil**2
    G = np.empty(V.shape)
    dG = np.zeros(V.shape)
    Vf, Tf, Gf, dGf = V.ravel(), T.ravel(), G.reshape(-1), dG.reshape(-1)
    step = max(1, _CHUNK // max(mu.size, 1))
    for a in range(0, Vf.size, step):
        v, t = Vf[a : a + step, None], Tf[a : a + step, None]
        x = v * mu[None, :]  # > 0: μ_k > 0 and V > 0
        inv = x + t
        np.divide(1.0, inv, out=inv)
        frac = x
        frac *= inv  # x/(x + T), in place of x
        fi = frac * inv  # x/(x + T)²
        Gf[a : a + step] = fi @ y2 - frac.sum(1)
        if slope:
            dGf[a : a + step] = fi @ y2 - 2.0 * ((fi * frac) @ y2) - t[:, 0] * fi.sum(1)
    return G, dG


class _GTable:
    """Interpolation table of G for large sweeps: G = g1(x)/T − g2(x) with x = V/T (T > 0),
    G = R/V − rank at T = 0 (§2.6). Used only to bracket and bisect; the final Newton steps
    and the reported residual use the exact G."""

    def __init__(self, kern: BaseKernel, n: int = 4096) -> None:
        mu, y2 = kern.evals, kern.ytil**2
        self.R = float((y2 / mu).sum())
        self.rank = float(mu.size)
        self.t = np.linspace(np.log(1e-8 / mu.max()), np.log(1e8 / mu.min()), n)
        x = np.exp(self.t)[:, None] * mu[None, :]
        inv = x + 1.0
        np.divide(1.0, inv, out=inv)
        x *= inv  # x/(x + 1)
        self.g2 = x.sum(1)
        x *= inv  # x/(x + 1)²
        self.g1 = x @ y2
        self.lo_slope = ((y2 * mu).sum(), mu.sum())
        self.hi_coef = (self.R, (1.0 / mu).sum())

    def __call__(self, V: np.ndarray, T: np.ndarray) -> np.ndarray:
        zero = T == 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            x = np.where(zero, 1.0, V / np.where(zero, 1.0, T))
            t = np.log(x)
        g1 = np.interp(t, self.t, self.g1)
        g2 = np.interp(t, self.t, self.g2)
        below, above = t < self.t[0], t > self.t[-1]
        g1 = np.where(below, x * self.lo_slope[0], np.where(above, self.hi_coef[0] / x, g1))
        g2 = np.where(
            below, x * self.lo_slope[1], np.where(above, self.rank - self.hi_coef[1] / x, g2)
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            G = np.where(zero, self.R / V - self.rank, g1 / np.where(zero, 1.0, T) - g2)
        return G


@dataclass(frozen=True)
class SaddleArrays:
    """Vectorized saddle solutions for n points (one row per point)."""

    logU: np.ndarray  # (n,)
    G: np.ndarray  # (n,)
    u: np.ndarray  # (n, Lmax) — padded layers hold 1
    action: np.ndarray  # (n,)
    log_evidence: np.ndarray  # (n,)
    converged: np.ndarray  # (n,) bool
    residual: np.ndarray  # (n,) |F(log U)|
    iterations: np.ndarray  # (n,) bisection + Newton iterations
    n_roots: np.ndarray  # (n,) sign changes of F seen on the scan grid


def _F(G: np.ndarray, s: np.ndarray, widths: np.ndarray, s2next: np.ndarray) -> np.ndarray:
    """F(s) of §2.11; -inf where some 1 + G/N_l <= 0 (infeasible)."""
    ratio = 1.0 + G[..., None] / widths
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(ratio > 0, np.log(np.where(ratio > 0, ratio, 1.0) * s2next), -np.inf)
    return terms.sum(-1) - s


def _dF(G: np.ndarray, dG: np.ndarray, widths: np.ndarray) -> np.ndarray:
    return (dG[..., None] / (widths + G[..., None])).sum(-1) - 1.0


def action_and_evidence(
    kern: BaseKernel,
    logU: np.ndarray,
    u: np.ndarray,
    widths: np.ndarray,
    s2next: np.ndarray,
    s2first: np.ndarray,
    T: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Action H_0 (§2.3) and saddle log-evidence (§3.7) at given u's.

    Layers of infinite width (GP) contribute nothing. At T = 0, null directions of the kernel
    are dropped and P is replaced by the rank (§2.9): the evidence is that of Y_∥.
    """
    finite = np.isfinite(widths)
    Nw = np.where(finite, widths, 0.0)
    ratio = u / s2next
    with np.errstate(divide="ignore", invalid="ignore"):
        prior = np.where(finite, 0.5 * Nw * (ratio - np.log(u)), 0.0).sum(-1)
        evid_prior = np.where(finite, 0.5 * Nw * (np.log(ratio) - ratio + 1.0), 0.0).sum(-1)
    V = np.exp(logU) * s2first
    mu, y2 = kern.evals, kern.ytil**2
    fit = np.empty(V.shape)
    logdet = np.empty(V.shape)
    step = max(1, _CHUNK // max(mu.size, 1))
    for a in range(0, V.size, step):  # chunks of points, vectorized inside
        den = V[a : a + step, None] * mu[None, :] + T[a : a + step, None]
        fit[a : a + step] = (y2 / den).sum(1)
        logdet[a : a + step] = np.log(den).sum(1)
    # Null directions (§2.9): ‖y_⊥‖²/T and log T each; dropped at T = 0 (P → rank).
    warm = T > 0
    Tsafe = np.where(warm, T, 1.0)
    fit = fit + np.where(warm, kern.ynull2 / Tsafe, 0.0)
    logdet = logdet + np.where(warm, kern.n_null * np.log(Tsafe), 0.0)
    npts = kern.rank + np.where(warm, kern.n_null, 0)
    action = prior + 0.5 * fit + 0.5 * logdet
    log_ev = evid_prior - 0.5 * (fit + logdet + npts * np.log(2 * np.pi))
    return action, log_ev


def solve_saddle(
    kern: BaseKernel,
    widths: np.ndarray,
    sigma2: np.ndarray,
    T: np.ndarray,
    *,
    tol: float = 1e-10,
    with_action: bool = True,
) -> SaddleArrays:
    """Solve the BPKR saddle for n points at once (docs/theory/bpkr.md §2.4, §2.11).

    Parameters
    ----------
    widths : (n, Lmax) hidden widths N_1..N_L, input side first; pad absent layers with inf.
    sigma2 : (n, Lmax + 1) prior variances σ_1²..σ_{L+1}²; padded layers hold 1.
    T : (n,) temperatures >= 0.
    """
    widths = np.atleast_2d(np.asarray(widths, dtype=np.float64))
    sigma2 = np.atleast_2d(np.asarray(sigma2, dtype=np.float64))
    T = np.atleast_1d(np.asarray(T, dtype=np.float64))
    n = widths.shape[0]
    s2first, s2next = sigma2[:, 0], sigma2[:, 1:]

    table = _GTable(kern) if n * _N_SCAN * kern.rank > 5e7 else None

    def G_of(
        s: np.ndarray, exact: bool = False, slope: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        V = np.exp(s) * (s2first[:, None] if s.ndim == 2 else s2first)
        Tb = np.broadcast_to(T[:, None] if s.ndim == 2 else T, V.shape)
        if table is not None and not exact:
            return table(V, Tb), np.zeros_like(V)
        return g_and_slope(kern, V, Tb, slope=slope and exact)

    # 1. Scan: bracket the first + -> - crossing of F.
    grid = np.linspace(S_MIN, S_MAX, _N_SCAN)
    S = np.broadcast_to(grid, (n, _N_SCAN))
    Gs, _ = G_of(S)
    Fs = _F(Gs, S, widths[:, None, :], s2next[:, None, :])
    pos = Fs > 0
    change = pos[:, :-1] != pos[:, 1:]
    n_roots = change.sum(1)
    down = pos[:, :-1] & ~pos[:, 1:]
    has = down.any(1)
    first = np.argmax(down, axis=1)
    lo = np.where(has, grid[first], S_MIN)
    hi = np.where(has, grid[np.minimum(first + 1, _N_SCAN - 1)], S_MAX)
    # 2. Vectorized bisection (each step halves the bracket; 40 steps reach ~1e-12 in s).
    n_bis = 40
    for _ in range(n_bis):
        mid = 0.5 * (lo + hi)
        Gm, _ = G_of(mid)
        Fm = _F(Gm, mid, widths, s2next)
        lo = np.where(Fm > 0, mid, lo)
        hi = np.where(Fm > 0, hi, mid)
    s = 0.5 * (lo + hi)
    # 3. Newton polish on the exact G, kept inside the bracket.
    n_newton = 0
    for _ in range(4):
        Gc, dGc = G_of(s, exact=True)
        Fc = _F(Gc, s, widths, s2next)
        dFc = _dF(Gc, dGc, widths)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(np.isfinite(Fc) & (dFc != 0), Fc / dFc, 0.0)
        # The table-based bracket may be off by the interpolation error (~1e-5 in s): keep
        # Newton within a generous window around it.
        cand = np.clip(s - step, lo - 1e-3, hi + 1e-3)
        s = np.where(np.isfinite(cand), cand, s)
        n_newton += 1
        if n_newton >= 2 and float(np.max(np.abs(step), initial=0.0)) < 1e-14:
            break  # quadratic convergence reached round-off for every point
    Gc, _ = G_of(s, exact=True, slope=False)
    Fc = _F(Gc, s, widths, s2next)
    residual = np.abs(Fc)
    ratio = 1.0 + Gc[:, None] / widths
    u = s2next * ratio  # = σ_{l+1}² for GP (infinite-width) and padded layers
    converged = has & (residual < max(tol, 1e-12) * 1e3) & np.all(ratio > 0, axis=1)
    if with_action:
        action, log_ev = action_and_evidence(kern, s, u, widths, s2next, s2first, T)
    else:
        action = log_ev = np.full(n, np.nan)
    return SaddleArrays(
        logU=s,
        G=Gc,
        u=u,
        action=action,
        log_evidence=log_ev,
        converged=converged,
        residual=residual,
        iterations=np.full(n, n_bis + n_newton),
        n_roots=n_roots,
    )
