"""Replica-symmetric saddle points of the layered chain (deep-perceptron-networks.md §3.5–3.8).

L counts **weight layers**; neuron layers are l = 0..L with q_0 = q_L = 1 (clamped inputs and
outputs). Order parameters: Q_l (weights, l = 1..L) and q_l (neurons, l = 0..L).

The free entropy is assembled from per-layer factors with one interface (tramp-style):

- a weight factor (spherical rows): entropy w(Q) and the inverse of its stationarity
  w'(Q) = φ  →  Q(φ);
- a neuron factor (Ising ±1): entropy s(q, q̂), q(q̂), and q̂ from s'(q) = ψ;
- a gap factor: G(p) and G'(p) with the gap overlap p_l = q_{l−1} Q_l q_l (closure A).

For the random-I/O scenario (n → 0) these are w, s, G_κ; for teacher–student (Nishimori) they
are w_TS, s_TS, G_TS. The chain's stationarity conditions for any L are then

    w'(Q_l) = −α q_{l−1} q_l G'(p_l)                                   (A1 / T1)
    s'(q_l) = −[q_{l−1} Q_l G'(p_l) + Q_{l+1} q_{l+1} G'(p_{l+1})]         (A2 / T2)

solved by damped fixed-point iteration with Anderson acceleration. Closure B (§3.7, random
I/O only) ties each neuron to its own perceptron and has its own map.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from deeprg.errors import InputError, check_choice, check_int, check_positive
from deeprg.perceptron.replica import special as sp

SCENARIOS = ("random", "teacher")
CLOSURES = ("A", "B")
SEED = 1e-2  # floor put under interior order parameters before each solve (§3.10 step 4)
CLIP = 1.0 - 1e-12


@dataclass(frozen=True)
class WeightFactor:
    entropy: Callable[[np.ndarray], np.ndarray]
    Q_of: Callable[[np.ndarray], np.ndarray]  # inverse of w'(Q) = φ


@dataclass(frozen=True)
class NeuronFactor:
    entropy: Callable[[np.ndarray, np.ndarray], np.ndarray]  # s(q, q̂)
    q_of: Callable[[np.ndarray], np.ndarray]  # q(q̂)
    qhat_of: Callable[[np.ndarray], np.ndarray]  # q̂ from s'(q) = ψ


@dataclass(frozen=True)
class GapFactor:
    G: Callable[[np.ndarray], np.ndarray]
    dG: Callable[[np.ndarray], np.ndarray]


def _Q_random(phi: np.ndarray) -> np.ndarray:
    # w'(Q) = Q/(2(1−Q)²) = φ  ⇔  Q/(1−Q)² = C = 2φ  ⇔  Q = 2C/(2C + 1 + √(4C + 1))
    C = np.maximum(2.0 * phi, 0.0)
    return 2 * C / (2 * C + 1 + np.sqrt(4 * C + 1))


def _Q_teacher(phi: np.ndarray) -> np.ndarray:
    # w_TS'(Q) = −Q/(2(1−Q)) = φ  ⇔  Q/(1−Q) = C = −2φ
    C = np.maximum(-2.0 * phi, 0.0)
    return C / (1 + C)


def factors(scenario: str, margin: float = 0.0) -> tuple[WeightFactor, NeuronFactor, GapFactor]:
    """The three per-layer factors of a scenario (§3.5 random I/O, §3.6 teacher–student)."""
    if scenario == "random":
        return (
            WeightFactor(sp.w_rs, _Q_random),
            NeuronFactor(sp.ising_s, sp.ising_q, lambda psi: np.maximum(2 * psi, 0.0)),
            GapFactor(lambda p: sp.G(p, margin), lambda p: sp.dG(p, margin)),
        )
    if margin != 0.0:
        raise InputError("margin must be 0 for the teacher scenario (the teacher has no margin)")
    return (
        WeightFactor(sp.w_ts, _Q_teacher),
        NeuronFactor(sp.ising_s_ts, sp.ising_q_ts, lambda psi: np.maximum(-2 * psi, 0.0)),
        GapFactor(sp.G_ts, sp.dG_ts),
    )


@dataclass(frozen=True)
class RSSolution:
    """RS saddle point of the chain at one α, with diagnostics.

    ``q`` has L+1 entries (layers 0..L, boundaries included), ``Q`` has L (layers 1..L),
    ``qhat`` L−1 (interior neuron layers). ``f`` is the free entropy per N c relative to the
    full weight sphere (liquid: −α ln 2).
    """

    L: int
    alpha: float
    scenario: str
    closure: str
    margin: float
    q: np.ndarray
    Q: np.ndarray
    qhat: np.ndarray
    f: float
    converged: bool
    residual: float
    iterations: int
    eps_g: float | None = None
    info: dict = field(default_factory=dict)


def _anderson(
    g: Callable[[np.ndarray], np.ndarray],
    x0: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    *,
    tol: float,
    max_iter: int,
    damping: float = 0.5,
    m: int = 6,
    n_plain: int = 400,
) -> tuple[np.ndarray, float, int, bool]:
    """Anderson-accelerated damped fixed-point iteration x = g(x) within box bounds."""
    x = np.clip(x0, lo, hi)
    X_hist: list[np.ndarray] = []
    F_hist: list[np.ndarray] = []
    res = np.inf
    # Phase 1: plain damped iteration lets unstable directions of the liquid grow (Anderson
    # would converge to the unstable liquid fixed point as readily as to the frozen one).
    it0 = 0
    for it0 in range(1, n_plain + 1):
        gx = g(x)
        res = float(np.max(np.abs(gx - x))) if x.size else 0.0
        if res < tol:
            return gx, res, it0, True
        x = np.clip(x + damping * (gx - x), lo, hi)
        if res < 1e-5:
            break
    for it in range(it0 + 1, max_iter + 1):
        gx = g(x)
        f = gx - x
        res = float(np.max(np.abs(f))) if f.size else 0.0
        if res < tol:
            return gx, res, it, True
        X_hist.append(x.copy())
        F_hist.append(f.copy())
        if len(X_hist) > m + 1:
            X_hist.pop(0)
            F_hist.pop(0)
        x_new = x + damping * f
        if len(F_hist) >= 2:
            dF = np.diff(np.array(F_hist), axis=0).T
            dX = np.diff(np.array(X_hist), axis=0).T
            gam, *_ = np.linalg.lstsq(dF, f, rcond=None)
            cand = x + damping * f - (dX + damping * dF) @ gam
            if np.all(np.isfinite(cand)):
                x_new = cand
        x_clipped = np.clip(x_new, lo, hi)
        if not np.allclose(x_clipped, x_new):
            X_hist.clear()
            F_hist.clear()
        x = x_clipped
    return x, res, max_iter, False


def _eps_g_forward(Q: np.ndarray) -> float:
    """Teacher–student ε_g by forward propagation of a fresh input (§5.4):
    ρ_l = Q_l q^test_{l−1}, q^test_l = (2/π) arcsin ρ_l, ε_g = arccos(ρ_L)/π."""
    qt = 1.0
    rho = 0.0
    for Ql in Q:  # loop over layers
        rho = float(np.clip(Ql * qt, -1.0, 1.0))
        qt = (2 / np.pi) * np.arcsin(rho)
    return float(np.arccos(rho) / np.pi)


def solve_rs(
    L: int,
    alpha: float,
    *,
    scenario: str = "random",
    closure: str = "A",
    margin: float = 0.0,
    init: RSSolution | None = None,
    seed: float = SEED,
    tol: float = 1e-11,
    max_iter: int = 20000,
    damping: float = 0.5,
) -> RSSolution:
    """RS saddle point of the L-layer chain at one α (§3.5–3.7).

    ``init`` continues from a previous solution (continuation in α); every order parameter
    starts at least at ``seed`` so that a newly unstable layer can grow (§3.10 step 4: the
    liquid is an exact fixed point and does not move by itself). A stable liquid layer decays
    back to 0 from the seed.
    """
    L = check_int("L", L)
    alpha = check_positive("alpha", alpha)
    check_choice("scenario", scenario, SCENARIOS)
    check_choice("closure", closure, CLOSURES)
    margin = check_positive("margin", margin, allow_zero=True)
    if closure == "B":
        if scenario != "random":
            raise InputError("closure B is implemented for the random scenario only (spec §3.7)")
        return _solve_B(L, alpha, margin, init, seed, tol, max_iter, damping)
    wf, nf, gf = factors(scenario, margin)

    def unpack(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        Q = x[:L]
        q = np.concatenate([[1.0], x[L:], [1.0]])
        return Q, q

    def gmap(x: np.ndarray) -> np.ndarray:
        Q, q = unpack(x)
        p = q[:-1] * Q * q[1:]
        d = gf.dG(p)
        Qn = wf.Q_of(-alpha * q[:-1] * q[1:] * d)
        psi = -(q[:-2] * Q[:-1] * d[:-1] + Q[1:] * q[2:] * d[1:])
        qn = nf.q_of(nf.qhat_of(psi))
        return np.concatenate([Qn, qn])

    if init is not None and init.L == L:
        x0 = np.concatenate([init.Q, init.q[1:-1]])
    else:
        x0 = np.zeros(2 * L - 1)
    x0 = np.maximum(x0, seed)
    lo, hi = np.zeros_like(x0), np.full_like(x0, CLIP)
    x, res, it, ok = _anderson(gmap, x0, lo, hi, tol=tol, max_iter=max_iter, damping=damping)
    Q, q = unpack(x)
    p = q[:-1] * Q * q[1:]
    d = gf.dG(p)
    psi = -(q[:-2] * Q[:-1] * d[:-1] + Q[1:] * q[2:] * d[1:])
    qhat = nf.qhat_of(psi)
    f = float(wf.entropy(Q).sum() + alpha * nf.entropy(q[1:-1], qhat).sum() + alpha * gf.G(p).sum())
    eps = _eps_g_forward(Q) if scenario == "teacher" else None
    return RSSolution(L, alpha, scenario, closure, margin, q, Q, qhat, f, ok, res, it, eps)


def _solve_B(
    L: int,
    alpha: float,
    margin: float,
    init: RSSolution | None,
    seed: float,
    tol: float,
    max_iter: int,
    damping: float,
) -> RSSolution:
    """Closure B, random I/O (§3.7): state (Q_1..L, q_1..L−1, q̂_1..L−1)."""

    def unpack(x: np.ndarray):
        return x[:L], np.concatenate([[1.0], x[L : 2 * L - 1]]), x[2 * L - 1 :]

    def gmap(x: np.ndarray) -> np.ndarray:
        Q, q, qh = unpack(x)  # q has entries for layers 0..L−1
        p = q * Q
        dgb = sp.dG_B(p[:-1], qh) if L > 1 else np.zeros(0)
        dlast = sp.dG(p[-1:], margin)
        dd = np.concatenate([dgb, dlast])
        Qn = _Q_random(-alpha * q * dd)
        qhn = -2 * Q[1:] * dd[1:]
        qn = sp.q_B(p[:-1], np.maximum(qh, 0.0)) if L > 1 else np.zeros(0)
        return np.concatenate([Qn, qn, np.maximum(qhn, 0.0)])

    if init is not None and init.L == L and init.closure == "B":
        x0 = np.concatenate([init.Q, init.q[1:-1], init.qhat])
    else:
        x0 = np.zeros(3 * L - 2)
    x0 = np.maximum(x0, seed)
    lo = np.zeros_like(x0)
    hi = np.concatenate([np.full(2 * L - 1, CLIP), np.full(L - 1, np.inf)])
    x, res, it, ok = _anderson(gmap, x0, lo, hi, tol=tol, max_iter=max_iter, damping=damping)
    Q, q, qh = unpack(x)
    p = q * Q
    f = float(
        sp.w_rs(Q).sum()
        + alpha * (qh * (q[1:] - 1) / 2 + (sp.G_B(p[:-1], qh) if L > 1 else 0.0)).sum()
        + alpha * sp.G(p[-1:], margin).sum()
    )
    q_full = np.concatenate([q, [1.0]])
    return RSSolution(L, alpha, "random", "B", margin, q_full, Q, qh, f, ok, res, it, None)


def solve_path(
    L: int,
    alphas: Sequence[float],
    *,
    scenario: str = "random",
    closure: str = "A",
    margin: float = 0.0,
    **kw,
) -> list[RSSolution]:
    """Continuation in α (sorted ascending), each solve seeded by the previous solution."""
    out: list[RSSolution] = []
    prev = None
    for a in sorted(float(v) for v in alphas):  # continuation is sequential by nature
        prev = solve_rs(L, a, scenario=scenario, closure=closure, margin=margin, init=prev, **kw)
        out.append(prev)
    return out


def path_dataset(sols: Sequence[RSSolution]):
    """xarray Dataset with dims (alpha, layer): q on layers 0..L, Q on layers 1..L (Q[0] = nan)."""
    import xarray as xr

    L = sols[0].L
    alpha = np.array([s.alpha for s in sols])
    q = np.array([s.q for s in sols])
    Q = np.array([np.concatenate([[np.nan], s.Q]) for s in sols])
    qhat = np.array([np.concatenate([[np.nan], s.qhat, [np.nan]]) for s in sols])
    ds = xr.Dataset(
        {
            "q": (("alpha", "layer"), q),
            "Q": (("alpha", "layer"), Q),
            "qhat": (("alpha", "layer"), qhat),
            "f": ("alpha", np.array([s.f for s in sols])),
            "converged": ("alpha", np.array([s.converged for s in sols])),
            "residual": ("alpha", np.array([s.residual for s in sols])),
            "iterations": ("alpha", np.array([s.iterations for s in sols])),
        },
        coords={"alpha": alpha, "layer": np.arange(L + 1)},
    )
    if sols[0].eps_g is not None:
        ds["eps_g"] = ("alpha", np.array([s.eps_g for s in sols]))
    ds.attrs.update(
        {"scenario": sols[0].scenario, "closure": sols[0].closure, "margin": sols[0].margin, "L": L}
    )
    return ds
