"""Exact finite-width BPKR: the posterior as a scale mixture of GPs over U (bpkr.md §2.3).

At any finite width the prior of the training outputs is f ~ N(0, U K_0) with
U = Π_l u_l and independent u_l ~ Gamma(shape N_l/2, scale 2σ_{l+1}²/N_l). Hence

    p(s | data) ∝ p_prior(s) · N(Y; 0, e^s K_0 + T I),     s = log U,

and every posterior statistic is a p(s | data)-mixture of GP statistics. The prior density of s
is the convolution of log-Gamma densities. It is computed on a uniform grid by FFT after an
**exponential tilt**: p_l(v) e^{βv} is again a log-Gamma density (shape k_l + β), so choosing β
so that the tilted sum is centred on the posterior keeps every density far from underflow even
when the posterior sits deep in the prior's tail (P ≫ N). Conditional prior moments
E[Π_{j∈S} u_j | s] (needed for E[u_l] and for layer kernels, §4.2) come from the same
convolution with shapes k_j + 1 for j ∈ S.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special
from scipy.signal import fftconvolve

from deeprg.bpkr.base import Architecture, BaseKernel


def _loggamma_logpdf(v: np.ndarray, k: float, theta: float) -> np.ndarray:
    """log density of v = log u with u ~ Gamma(k, scale θ)."""
    return k * v - np.exp(v) / theta - special.gammaln(k) - k * np.log(theta)


def log_evidence_curve(
    kern: BaseKernel, s: np.ndarray, sigma2_first: float, T: float
) -> np.ndarray:
    """log N(Y; 0, e^s σ_1² C + T I) on a grid of s (null directions dropped at T = 0, §2.9)."""
    keep = np.ones(kern.P, bool) if T > 0 else ~kern.null_mask()
    mu, y2 = kern.evals[keep], kern.ytil[keep] ** 2
    den = np.exp(s)[:, None] * sigma2_first * mu[None, :] + T
    return -0.5 * ((y2 / den).sum(1) + np.log(den).sum(1) + keep.sum() * np.log(2 * np.pi))


@dataclass(frozen=True)
class ULogGrid:
    """Posterior over s = log U on a grid, with prior conditional moments.

    ``weights`` are normalized quadrature weights (Σ = 1) on ``s``; ``log_prior`` is the
    (normalized) prior log-density of s; ``cond_u[l]`` = E_prior[u_l | s];
    ``cond_lower[k]`` = E_prior[Π_{j<k} u_j | s] (k = 0..L−1; k = 0 gives 1).
    """

    s: np.ndarray
    weights: np.ndarray
    log_prior: np.ndarray
    log_evidence: float
    cond_u: np.ndarray  # (L, n)
    cond_lower: np.ndarray  # (L, n)
    edge_mass: float
    n_grid: int

    @property
    def U(self) -> np.ndarray:
        return np.exp(self.s)

    def mean(self, values: np.ndarray) -> np.ndarray:
        """Posterior expectation of values given on the grid (last axis = grid)."""
        return values @ self.weights


def _tilt_for_mean(k: np.ndarray, theta: np.ndarray, target: float) -> float:
    """β such that Σ_l (ψ(k_l + β) + log θ_l) = target (mean of the tilted log U)."""

    def f(b: float) -> float:
        return float((special.digamma(k + b) + np.log(theta)).sum() - target)

    lo = -k.min() + 1e-12
    hi = max(1.0, 10.0 * k.max())
    while f(hi) < 0:
        hi *= 4.0
    if f(lo) > 0:
        return lo
    return float(optimize.brentq(f, lo, hi, xtol=1e-12))


def _conv_logdensity(
    k: np.ndarray, theta: np.ndarray, beta: float, h: float
) -> tuple[np.ndarray, np.ndarray]:
    """log density of Σ_l log u_l (u_l ~ Gamma(k_l, θ_l)) by tilted FFT convolution.

    Returns the grid of the sum and the log-density on it (−inf where it underflows).
    """
    kt = k + beta
    dens = []
    start = 0.0
    for kl, th in zip(kt, theta, strict=True):
        m = special.digamma(kl) + np.log(th)
        sd = np.sqrt(special.polygamma(1, kl))
        lo_idx = int(np.floor((m - 40 * sd - 3) / h))
        hi_idx = int(np.ceil((m + 12 * sd + 3) / h))
        v = h * np.arange(lo_idx, hi_idx + 1)
        dens.append(np.exp(_loggamma_logpdf(v, kl, th)) * h)
        start += v[0]
    total = dens[0]
    for d in dens[1:]:
        total = fftconvolve(total, d)
    grid = start + h * np.arange(total.size)
    with np.errstate(divide="ignore"):
        logp = np.log(np.clip(total, 0.0, None) / h)
    # exp(−βs) Π Γ(k_l+β) θ_l^β / Γ(k_l) undoes the tilt (module docstring).
    const = (special.gammaln(kt) + beta * np.log(theta) - special.gammaln(k)).sum()
    logp = logp - beta * grid + const
    logp[total <= 1e-300 * max(total.max(), 1e-300)] = -np.inf
    return grid, logp


def posterior_logU(
    kern: BaseKernel,
    arch: Architecture,
    *,
    s_center: float,
    n_out: int = 161,
    progress: Callable[[int, int], None] | None = None,
) -> ULogGrid:
    """Exact posterior of s = log U (bpkr.md §2.3) by tilted convolution and quadrature.

    ``s_center`` is a guess of the posterior location (the saddle's log U is ideal).
    ``progress(done, total)`` is called after each of the L conditional-moment steps, which
    dominate the cost (each is an L-fold convolution: the total grows faster than L²).
    """
    finite = np.isfinite(np.asarray(arch.widths))
    k = arch.gamma_shape[finite]
    theta = arch.gamma_scale[finite]
    L_all = arch.L
    s_inf = float(np.log(np.asarray(arch.sigma2[1:])[~finite]).sum())  # GP layers: u = σ²
    s2first = arch.sigma2[0]
    if k.size == 0:  # pure GP limit: a point mass
        s0 = np.array([s_inf])
        le = float(log_evidence_curve(kern, s0, s2first, arch.T)[0])
        ones = np.ones((L_all, 1))
        cu = np.asarray(arch.sigma2[1:])[:, None] * ones
        cl = np.cumprod(np.vstack([np.ones(1), cu[:-1]]), axis=0)
        return ULogGrid(s0, np.ones(1), np.zeros(1), le, cu, cl, 0.0, 1)

    target = s_center - s_inf
    beta = _tilt_for_mean(k, theta, target)
    sd_t = float(np.sqrt(special.polygamma(1, k + beta).sum()))
    sd_l = np.sqrt(special.polygamma(1, k + beta))
    h = min(sd_t / 400.0, float(sd_l.min()) / 20.0)
    # Pass 1: prior (tilted) on a wide grid, posterior located on it.
    grid, logp = _conv_logdensity(k, theta, beta, h)
    win = (grid > target - 30 * sd_t) & (grid < target + 30 * sd_t) & np.isfinite(logp)
    stride = max(1, int(win.sum()) // 1500)
    g, lp = grid[win][::stride], logp[win][::stride]
    lpost = lp + log_evidence_curve(kern, g + s_inf, s2first, arch.T)
    w = np.exp(lpost - lpost.max())
    w /= w.sum()
    m = float(w @ g)
    sd = float(np.sqrt(max(w @ (g - m) ** 2, (h / 4) ** 2)))
    # Pass 2: output grid of ±12 posterior sd; the trapezoid rule is spectrally accurate for
    # this smooth, rapidly decaying integrand, so ~7 nodes per sd suffice. Prior by a spline
    # of its smooth log-density.
    from scipy.interpolate import CubicSpline

    s_out = np.linspace(max(m - 12 * sd, g[0]), min(m + 12 * sd, g[-1]), n_out)
    spl = CubicSpline(g, lp)
    lp_out = spl(s_out)
    lpost_out = lp_out + log_evidence_curve(kern, s_out + s_inf, s2first, arch.T)
    mx = lpost_out.max()
    dx = s_out[1] - s_out[0]
    wq = np.full(n_out, dx)
    wq[0] = wq[-1] = dx / 2  # trapezoid
    post = np.exp(lpost_out - mx) * wq
    Z = post.sum()
    weights = post / Z
    log_ev = float(mx + np.log(Z))
    edge = float(weights[:5].sum() + weights[-5:].sum())

    # Conditional prior moments E[Π_{j∈S} u_j | s] via shifted shapes (module docstring).
    def cond(shift: np.ndarray) -> np.ndarray:
        if not shift.any():
            return np.ones(n_out)
        ks = k + shift
        c = float((special.gammaln(ks) - special.gammaln(k) + shift * np.log(theta)).sum())
        gr, lps = _conv_logdensity(ks, theta, beta, h)
        ok = np.isfinite(lps)
        lps_out = CubicSpline(gr[ok], lps[ok])(s_out)
        # p_shift is normalized for shapes k+shift; E[Π u | s] = e^c p_shift(s)/p(s).
        # clipped: far in the tails (negligible posterior weight) the ratio may overflow
        return np.exp(np.clip(c + lps_out - lp_out, -700.0, 700.0))

    fin_idx = np.flatnonzero(finite)
    s2n = np.asarray(arch.sigma2[1:])
    cond_u = np.empty((L_all, n_out))
    cond_lower = np.empty((L_all, n_out))
    for l in range(L_all):  # loop over layers (L is small), not data
        if finite[l]:
            cond_u[l] = cond((fin_idx == l).astype(float))
        else:
            cond_u[l] = s2n[l]
        lower_fin = (fin_idx < l).astype(float)
        cond_lower[l] = cond(lower_fin) * np.prod(s2n[:l][~finite[:l]])
        if progress is not None:
            progress(l + 1, L_all)
    return ULogGrid(
        s=s_out + s_inf,
        weights=weights,
        log_prior=lp_out,
        log_evidence=log_ev,
        cond_u=cond_u,
        cond_lower=cond_lower,
        edge_mass=edge,
        n_grid=n_out,
    )
