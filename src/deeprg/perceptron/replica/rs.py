"""Replica-symmetric saddle points of the layered chain (docs/theory/perceptron.md §3.5–3.8).

L counts **weight layers**; neuron layers are l = 0..L with q_0 = q_L = 1 (clamped inputs and
outputs). Order parameters: Q_l (weights, l = 1..L) and q_l (neurons, l = 0..L).

RS is the k = 0 case of the chain of :mod:`deeprg.perceptron.replica.chain`: the same factors
(:mod:`deeprg.perceptron.replica.factors`, RS fast path), the same assembly for both closures
and both scenarios, the same fixed-point solver as the k-RSB inner saddle. For closure A the
stationarity conditions read

    w'(Q_l) = −α q_{l−1} q_l G'(p_l)                                   (A1 / T1)
    s'(q_l) = −[q_{l−1} Q_l G'(p_l) + Q_{l+1} q_{l+1} G'(p_{l+1})]         (A2 / T2)

with w, s, G_κ for random I/O (n → 0) and w_TS, s_TS, G_TS for teacher–student (Nishimori).
This module adds what is specific to RS: continuation in α with a seed floor, the liquid held
beyond a front, the teacher side channel, the Jacobian of the map and the solution status.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from deeprg.errors import InputError, check_choice, check_int, check_positive
from deeprg.perceptron.replica.chain import (
    CLOSURES,
    SCENARIOS,
    Chain,
    FixedPoint,
    SolverOptions,
    solve_fixed_point,
)

SEED = 1e-2  # floor put under interior order parameters before each solve (§3.10 step 4)
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


def _liquid_mask(L: int, liquid: Sequence[int] | None) -> np.ndarray | None:
    if liquid is None:
        return None
    mask = np.zeros(L + 1, dtype=bool)
    idx = np.asarray(list(liquid), dtype=int)
    if idx.size and (idx.min() < 1 or idx.max() > L - 1):
        raise InputError(f"liquid must list neuron layers in 1..{L - 1}, got {idx.tolist()}")
    mask[idx] = True
    return mask


def _field_array(L: int, field: float | Sequence[float]) -> np.ndarray:
    h = np.asarray(field, dtype=np.float64)
    if h.ndim == 0:
        h = np.full(L - 1, float(h))
    if h.shape != (L - 1,) or np.any(h < 0) or not np.all(np.isfinite(h)):
        raise InputError(f"field must be >= 0, a number or {L - 1} values (neuron layers 1..L-1)")
    return h


def rs_start(chain: Chain, init: Any, seed: float) -> np.ndarray:
    """Start of an RS solve: ``init``'s order parameters (an RS solution of the same L and
    closure, or the top Parisi level of an RSB solution) floored at ``seed``, else ``seed``
    everywhere (§3.10 step 4: the liquid is an exact fixed point and does not move by itself)."""
    L = chain.L
    z0 = np.zeros(chain.size)
    if init is not None and init.L == L:
        if isinstance(init, RSSolution):
            if init.closure == chain.closure:
                z0 = _state(init)
        else:  # an RSB solution: its top level (closure A)
            z0 = chain.pack(init.Q[:, -1], init.q[:, -1])
    return np.maximum(z0, seed) * chain.keep


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
    """RS saddle point of the L-layer chain at one α (§3.5–3.7): the k = 0 case of the chain
    solver (:class:`~deeprg.perceptron.replica.chain.Chain`,
    :func:`~deeprg.perceptron.replica.chain.solve_fixed_point`).

    ``init`` continues from a previous solution (continuation in α); every order parameter
    starts at least at ``seed`` so that a newly unstable layer can grow (§3.10 step 4: the
    liquid is an exact fixed point and does not move by itself). A stable liquid layer decays
    back to 0 from the seed.

    ``liquid``: neuron layers (1..L−1) held exactly liquid (q = q̂ = 0, and the weights of the
    adjacent perceptrons follow): the "liquid beyond the front" fixed point of §3.8, whose
    instability :func:`stability_margin` measures. ``field``: teacher scenario only, a
    symmetry-breaking field h_b ≥ 0 on the neuron layers 1..L−1 (scalar or one value per layer),
    modelled as a Nishimori side channel of strength h_b (q = E tanh(q̂ + h + √(q̂ + h) z),
    docs/replica.md).
    """
    L = check_int("L", L)
    alpha = check_positive("alpha", alpha)
    check_choice("scenario", scenario, SCENARIOS)
    check_choice("closure", closure, CLOSURES)
    margin = check_positive("margin", margin, allow_zero=True)
    mask = _liquid_mask(L, liquid)
    h_any = bool(np.any(np.asarray(field, dtype=np.float64) != 0))
    if h_any and scenario != "teacher":
        raise InputError("field (symmetry-breaking side channel) is for the teacher scenario only")
    h = _field_array(L, field)
    chain = Chain(L, alpha, scenario=scenario, closure=closure, margin=margin, field=h, liquid=mask)
    opts = SolverOptions(tol=tol, max_iter=max_iter, damping=damping)
    fp = solve_fixed_point(chain, rs_start(chain, init, seed), X0, opts)
    return _rs_solution(chain, fp, liquid, h_any)


X0 = np.zeros(0)  # RS: no breakpoints


def _rs_solution(
    chain: Chain, fp: FixedPoint, liquid: Sequence[int] | None, h_any: bool
) -> RSSolution:
    L, alpha, scenario = chain.L, chain.alpha, chain.scenario
    Q2, q2, _ = chain.unpack(fp.z)
    qh2 = chain.solved_qhat(fp.z, X0)
    f = chain.free_entropy(Q2, q2, qh2, X0)
    Q, q, qhat = Q2[:, 0], q2[:, 0], qh2[:, 0]
    eps = eps_g_forward(Q) if scenario == "teacher" else None
    info: dict = {}
    if chain.closure == "A":
        info["liquid"] = [] if liquid is None else sorted(int(v) for v in liquid)
    if h_any:
        info["field"] = chain.h.tolist()
    status = solution_status(scenario, L, alpha, chain.margin, q, Q, fp.converged)
    return RSSolution(
        L,
        alpha,
        scenario,
        chain.closure,
        chain.margin,
        q,
        Q,
        qhat,
        f,
        status == "converged",
        fp.residual,
        fp.iterations,
        eps,
        info,
        status,
    )


def _state(sol: RSSolution) -> np.ndarray:
    if sol.closure == "B":
        return np.concatenate([sol.Q, sol.q[1:-1], sol.qhat])
    return np.concatenate([sol.Q, sol.q[1:-1]])


def rs_chain(sol: RSSolution, liquid: np.ndarray | None = None) -> Chain:
    """The chain (k = 0) whose fixed point ``sol`` is."""
    return Chain(
        sol.L,
        sol.alpha,
        scenario=sol.scenario,
        closure=sol.closure,
        margin=sol.margin,
        field=_field_array(sol.L, sol.info.get("field", 0.0)),
        liquid=liquid,
    )


def jacobian(sol: RSSolution, h: float = 1e-7) -> np.ndarray:
    """Jacobian of the undamped fixed-point map at ``sol`` (forward differences, positive
    steps so that liquid components stay inside the physical box), §3.8, §6.1 item 2."""
    chain = rs_chain(sol)
    x = _state(sol)
    g0 = chain.step(x, X0)
    n = x.size
    steps = np.where(x + h < chain.hi, h, -h)
    J = np.empty((n, n))
    for j in range(n):  # one map evaluation per state component
        xp = x.copy()
        xp[j] += steps[j]
        J[:, j] = (chain.step(xp, X0) - g0) / steps[j]
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
