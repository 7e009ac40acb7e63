"""Stable Gaussian integrals for the layered replica theory (docs/theory/perceptron.md §3.4,
§3.6, §3.7, §3.10).

Expectations E_z[g(γz)] over z ~ N(0, 1) are computed by Gauss–Legendre panels on
z ∈ [−10, 10], refined on |z| < 15/γ where g(γz) varies (for large γ the interesting region
x = γz ∈ [−15, 15] is narrow in z). Every function is vectorized over an array of p (one value
per layer): node arrays have shape (n_p, n_nodes).

Large arguments: ln Φ uses ``scipy.special.log_ndtr``; R(x)(R(x) − x) with the inverse Mills
ratio R = φ/H switches to the asymptotic series for x > 30 (§3.10: the direct formula returns
I(1 − 10⁻⁹) = 76 instead of ½).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import special

from deeprg.quadrature import gauss_hermite

P_MAX = 1.0 - 1e-13
_LEG_X, _LEG_W = np.polynomial.legendre.leggauss(10)
_GH_X, _GH_W = gauss_hermite(240)  # E_z[f(z)] = Σ w f(x)
LN2 = float(np.log(2.0))


@lru_cache(maxsize=4096)
def _z_nodes_scalar(c: float) -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Legendre panel nodes on [−10, 10] refined on [−c, c] (and geometrically beyond),
    weights include φ(z)."""
    bps = np.linspace(-10.0, 10.0, 41)
    if c < 10.0:
        # fine panels where g(γz) varies (|γz| < 15) and geometric panels beyond, where the
        # tails (e.g. 1 − 1/(γz)² in I(p)) still vary on the scale of z itself (§3.10)
        outer = np.geomspace(c, 10.0, 25)
        bps = np.union1d(bps, np.concatenate([np.linspace(-c, c, 31), outer, -outer]))
    a, b = bps[:-1, None], bps[1:, None]
    z = 0.5 * (b - a) * _LEG_X[None, :] + 0.5 * (a + b)
    w = 0.5 * (b - a) * _LEG_W[None, :] * np.exp(-0.5 * z**2) / np.sqrt(2 * np.pi)
    return z.ravel(), w.ravel()


def z_nodes(gamma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nodes (n_p, n) and weights for E_z[g(γ z)], padded with zero weights to a common size."""
    gamma = np.atleast_1d(np.asarray(gamma, dtype=np.float64))
    if gamma.size == 0:
        return np.zeros((0, 1)), np.zeros((0, 1))
    cs = [round(float(min(15.0 / g, 10.0)) if g > 0 else 10.0, 12) for g in gamma]
    pairs = [_z_nodes_scalar(c) for c in cs]
    n = max(len(z) for z, _ in pairs)
    Z = np.zeros((len(pairs), n))
    W = np.zeros((len(pairs), n))
    for i, (z, w) in enumerate(pairs):  # loop over layers (a few dozen), not data
        Z[i, : len(z)], W[i, : len(w)] = z, w
    return Z, W


def gamma_of(p: np.ndarray) -> np.ndarray:
    """γ(p) = √(p/(1−p)), with p clipped to [0, 1 − 1e-13]."""
    p = np.clip(np.asarray(p, dtype=np.float64), 0.0, P_MAX)
    return np.sqrt(p / (1.0 - p))


def log_phi_cdf(x: np.ndarray) -> np.ndarray:
    """ln Φ(x), stable for large |x|."""
    return special.log_ndtr(x)


def mills_rr(x: np.ndarray) -> np.ndarray:
    """R(x)(R(x) − x) with R(x) = φ(x)/H(x) (H = 1 − Φ), stable for all x (§3.10).

    Equals 1 − ∂_x R... limits: → 0 as x → −∞, → 1 as x → +∞ (R ≈ x + 1/x).
    """
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    big = x > 30.0
    xs = x[~big]
    R = np.exp(-0.5 * xs**2 - 0.5 * np.log(2 * np.pi) - special.log_ndtr(-xs))
    out[~big] = R * (R - xs)
    xb = x[big]
    # Mills ratio H/φ = m, asymptotic series (§3.10) carried to x⁻¹³: x m = 1 − y S with
    # y = x⁻², S = 1 − 3y(1 − 5y(1 − 7y(…))). Then R(R − x) = (1 − x m)/m² = S/(1 − y S)²,
    # written without the cancellation in 1 − x m (which the textbook form (1 − x m)/m² suffers for
    # x ≳ 10⁵: it returns 1.11 at x = 10⁸).
    y = xb**-2
    S = 1 - 3 * y * (1 - 5 * y * (1 - 7 * y * (1 - 9 * y * (1 - 11 * y))))
    out[big] = S / (1 - y * S) ** 2
    return out


def mills_r(x: np.ndarray) -> np.ndarray:
    """R(x) = φ(x)/H(x), stable."""
    x = np.asarray(x, dtype=np.float64)
    return np.exp(-0.5 * x**2 - 0.5 * np.log(2 * np.pi) - special.log_ndtr(-x))


def G(p: np.ndarray, kappa: float = 0.0) -> np.ndarray:
    """G_κ(p) = E_z ln Φ((√p z − κ)/√(1−p)) (random-I/O gap term, §3.4; κ = 0: E ln Φ(γz))."""
    p = np.clip(np.atleast_1d(np.asarray(p, dtype=np.float64)), 0.0, P_MAX)
    g = gamma_of(p)
    Z, W = z_nodes(g)
    b = kappa / np.sqrt(1.0 - p)
    return (W * log_phi_cdf(g[:, None] * Z - b[:, None])).sum(1)


def dG(p: np.ndarray, kappa: float = 0.0) -> np.ndarray:
    """G_κ'(p). κ = 0: −I(p)/(2(1−p)²) with I(p) = E_z R(γz)[R(γz) − γz] (§3.4).

    General κ (Stein's lemma): with u = a z − b, a = γ, b = κ/√(1−p),
    G' = −(da/dp) a E[R(−u)(R(−u) + u)] − (db/dp) E[R(−u)],
    da/dp = 1/(2a(1−p)²), db/dp = κ/(2(1−p)^{3/2}).
    """
    p = np.clip(np.atleast_1d(np.asarray(p, dtype=np.float64)), 0.0, P_MAX)
    g = gamma_of(p)
    Z, W = z_nodes(g)
    b = kappa / np.sqrt(1.0 - p)
    u = g[:, None] * Z - b[:, None]
    # d ln Φ(u)/du = R(−u); d² ln Φ/du² = −R(−u)(R(−u) + u) = −mills_rr(−u)
    term_a = -(W * mills_rr(-u)).sum(1) / (2 * (1 - p) ** 2)
    if kappa == 0.0:  # the margin term vanishes (skipping it saves a third of the work)
        return term_a
    term_b = -(W * mills_r(-u)).sum(1) * kappa / (2 * (1 - p) ** 1.5)
    return term_a + term_b


def I_of(p: np.ndarray) -> np.ndarray:
    """I(p) = E_z R(γz)[R(γz) − γz]: I(0) = 2/π, I(1⁻) = ½ (§3.4)."""
    p = np.clip(np.atleast_1d(np.asarray(p, dtype=np.float64)), 0.0, P_MAX)
    g = gamma_of(p)
    Z, W = z_nodes(g)
    return (W * mills_rr(g[:, None] * Z)).sum(1)


def G_ts(p: np.ndarray) -> np.ndarray:
    """G_TS(p) = 2 E_z Φ(γz) ln Φ(γz) (teacher–student gap term, §3.6)."""
    p = np.clip(np.atleast_1d(np.asarray(p, dtype=np.float64)), 0.0, P_MAX)
    g = gamma_of(p)
    Z, W = z_nodes(g)
    x = g[:, None] * Z
    return 2 * (W * special.ndtr(x) * log_phi_cdf(x)).sum(1)


def dG_ts(p: np.ndarray) -> np.ndarray:
    """G_TS'(p) = E_z[x φ(x) ln Φ(x)]/(p(1−p)), x = γz; G_TS'(0) = 1/π (§3.6)."""
    p = np.clip(np.atleast_1d(np.asarray(p, dtype=np.float64)), 0.0, P_MAX)
    g = gamma_of(p)
    Z, W = z_nodes(g)
    x = g[:, None] * Z
    phi = np.exp(-0.5 * x**2) / np.sqrt(2 * np.pi)
    num = (W * x * phi * log_phi_cdf(x)).sum(1)
    small = p < 1e-7
    with np.errstate(divide="ignore", invalid="ignore"):
        out = num / (p * (1 - p))
    # series at small p: G_TS'(p) = 1/π + O(p)
    return np.where(small, 1.0 / np.pi, out)


def _gh(z_scale: np.ndarray, shift: np.ndarray | float = 0.0):
    """Arguments shift + √q̂ z on Gauss–Hermite nodes; shape (n, 80)."""
    return np.asarray(shift)[..., None] + np.sqrt(np.maximum(z_scale, 0.0))[..., None] * _GH_X


def log2cosh(x: np.ndarray) -> np.ndarray:
    ax = np.abs(x)
    return ax + np.log1p(np.exp(-2 * ax))


def _ising_nodes(qhat: np.ndarray, shift: bool) -> tuple[np.ndarray, np.ndarray]:
    """Panel nodes (n, m) and weights for E_z g(√q̂ z [+ q̂]): refined where the argument is
    within ±15 (for the shifted Nishimori field the window [−√q̂ − 15/√q̂, −√q̂ + 15/√q̂] is
    covered by a symmetric refinement of half-width 15/√q̂ + √q̂). Gauss–Hermite alone loses
    accuracy fast for large q̂ (7·10⁻⁴ in E tanh² at q̂ = 30 with 240 nodes)."""
    r = np.sqrt(np.maximum(qhat, 0.0))
    c = 15.0 / np.maximum(r, 1e-300) + (r if shift else 0.0)
    return z_nodes(15.0 / c)


def _ising_args(qhat: np.ndarray, shift: bool):
    qhat = np.atleast_1d(np.asarray(qhat, dtype=np.float64))
    Z, W = _ising_nodes(qhat, shift)
    r = np.sqrt(np.maximum(qhat, 0.0))[:, None]
    y = r * Z + (qhat[:, None] if shift else 0.0)
    return qhat, y, W


def ising_q(qhat: np.ndarray) -> np.ndarray:
    """q = E_z tanh²(√q̂ z) (RS Ising stationarity, §3.5 A3)."""
    _, y, W = _ising_args(qhat, False)
    return (W * np.tanh(y) ** 2).sum(1)


def ising_s(q: np.ndarray, qhat: np.ndarray) -> np.ndarray:
    """s = E_z ln 2cosh(√q̂ z) − q̂(1−q)/2 (RS Ising entropy at given q̂, §3.4)."""
    qhat, y, W = _ising_args(qhat, False)
    return (W * log2cosh(y)).sum(1) - qhat * (1 - np.asarray(q)) / 2


def ising_chi(qhat: np.ndarray) -> np.ndarray:
    """Replicon susceptibility χ = E_z (1 − tanh²(√q̂ z))² (RS, random I/O)."""
    _, y, W = _ising_args(qhat, False)
    return (W * (1 - np.tanh(y) ** 2) ** 2).sum(1)


def ising_q_ts(qhat: np.ndarray) -> np.ndarray:
    """q = E_z tanh(q̂ + √q̂ z) (Nishimori Ising stationarity, §3.6 T3)."""
    _, y, W = _ising_args(qhat, True)
    return (W * np.tanh(y)).sum(1)


def ising_s_ts(q: np.ndarray, qhat: np.ndarray) -> np.ndarray:
    """s_TS = E_z ln 2cosh(q̂ + √q̂ z) − q̂(1+q)/2 (§3.6)."""
    qhat, y, W = _ising_args(qhat, True)
    return (W * log2cosh(y)).sum(1) - qhat * (1 + np.asarray(q)) / 2


def w_rs(Q: np.ndarray) -> np.ndarray:
    """RS spherical-weight entropy w(Q) = ½[ln(1−Q) + Q/(1−Q)] (§3.4)."""
    Q = np.asarray(Q, dtype=np.float64)
    return 0.5 * (np.log1p(-Q) + Q / (1 - Q))


def w_ts(Q: np.ndarray) -> np.ndarray:
    """Nishimori weight entropy ½[ln(1−Q) + Q] (§3.6)."""
    Q = np.asarray(Q, dtype=np.float64)
    return 0.5 * (np.log1p(-Q) + Q)


# ------------------------------------------------------------------ variant B (§3.7)


def u_field(x: np.ndarray) -> np.ndarray:
    """u(x) = ½ ln[Φ(x)/Φ(−x)]: the field a neuron gets from its own perceptron (§3.7)."""
    return 0.5 * (log_phi_cdf(x) - log_phi_cdf(-x))


def _F_B(x: np.ndarray, qhat: np.ndarray) -> np.ndarray:
    """F(x) = E_w ln cosh(√q̂ w + u(x)) − ln cosh u(x), shape of x (q̂ per row)."""
    u = u_field(x)
    arg = u[..., None] + np.sqrt(np.maximum(qhat, 0.0))[:, None, None] * _GH_X
    return (log2cosh(arg) @ _GH_W) - log2cosh(u)


def G_B(p: np.ndarray, qhat: np.ndarray) -> np.ndarray:
    """G_B(p, q̂) = E_z E_w[ln cosh(√q̂ w + u(γz)) − ln cosh u(γz)] (§3.7)."""
    p = np.clip(np.atleast_1d(np.asarray(p, dtype=np.float64)), 0.0, P_MAX)
    qhat = np.broadcast_to(np.asarray(qhat, dtype=np.float64), p.shape)
    g = gamma_of(p)
    Z, W = z_nodes(g)
    return (W * _F_B(g[:, None] * Z, qhat)).sum(1)


def dG_B(p: np.ndarray, qhat: np.ndarray) -> np.ndarray:
    """∂_p G_B = E_z[F(γz)(z² − 1)]/(2γ²(1−p)²) (§3.7); central differences for γ < 0.05."""
    p = np.clip(np.atleast_1d(np.asarray(p, dtype=np.float64)), 0.0, P_MAX)
    qhat = np.broadcast_to(np.asarray(qhat, dtype=np.float64), p.shape)
    g = gamma_of(p)
    Z, W = z_nodes(g)
    with np.errstate(divide="ignore", invalid="ignore"):
        direct = (W * _F_B(g[:, None] * Z, qhat) * (Z**2 - 1)).sum(1) / (2 * g**2 * (1 - p) ** 2)
    return _small_gamma_slope(direct, G_B, p, qhat, g)


def _small_gamma_slope(out, G, p, qhat, g):
    """Replace ``out`` where γ < 0.05 (the Stein form divides by γ²) by a central difference
    of ``G`` in p with step 10⁻⁴ (one-sided at p = 0)."""
    small = g < 0.05
    if np.any(small):
        h = 1e-4
        ps, qs = p[small], qhat[small]
        lo = np.maximum(ps - h, 0.0)
        out[small] = (G(ps + h, qs) - G(lo, qs)) / (ps + h - lo)
    return out


def q_B(p: np.ndarray, qhat: np.ndarray) -> np.ndarray:
    """q = E_z E_w tanh²(√q̂ w + u(γz)) (§3.7 B3)."""
    p = np.clip(np.atleast_1d(np.asarray(p, dtype=np.float64)), 0.0, P_MAX)
    qhat = np.broadcast_to(np.asarray(qhat, dtype=np.float64), p.shape)
    g = gamma_of(p)
    Z, W = z_nodes(g)
    u = u_field(g[:, None] * Z)
    arg = u[..., None] + np.sqrt(np.maximum(qhat, 0.0))[:, None, None] * _GH_X
    return (W * (np.tanh(arg) ** 2 @ _GH_W)).sum(1)


# ------------------------------------------------------------------ variant B, teacher (§3.7.1)

_V_BP = np.linspace(-18.0, 18.0, 37)  # unit panels, a breakpoint at v = 0 (kink of |v|)
_V_NODES = (
    0.5 * np.diff(_V_BP)[:, None] * _LEG_X[None, :] + 0.5 * (_V_BP[:-1] + _V_BP[1:])[:, None]
).ravel()
_V_W = (0.5 * np.diff(_V_BP)[:, None] * np.broadcast_to(_LEG_W, (36, 10))).ravel()


def _cavity_w_avgs(a: np.ndarray, qhat: float) -> tuple[np.ndarray, np.ndarray]:
    """(E_w log2cosh(a + √q̂ w), E_w tanh²(a + √q̂ w)) elementwise in ``a``.

    q̂ ≤ 1: Gauss–Hermite in w (the integrands vary on the scale 1/√q̂ ≥ 1 in w). q̂ > 1: in
    v = a + √q̂ w ~ N(a, q̂), log2cosh v = |v| + ln(1 + e^{−2|v|}) with E|v| in closed form and
    the localized rest, like sech² = 1 − tanh², on unit Gauss–Legendre panels of |v| ≤ 18
    (Gauss–Hermite alone loses 10⁻⁴–10⁻³ at q̂ ~ 30, where the integrand has a sharp bend)."""
    if qhat <= 1.0:
        y = a[..., None] + np.sqrt(max(qhat, 0.0)) * _GH_X
        return log2cosh(y) @ _GH_W, np.tanh(y) ** 2 @ _GH_W
    s = np.sqrt(qhat)
    dens = np.exp(-0.5 * ((_V_NODES - a[..., None]) / s) ** 2) / (s * np.sqrt(2 * np.pi))
    r = a / s
    abs_v = s * np.sqrt(2 / np.pi) * np.exp(-0.5 * r**2) + a * special.erf(r / np.sqrt(2))
    av = np.abs(_V_NODES)
    rest = (dens * (np.log1p(np.exp(-2 * av)) * _V_W)).sum(-1)
    sech2 = (dens * ((1 - np.tanh(av) ** 2) * _V_W)).sum(-1)
    return abs_v + rest, 1.0 - sech2


def _ts_cavity_parts(p: np.ndarray, qhat: np.ndarray):
    """Nodes and integrands of the teacher cavity factor: weights W·2Φ(x) (the teacher's own
    output σ_t = +1 after the σ → −σ symmetry), F(x) = E_w log2cosh(q̂ + √q̂ w + u(x)) −
    log2cosh u(x) and T(x) = E_w tanh²(q̂ + √q̂ w + u(x)), x = γz."""
    p = np.clip(np.atleast_1d(np.asarray(p, dtype=np.float64)), 0.0, P_MAX)
    qhat = np.maximum(np.broadcast_to(np.asarray(qhat, dtype=np.float64), p.shape), 0.0)
    g = gamma_of(p)
    Z, W = z_nodes(g)
    x = g[:, None] * Z
    u = u_field(x)
    F = np.empty_like(x)
    T = np.empty_like(x)
    for i, qh in enumerate(qhat):  # one row per layer (a few)
        lc, T[i] = _cavity_w_avgs(qh + u[i], float(qh))
        F[i] = lc - log2cosh(u[i])
    return p, qhat, g, Z, W * 2 * special.ndtr(x), F, T


def G_B_ts(p: np.ndarray, qhat: np.ndarray) -> np.ndarray:
    """Closure B, teacher: G_B^TS(p, q̂) = 2 E_z Φ(γz) E_w ln[e^{y}Φ(γz) + e^{−y}Φ(−γz)] with
    y = q̂ + √q̂ w (§3.7.1); G_B^TS(p, 0) = 0."""
    *_, Wt, F, _ = _ts_cavity_parts(p, qhat)
    return (Wt * F).sum(1)


def dG_B_ts(p: np.ndarray, qhat: np.ndarray) -> np.ndarray:
    """∂_p G_B^TS = E_z[K(γz)(z² − 1)]/(2γ²(1−p)²), K = 2Φ F (Stein, §3.7.1); central
    differences for γ < 0.05."""
    p, qhat, g, Z, Wt, F, _ = _ts_cavity_parts(p, qhat)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (Wt * F * (Z**2 - 1)).sum(1) / (2 * g**2 * (1 - p) ** 2)
    return _small_gamma_slope(out, G_B_ts, p, qhat, g)


def q_B_ts(p: np.ndarray, qhat: np.ndarray) -> np.ndarray:
    """Closure B, teacher: q = 2 E_z Φ(γz) E_w tanh²(q̂ + √q̂ w + u(γz)) (§3.7.1; equal to the
    student–teacher form with tanh by the Nishimori identity)."""
    *_, Wt, _, T = _ts_cavity_parts(p, qhat)
    return (Wt * T).sum(1)
