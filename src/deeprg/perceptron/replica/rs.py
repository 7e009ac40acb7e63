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
from numpy.typing import ArrayLike

from deeprg.errors import InputError, check_choice, check_int, check_positive
from deeprg.perceptron.replica import special as sp

SCENARIOS = ("random", "teacher")
CLOSURES = ("A", "B")
SEED = 1e-2  # floor put under interior order parameters before each solve (§3.10 step 4)
CLIP = 1.0 - 1e-12
# An order parameter within UNSAT_TOL of 1 means the RS solution ran to the corner q = Q = 1
# with a diverging free entropy: the solution space is empty (beyond capacity). Below α_c the
# approach is linear (1 − Q ≈ 5e-4 at α = 0.999 α_c for L = 1), so only points within ~1e-6
# of α_c are affected.
UNSAT_TOL = 1e-6
STATUSES = ("converged", "not_converged", "unsat")


def gardner_capacity(margin: float = 0.0) -> float:
    """Gardner's capacity of the spherical perceptron: α_c(κ)⁻¹ = ∫_{−κ}^{∞} Dt (t + κ)².

    With Φ the normal cdf and φ its density the integral is (1 + κ²) Φ(κ) + κ φ(κ)
    (α_c(0) = 2). It is the L = 1 limit of the random-I/O chain.
    """
    from scipy.special import ndtr

    k = check_positive("margin", margin, allow_zero=True)
    phi = np.exp(-0.5 * k * k) / np.sqrt(2 * np.pi)
    return float(1.0 / ((1 + k * k) * ndtr(k) + k * phi))


def solution_status(
    scenario: str, L: int, alpha: float, margin: float, q: np.ndarray, Q: np.ndarray, ok: bool
) -> str:
    """Status of a solve: "unsat" (random I/O beyond capacity: the overlaps ran to 1 and
    f → −∞), else "converged" or "not_converged". A teacher–student solution at Q = 1 is
    perfect learning, not unsat."""
    if scenario == "random":
        top = max(float(np.max(Q, initial=0.0)), float(np.max(q[1:-1], initial=0.0)))
        if top > 1.0 - UNSAT_TOL or (L == 1 and alpha > gardner_capacity(margin)):
            return "unsat"
    return "converged" if ok else "not_converged"


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

    ``status``: "converged", "not_converged" (the iteration stopped at ``max_iter``) or
    "unsat" (random I/O beyond capacity, e.g. L = 1 and α > α_c(κ): the overlaps run to 1 and
    the free entropy diverges; ``f`` is then the value at the numerical cut-off, not a free
    entropy). ``converged`` is True only for "converged".
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
    status: str = "converged"


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


def eps_g_forward(Q: Sequence[float] | np.ndarray, q_test0: float = 1.0) -> float:
    """Teacher–student ε_g by forward propagation of a fresh input (§5.4):
    ρ_l = Q_l q^test_{l−1}, q^test_l = (2/π) arcsin ρ_l, ε_g = arccos(ρ_L)/π.

    ``q_test0`` is the input overlap (1: the student sees the teacher's input). Since
    (2/π) arcsin x ≤ x on [0, 1], every layer with Q_l < 1 contracts the overlap; a liquid layer
    (Q_l = 0) gives ε_g = ½ (§4.2 tension, docs/replica.md).
    """
    qt = float(q_test0)
    rho = qt
    for Ql in np.asarray(Q, dtype=np.float64):  # loop over layers
        rho = float(np.clip(Ql * qt, -1.0, 1.0))
        qt = (2 / np.pi) * np.arcsin(rho)
    return float(np.arccos(rho) / np.pi)


_eps_g_forward = eps_g_forward  # backwards-compatible private name


@dataclass(frozen=True)
class _ChainMap:
    """The undamped fixed-point map of one chain (closure, scenario, α) on a packed state.

    ``liquid``: boolean mask over neuron layers 0..L whose order parameters are held at zero
    (the liquid beyond a front, §3.8); ``masked`` returns the map with that constraint and
    ``full`` without it (used for the Jacobian / instability of the liquid-beyond-front point).
    """

    L: int
    alpha: float
    closure: str
    full: Callable[[np.ndarray], np.ndarray]
    keep: np.ndarray  # 1.0 where the state component is free, 0.0 where held liquid
    lo: np.ndarray
    hi: np.ndarray

    def masked(self, x: np.ndarray) -> np.ndarray:
        return self.full(x) * self.keep


def _field_array(L: int, field: float | Sequence[float]) -> np.ndarray:
    h = np.asarray(field, dtype=np.float64)
    if h.ndim == 0:
        h = np.full(L - 1, float(h))
    if h.shape != (L - 1,) or np.any(h < 0) or not np.all(np.isfinite(h)):
        raise InputError(f"field must be >= 0, a number or {L - 1} values (neuron layers 1..L-1)")
    return h


def _map_A(L, alpha, scenario, margin, field, liquid) -> tuple[_ChainMap, tuple]:
    wf, nf, gf = factors(scenario, margin)
    h = _field_array(L, field)

    def gmap(x: np.ndarray) -> np.ndarray:
        Q, q = x[:L], np.concatenate([[1.0], x[L:], [1.0]])
        p = q[:-1] * Q * q[1:]
        d = gf.dG(p)
        Qn = wf.Q_of(-alpha * q[:-1] * q[1:] * d)
        psi = -(q[:-2] * Q[:-1] * d[:-1] + Q[1:] * q[2:] * d[1:])
        qn = nf.q_of(nf.qhat_of(psi) + h)
        return np.concatenate([Qn, qn])

    keep = np.ones(2 * L - 1)
    if liquid is not None:
        keep[L:] = ~liquid[1:-1]
        keep[:L] = ~(liquid[:-1] | liquid[1:])
    lo, hi = np.zeros(2 * L - 1), np.full(2 * L - 1, CLIP)
    return _ChainMap(L, alpha, "A", gmap, keep, lo, hi), (wf, nf, gf, h)


def _map_B(L, alpha, margin, liquid) -> _ChainMap:
    def gmap(x: np.ndarray) -> np.ndarray:
        Q, q, qh = x[:L], np.concatenate([[1.0], x[L : 2 * L - 1]]), x[2 * L - 1 :]
        p = q * Q
        dgb = sp.dG_B(p[:-1], qh) if L > 1 else np.zeros(0)
        dlast = sp.dG(p[-1:], margin)
        dd = np.concatenate([dgb, dlast])
        Qn = _Q_random(-alpha * q * dd)
        qhn = -2 * Q[1:] * dd[1:]
        qn = sp.q_B(p[:-1], np.maximum(qh, 0.0)) if L > 1 else np.zeros(0)
        return np.concatenate([Qn, qn, np.maximum(qhn, 0.0)])

    keep = np.ones(3 * L - 2)
    if liquid is not None:
        keep[L : 2 * L - 1] = ~liquid[1:-1]
        keep[2 * L - 1 :] = ~liquid[1:-1]
        keep[:L] = ~(liquid[:-1] | liquid[1:])
    lo = np.zeros(3 * L - 2)
    hi = np.concatenate([np.full(2 * L - 1, CLIP), np.full(L - 1, np.inf)])
    return _ChainMap(L, alpha, "B", gmap, keep, lo, hi)


def _liquid_mask(L: int, liquid: Sequence[int] | None) -> np.ndarray | None:
    if liquid is None:
        return None
    mask = np.zeros(L + 1, dtype=bool)
    idx = np.asarray(list(liquid), dtype=int)
    if idx.size and (idx.min() < 1 or idx.max() > L - 1):
        raise InputError(f"liquid must list neuron layers in 1..{L - 1}, got {idx.tolist()}")
    mask[idx] = True
    return mask


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
    liquid: Sequence[int] | None = None,
    field: float | Sequence[float] = 0.0,
) -> RSSolution:
    """RS saddle point of the L-layer chain at one α (§3.5–3.7).

    ``init`` continues from a previous solution (continuation in α); every order parameter
    starts at least at ``seed`` so that a newly unstable layer can grow (§3.10 step 4: the
    liquid is an exact fixed point and does not move by itself). A stable liquid layer decays
    back to 0 from the seed.

    ``liquid``: neuron layers (1..L−1) held exactly liquid (q = q̂ = 0, and the weights of the
    adjacent perceptrons follow): the "liquid beyond the front" fixed point of §3.8, whose
    instability :func:`stability_margin` measures. ``field``: teacher scenario only, a
    symmetry-breaking field h_b ≥ 0 on the neuron layers 1..L−1 (scalar or one value per layer),
    modelled as a Nishimori side channel of strength h_b (q = E tanh(q̂ + h + √(q̂ + h) z),
    spec §8 item 4, docs/replica.md).
    """
    L = check_int("L", L)
    alpha = check_positive("alpha", alpha)
    check_choice("scenario", scenario, SCENARIOS)
    check_choice("closure", closure, CLOSURES)
    margin = check_positive("margin", margin, allow_zero=True)
    mask = _liquid_mask(L, liquid)
    h_any = np.any(np.asarray(field, dtype=np.float64) != 0)
    if h_any and scenario != "teacher":
        raise InputError("field (symmetry-breaking side channel) is for the teacher scenario only")
    if closure == "B":
        if scenario != "random":
            raise InputError(
                "closure B is implemented for the random scenario only (spec §3.7: the "
                "teacher–student version of B is not derived there); use closure A"
            )
        if h_any:
            raise InputError("field is implemented for closure A only")
        cmap = _map_B(L, alpha, margin, mask)
        return _solve_B(L, alpha, margin, init, seed, tol, max_iter, damping, cmap)
    cmap, (wf, nf, gf, h) = _map_A(L, alpha, scenario, margin, field, mask)

    if init is not None and init.L == L and init.closure == "A":
        x0 = np.concatenate([init.Q, init.q[1:-1]])
    else:
        x0 = np.zeros(2 * L - 1)
    x0 = np.maximum(x0, seed) * cmap.keep
    x, res, it, ok = _anderson(
        cmap.masked, x0, cmap.lo, cmap.hi, tol=tol, max_iter=max_iter, damping=damping
    )
    Q, q = x[:L], np.concatenate([[1.0], x[L:], [1.0]])
    p = q[:-1] * Q * q[1:]
    d = gf.dG(p)
    psi = -(q[:-2] * Q[:-1] * d[:-1] + Q[1:] * q[2:] * d[1:])
    qhat = nf.qhat_of(psi)
    # free entropy; a side channel h contributes s(q, q̂ + h) + h q/2 (its normalization removed)
    s_int = nf.entropy(q[1:-1], qhat + h) + (h * q[1:-1] / 2 if scenario == "teacher" else 0.0)
    f = float(wf.entropy(Q).sum() + alpha * np.sum(s_int) + alpha * gf.G(p).sum())
    eps = eps_g_forward(Q) if scenario == "teacher" else None
    info = {"liquid": [] if liquid is None else sorted(int(v) for v in liquid)}
    if h_any:
        info["field"] = h.tolist()
    status = solution_status(scenario, L, alpha, margin, q, Q, ok)
    return RSSolution(
        L,
        alpha,
        scenario,
        "A",
        margin,
        q,
        Q,
        qhat,
        f,
        status == "converged",
        res,
        it,
        eps,
        info,
        status,
    )


def _solve_B(
    L: int,
    alpha: float,
    margin: float,
    init: RSSolution | None,
    seed: float,
    tol: float,
    max_iter: int,
    damping: float,
    cmap: _ChainMap,
) -> RSSolution:
    """Closure B, random I/O (§3.7): state (Q_1..L, q_1..L−1, q̂_1..L−1)."""
    if init is not None and init.L == L and init.closure == "B":
        x0 = np.concatenate([init.Q, init.q[1:-1], init.qhat])
    else:
        x0 = np.zeros(3 * L - 2)
    x0 = np.maximum(x0, seed) * cmap.keep
    x, res, it, ok = _anderson(
        cmap.masked, x0, cmap.lo, cmap.hi, tol=tol, max_iter=max_iter, damping=damping
    )
    Q, q, qh = x[:L], np.concatenate([[1.0], x[L : 2 * L - 1]]), x[2 * L - 1 :]
    p = q * Q
    f = float(
        sp.w_rs(Q).sum()
        + alpha * (qh * (q[1:] - 1) / 2 + (sp.G_B(p[:-1], qh) if L > 1 else 0.0)).sum()
        + alpha * sp.G(p[-1:], margin).sum()
    )
    q_full = np.concatenate([q, [1.0]])
    status = solution_status("random", L, alpha, margin, q_full, Q, ok)
    conv = status == "converged"
    return RSSolution(
        L, alpha, "random", "B", margin, q_full, Q, qh, f, conv, res, it, None, {}, status
    )


def _state(sol: RSSolution) -> np.ndarray:
    if sol.closure == "B":
        return np.concatenate([sol.Q, sol.q[1:-1], sol.qhat])
    return np.concatenate([sol.Q, sol.q[1:-1]])


def jacobian(sol: RSSolution, h: float = 1e-7) -> np.ndarray:
    """Jacobian of the undamped fixed-point map at ``sol`` (forward differences, positive
    steps so that liquid components stay inside the physical box), §3.8, §6.1 item 2."""
    if sol.closure == "B":
        cmap = _map_B(sol.L, sol.alpha, sol.margin, None)
    else:
        cmap, _ = _map_A(
            sol.L, sol.alpha, sol.scenario, sol.margin, sol.info.get("field", 0.0), None
        )
    x = _state(sol)
    g0 = cmap.full(x)
    n = x.size
    steps = np.where(x + h < cmap.hi, h, -h)
    J = np.empty((n, n))
    for j in range(n):  # one map evaluation per state component
        xp = x.copy()
        xp[j] += steps[j]
        J[:, j] = (cmap.full(xp) - g0) / steps[j]
    return J


def stability_margin(sol: RSSolution) -> float:
    """1 − max Re eig(Jacobian): > 0 when ``sol`` is a stable fixed point of the undamped map,
    < 0 past an instability (the onset of a new frozen layer when ``sol`` holds the liquid
    beyond a front)."""
    ev = np.linalg.eigvals(jacobian(sol))
    return float(1.0 - np.max(ev.real))


def solve_path(
    L: int,
    alphas: ArrayLike,
    *,
    scenario: str = "random",
    closure: str = "A",
    margin: float = 0.0,
    **kw,
) -> list[RSSolution]:
    """Continuation in α (sorted ascending), each solve seeded by the previous solution."""
    out: list[RSSolution] = []
    prev = None
    for a in np.sort(np.asarray(alphas, dtype=np.float64).ravel()):  # sequential by nature
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
            "status": ("alpha", np.array([s.status for s in sols], dtype=str)),
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
