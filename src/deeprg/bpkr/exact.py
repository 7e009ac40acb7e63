"""Exact finite-width BPKR: the posterior as a scale mixture of GPs over U (docs/theory/bpkr.md §2.3).

At any finite width the prior of the training outputs is f ~ N(0, U K_0) with
U = Π_l u_l and independent u_l ~ Gamma(shape N_l/2, scale 2σ_{l+1}²/N_l). Hence

    p(s | data) ∝ p_prior(s) · N(Y; 0, e^s K_0 + T I),     s = log U,

and every posterior statistic is a p(s | data)-mixture of GP statistics.

The prior density of s = Σ_l log u_l is obtained from its characteristic function, which is
known in closed form: for v = log u, u ~ Gamma(k, θ), E[e^{itv}] = Γ(k + it) θ^{it} / Γ(k).
Layers are **grouped by equal (k, θ)**, so the characteristic function of the sum is
Π_g φ_g(t)^{m_g} with m_g the multiplicity of group g: its cost does not grow with the depth
L, only with the number of distinct widths (a deep network of equal widths costs the same as
L = 1). The density at any point follows by Fourier inversion on a trapezoid grid in t whose
period covers the support (Poisson summation: the aliasing error is below 1e-19 of the peak)
and whose range covers the decay of |φ| to e^{−50}.

Each density is computed after an **exponential tilt**: p(v) e^{βv} is again a log-Gamma
density (shape k + β), and β is chosen so that the tilted sum is centred where the posterior
is, which keeps every density far from underflow and round-off even when the posterior sits
deep in the prior's tail (P ≫ N). Conditional prior moments E[Π_{j∈S} u_j | s] (needed for
E[u_l] and for layer kernels, §4.2) are ratios of such densities with shapes k_j + 1 for
j ∈ S (each with its own tilt). One density per group gives every E[u_l | s]; the L moments
E[Π_{j<l} u_j | s] of the layer-kernel recursion cost one density each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from deeprg.bpkr.base import Architecture, BaseKernel

_CHUNK = 2_000_000  # max elements of a (points × directions) or (points × frequencies) block
_LOG_PHI_CUT = -50.0  # |φ(t)| below e^{-50} is dropped from the Fourier inversion
_FLOOR = 1e-13  # tilted densities below this fraction of their peak bound are set to 0


def log_evidence_curve(
    kern: BaseKernel, s: np.ndarray, sigma2_first: float, T: float
) -> np.ndarray:
    """log N(Y; 0, e^s σ_1² C + T I) on a grid of s.

    The r nonzero eigen-directions are summed explicitly; the P − r null directions add
    ‖y_⊥‖²/T + (P − r) log T at T > 0 and are dropped at T = 0 (P → rank, §2.9).
    """
    s = np.asarray(s, dtype=np.float64)
    mu, y2 = kern.evals, kern.ytil**2
    fit = np.empty(s.shape)
    logdet = np.empty(s.shape)
    step = max(1, _CHUNK // max(mu.size, 1))
    for a in range(0, s.size, step):  # chunks of grid points, vectorized inside
        den = np.exp(s[a : a + step])[:, None] * sigma2_first * mu[None, :] + T
        fit[a : a + step] = (y2 / den).sum(1)
        logdet[a : a + step] = np.log(den).sum(1)
    n = kern.rank
    if T > 0:
        fit = fit + kern.ynull2 / T
        logdet = logdet + kern.n_null * np.log(T)
        n += kern.n_null
    return -0.5 * (fit + logdet + n * np.log(2 * np.pi))


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


def _tilt_for_mean(k: np.ndarray, theta: np.ndarray, m: np.ndarray, target: float) -> float:
    """β such that Σ_g m_g (ψ(k_g + β) + log θ_g) = target (mean of the tilted log U)."""

    def f(b: float) -> float:
        return float((m * (special.digamma(k + b) + np.log(theta))).sum() - target)

    lo = -k.min() + 1e-12
    hi = max(1.0, 10.0 * k.max())
    while f(hi) < 0:
        hi *= 4.0
    if f(lo) > 0:
        return lo
    return float(optimize.brentq(f, lo, hi, xtol=1e-12))


def log_sum_density(
    k: np.ndarray, theta: np.ndarray, m: np.ndarray, s: np.ndarray, *, center: float
) -> np.ndarray:
    """log density at the points ``s`` of S = Σ log u over independent u ~ Gamma(k_g, θ_g),
    m_g of them in group g (module docstring: closed-form characteristic function, tilt to
    ``center``, trapezoid Fourier inversion). −inf where the tilted density is below 1e-13 of
    its peak (round-off level)."""
    k, theta, m = (np.asarray(a, dtype=np.float64) for a in (k, theta, m))
    s = np.asarray(s, dtype=np.float64)
    beta = _tilt_for_mean(k, theta, m, center)
    kt = k + beta
    mean = float((m * (special.digamma(kt) + np.log(theta))).sum())
    sd = float(np.sqrt((m * special.polygamma(1, kt)).sum()))

    def re_logphi(t: float) -> float:
        return float((m * (special.loggamma(kt + 1j * t).real - special.gammaln(kt))).sum())

    t_max = 1.0 / sd
    while re_logphi(t_max) > _LOG_PHI_CUT:  # |φ| decreases in |t|
        t_max *= 1.5
    # Period of the inversion grid: the evaluation points plus the left tail (exponential with
    # rate min(k + β), and ~Gaussian with sd) on either side (Poisson summation).
    reach = float(np.max(np.abs(s - mean))) if s.size else 0.0
    period = 2.0 * (reach + 45.0 * sd + 50.0 / float(kt.min()) + 1.0)
    dt = 2.0 * np.pi / period
    t = dt * np.arange(int(np.ceil(t_max / dt)) + 1)
    logphi = (
        m[None, :]
        * (
            special.loggamma(kt[None, :] + 1j * t[:, None])
            - special.gammaln(kt)[None, :]
            + 1j * t[:, None] * np.log(theta)[None, :]
        )
    ).sum(1) - 1j * t * mean
    phi = np.exp(logphi)
    wt = np.full(t.size, dt / np.pi)
    wt[0] = dt / (2.0 * np.pi)  # trapezoid: p(x) = (1/π) ∫_0^∞ Re[φ(t) e^{-itx}] dt
    phi_w = phi * wt
    peak_bound = float(np.abs(phi_w).sum())
    dens = np.empty(s.shape)
    x = s - mean
    step = max(1, _CHUNK // max(t.size, 1))
    re_w, im_w = phi_w.real.copy(), phi_w.imag.copy()
    for a in range(0, x.size, step):  # chunks of points, vectorized over frequencies
        arg = np.outer(x[a : a + step], t)  # Re[φ e^{-iθ}] = Re φ cos θ + Im φ sin θ
        dens[a : a + step] = np.cos(arg) @ re_w + np.sin(arg) @ im_w
    with np.errstate(divide="ignore"):
        logp = np.where(dens > _FLOOR * peak_bound, np.log(np.maximum(dens, 1e-300)), -np.inf)
    # exp(−βs) Π Γ(k+β) θ^β / Γ(k) undoes the tilt (module docstring).
    const = float((m * (special.gammaln(kt) + beta * np.log(theta) - special.gammaln(k))).sum())
    return logp - beta * s + const


def _layer_groups(k: np.ndarray, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (k, θ) pairs, their multiplicities and each layer's group index."""
    pairs, index, counts = np.unique(
        np.stack([k, theta], axis=1), axis=0, return_inverse=True, return_counts=True
    )
    return pairs, np.asarray(counts, dtype=np.float64), np.asarray(index).ravel()


def _gp_point_mass(kern: BaseKernel, arch: Architecture, s_inf: float) -> ULogGrid:
    """Every hidden layer in the GP limit: log U is the point s_inf (docs/theory/bpkr.md §2.10)."""
    s0 = np.array([s_inf])
    le = float(log_evidence_curve(kern, s0, arch.sigma2[0], arch.T)[0])
    cu = np.asarray(arch.sigma2[1:])[:, None] * np.ones((arch.L, 1))
    cl = np.cumprod(np.vstack([np.ones(1), cu[:-1]]), axis=0)
    return ULogGrid(s0, np.ones(1), np.zeros(1), le, cu, cl, 0.0, 1)


def _locate(log_post: Callable[[np.ndarray], np.ndarray], lo: float, hi: float):
    """Pass 1: posterior mean and sd on a 1501-point window, narrowed (at most three times)
    while the posterior is under 10 grid steps wide. Returns (mean, sd, finite grid)."""
    for _ in range(4):
        g = np.linspace(lo, hi, 1501)
        lpost = log_post(g)
        ok = np.isfinite(lpost)
        g, lpost = g[ok], lpost[ok]
        w = np.exp(lpost - lpost.max())
        w /= w.sum()
        m = float(w @ g)
        spacing = (hi - lo) / 1500
        sd = float(np.sqrt(max(w @ (g - m) ** 2, (spacing / 4) ** 2)))
        if sd >= 10 * spacing:
            break
        lo, hi = max(lo, m - 30 * sd), min(hi, m + 30 * sd)
    return m, sd, g


def _trapezoid_posterior(lpost: np.ndarray, dx: float) -> tuple[np.ndarray, float, float]:
    """Normalized trapezoid weights of a log posterior on a uniform grid, the log evidence and
    the weight of the five outermost nodes on each side (a truncation diagnostic)."""
    mx = lpost.max()
    wq = np.full(lpost.size, dx)
    wq[0] = wq[-1] = dx / 2
    post = np.exp(lpost - mx) * wq
    Z = post.sum()
    weights = post / Z
    return weights, float(mx + np.log(Z)), float(weights[:5].sum() + weights[-5:].sum())


class _ConditionalMoments:
    """E[Π_{j∈S} u_j | s] on the output grid from densities with shapes k_j + 1 for j ∈ S
    (module docstring); ``shifted[g]`` factors of group g are shifted. Cached per pattern."""

    def __init__(self, kg, thg, mult, s_out, lp_out, center):
        self.kg, self.thg, self.mult = kg, thg, mult
        self.s_out, self.lp_out, self.center = s_out, lp_out, center
        self.cache: dict[tuple[int, ...], np.ndarray] = {}

    def __call__(self, shifted: np.ndarray) -> np.ndarray:
        key = tuple(int(c) for c in shifted)
        if key not in self.cache:
            self.cache[key] = self._compute(shifted)
        return self.cache[key]

    def _compute(self, shifted: np.ndarray) -> np.ndarray:
        if not shifted.any():
            return np.ones(self.s_out.size)
        kg, thg, mult = self.kg, self.thg, self.mult
        c = float((shifted * np.log(kg * thg)).sum())  # Π Γ(k+1) θ / Γ(k) = Π k θ
        keep0, keep1 = mult - shifted > 0, shifted > 0
        ks = np.concatenate([kg[keep0], kg[keep1] + 1.0])
        ths = np.concatenate([thg[keep0], thg[keep1]])
        ms = np.concatenate([(mult - shifted)[keep0], shifted[keep1]])
        lps = log_sum_density(ks, ths, ms, self.s_out, center=self.center)
        ok = np.isfinite(lps) & np.isfinite(self.lp_out)
        # clipped: far in the tails (negligible posterior weight) the ratio may overflow
        ratio = np.clip(c + np.where(ok, lps - np.where(ok, self.lp_out, 0.0), 0.0), -700, 700)
        return np.where(ok, np.exp(ratio), 0.0)


def _layer_moments(arch, finite, group, n_groups, cond, n_out, progress):
    """Per layer l: E[u_l | s] and E[Π_{j<l} u_j | s] (GP layers contribute their σ²)."""
    L_all = arch.L
    fin_idx = np.flatnonzero(finite)
    s2n = np.asarray(arch.sigma2[1:])
    cond_u = np.empty((L_all, n_out))
    cond_lower = np.empty((L_all, n_out))
    for l in range(L_all):  # loop over layers (distinct densities are cached), not data
        if finite[l]:
            one = np.zeros(n_groups)
            one[group[np.searchsorted(fin_idx, l)]] = 1.0
            cond_u[l] = cond(one)
        else:
            cond_u[l] = s2n[l]
        below = np.bincount(group[fin_idx < l], minlength=n_groups).astype(np.float64)
        cond_lower[l] = cond(below) * np.prod(s2n[:l][~finite[:l]])
        if progress is not None:
            progress(l + 1, L_all)
    return cond_u, cond_lower


def posterior_logU(
    kern: BaseKernel,
    arch: Architecture,
    *,
    s_center: float,
    n_out: int = 161,
    progress: Callable[[int, int], None] | None = None,
) -> ULogGrid:
    """Exact posterior of s = log U (docs/theory/bpkr.md §2.3) by characteristic functions and quadrature.

    ``s_center`` is a guess of the posterior location (the saddle's log U is ideal).
    ``progress(done, total)`` is called after each of the L conditional-moment steps (each
    costs one Fourier inversion at the output nodes, independent of L).
    """
    finite = np.isfinite(np.asarray(arch.widths))
    s_inf = float(np.log(np.asarray(arch.sigma2[1:])[~finite]).sum())  # GP layers: u = σ²
    if not finite.any():
        return _gp_point_mass(kern, arch, s_inf)
    pairs, mult, group = _layer_groups(arch.gamma_shape[finite], arch.gamma_scale[finite])
    kg, thg = pairs[:, 0], pairs[:, 1]
    target = s_center - s_inf
    beta = _tilt_for_mean(kg, thg, mult, target)
    sd_t = float(np.sqrt((mult * special.polygamma(1, kg + beta)).sum()))

    def log_post(points: np.ndarray, center: float) -> np.ndarray:
        lp = log_sum_density(kg, thg, mult, points, center=center)
        return lp + log_evidence_curve(kern, points + s_inf, arch.sigma2[0], arch.T)

    # Pass 1 on ±30 tilted-prior sd around the saddle; pass 2: output grid of ±12 posterior sd
    # (the trapezoid rule is spectrally accurate for this smooth, rapidly decaying integrand,
    # so ~7 nodes per sd suffice).
    m, sd, g = _locate(lambda x: log_post(x, target), target - 30 * sd_t, target + 30 * sd_t)
    s_out = np.linspace(max(m - 12 * sd, g[0]), min(m + 12 * sd, g[-1]), n_out)
    lp_out = log_sum_density(kg, thg, mult, s_out, center=m)
    lpost_out = lp_out + log_evidence_curve(kern, s_out + s_inf, arch.sigma2[0], arch.T)
    weights, log_ev, edge = _trapezoid_posterior(lpost_out, s_out[1] - s_out[0])
    cond = _ConditionalMoments(kg, thg, mult, s_out, lp_out, m)
    cond_u, cond_lower = _layer_moments(arch, finite, group, kg.size, cond, n_out, progress)
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
