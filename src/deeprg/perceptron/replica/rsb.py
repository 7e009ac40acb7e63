"""k-step RSB of the layered chain, closure A, random inputs/outputs
(docs/theory/perceptron.md §3.9).

Parisi ansatz with breakpoints 0 = x_0 < x_1 < … < x_k < x_{k+1} = 1 **shared by all layers**;
per layer l the values q_0(l) ≤ … ≤ q_k(l) (neurons, l = 0..L, q_i(0) = q_i(L) = 1),
Q_0(l) ≤ … ≤ Q_k(l) (weights, l = 1..L) and the conjugates q̂_i(l). The gap overlap is the
elementwise product p_i(l) = q_i(l−1) Q_i(l) q_i(l) (§3.9).

The chain is the one of :mod:`deeprg.perceptron.replica.chain` at level k (the factors of
:mod:`deeprg.perceptron.replica.factors`, their Parisi recursions); RS is its k = 0 case and
``solve_rsb(k=0)`` *is* :func:`~deeprg.perceptron.replica.rs.solve_rs`. Stationarity (derived from
the Parisi recursions; (A1)–(A3) of §3.5 for k = 0): every recursion of the form
φ_j(y) = x_j⁻¹ ln E_t exp[x_j φ_{j+1}(y + √Δ_j t)] has ∂φ_0/∂(level-i value) = −½ (x_{i+1} − x_i) M_i
with M_i = E_{ν_i}[(∂_y φ_{i+1})²]. Hence, with C_i(l) = α q_i(l−1) q_i(l) M_i(l):

    (Q⁻¹(l))_i = −C_i(l)                                   (weights; solved by Parisi algebra)
    q̂_i(l) = q_i(l−1) Q_i(l) M_i(l) + Q_i(l+1) q_i(l+1) M_i(l+1)
    q_i(l) = M̂_i(q̂(l))                                     (Ising recursion, φ_{k+1} = ln 2cosh)

The breakpoints solve ∂f/∂x_i = 0 (:func:`solve_breakpoints`: a pure function of the
breakpoints and an explicit start; brentq for k = 1, ``scipy.optimize.root`` (hybr) for k ≥ 2).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize, special

from deeprg.errors import InputError, check_int, check_positive
from deeprg.perceptron.replica.chain import (
    RSB_OPTIONS,
    Chain,
    FixedPoint,
    SolverOptions,
    solve_fixed_point,
)
from deeprg.perceptron.replica.factors import DEFAULT_NODES
from deeprg.perceptron.replica.rs import (
    RSSolution,
    gardner_capacity,
    rs_start,
    solution_status,
)

SEED = 1e-2


def _check_x(x: ArrayLike, k: int) -> np.ndarray:
    xa = np.asarray(x, dtype=np.float64).reshape(-1)
    if len(xa) != k:
        raise InputError(f"x must hold k = {k} breakpoints, got {len(xa)}")
    if k and (np.any(xa <= 0) or np.any(xa > 1) or np.any(np.diff(xa) <= 0)):
        raise InputError(f"breakpoints x must satisfy 0 < x_1 < ... < x_k <= 1, got {xa.tolist()}")
    return xa


@dataclass(frozen=True)
class RSBSolution:
    """k-RSB saddle point of the chain (closure A, random I/O) at one α, with diagnostics.

    Arrays have a trailing ``level`` axis i = 0..k: ``q`` (L+1, k+1) on neuron layers 0..L,
    ``Q`` (L, k+1) on weight layers 1..L, ``qhat`` (L−1, k+1); ``x`` the k shared breakpoints.
    ``levels`` (L+1,): number of distinct non-zero Parisi values of q(x, l) per neuron layer.
    ``f`` is the free entropy per N c (liquid: −α ln 2). ``converged`` covers the inner saddle
    and the breakpoint equations (``dfdx``). ``status``: "converged", "not_converged" or
    "unsat" (L = 1 beyond Gardner's capacity α_c(κ), where the solution space is empty).
    """

    L: int
    alpha: float
    k: int
    margin: float
    x: np.ndarray
    q: np.ndarray
    Q: np.ndarray
    qhat: np.ndarray
    f: float
    dfdx: np.ndarray
    levels: np.ndarray
    converged: bool
    residual: float
    iterations: int
    info: dict = field(default_factory=dict)
    status: str = "converged"

    def parisi_function(self, xs: np.ndarray, which: str = "q") -> np.ndarray:
        """q(x, l) (or Q(x, l)) on the points ``xs``: step function, shape (len(xs), layers)."""
        arr = self.q if which == "q" else self.Q
        idx = np.searchsorted(self.x, np.asarray(xs), side="right")
        return arr[:, idx].T


def count_levels(q: np.ndarray, tol: float = 1e-4) -> np.ndarray:
    """Number of distinct non-zero Parisi values per row of q (…, k+1) (hierarchy depth)."""
    q = np.asarray(q)
    nz = q > tol
    new = np.concatenate([nz[..., :1], (np.diff(q, axis=-1) > tol) & nz[..., 1:]], axis=-1)
    return new.sum(-1)


# ---------------------------------------------------------------------- starts


@dataclass(frozen=True)
class Start:
    """An explicit start of the inner saddle: the packed order parameters ``z`` and whether
    they are an RSB profile (``warm``: a previous k-RSB solution) rather than a level spread of
    an RS-like profile."""

    z: np.ndarray
    warm: bool


def _spread(Q: np.ndarray, q: np.ndarray, k: int, seed: float) -> tuple[np.ndarray, np.ndarray]:
    """Level-spread start from a top-level (RS-like) profile: level i gets the fraction
    0.3 + 0.7 i/k of it (top level raised by 10 %), every value at least ``seed``·(i+1)/(k+1),
    so that replica symmetry breaking can develop (the RS branch is a fixed point too)."""
    K1 = k + 1
    frac = 0.3 + 0.7 * np.arange(K1) / max(k, 1) if k else np.ones(1)
    frac[-1] = 1.1 if k else 1.0
    ramp = seed * np.arange(1, K1 + 1) / K1
    Q0 = np.clip(np.maximum(Q[:, None] * frac, ramp), 0.0, 0.999)
    q0 = np.clip(np.maximum(q[:, None] * frac, ramp), 0.0, 0.999)
    q0 = np.maximum.accumulate(q0, axis=-1)
    Q0 = np.maximum.accumulate(Q0, axis=-1)
    q0[0] = q0[-1] = 1.0
    return Q0, q0


def floored_start(chain: Chain, Q: np.ndarray, q: np.ndarray, seed: float) -> Start:
    """A warm start from an RSB profile, every level i floored at ``seed``·(i+1)/(k+1) so that
    a level that is unstable at zero can grow (the liquid and the q_i = 0 subspaces are exact
    fixed sets of the map: a level that starts at 0, or at a 10⁻³⁰ remnant, stays there)."""
    ramp = seed * np.arange(1, chain.K1 + 1) / chain.K1
    Q0 = np.maximum.accumulate(np.maximum(Q, ramp), axis=-1)
    q0 = np.maximum.accumulate(np.maximum(q, ramp), axis=-1)
    return Start(chain.pack(Q0, q0), True)


def rsb_start(chain: Chain, init: RSBSolution | RSSolution | None, seed: float) -> Start:
    """The start policy of :func:`solve_rsb`: an RSB solution of the same L and k is used as
    it is, floored level by level at ``seed``·(i+1)/(k+1) (newly unstable layers can grow);
    any other ``init`` (RS, or another k) contributes its top-level profile, spread over the
    levels (:func:`_spread`); no ``init``: the spread of the liquid."""
    L, k = chain.L, chain.k
    if isinstance(init, RSBSolution) and init.L == L and init.k == k:
        return floored_start(chain, init.Q, init.q, seed)
    if init is not None and init.L == L:
        top_Q = init.Q[:, -1] if isinstance(init, RSBSolution) else init.Q
        top_q = init.q[:, -1] if isinstance(init, RSBSolution) else init.q
        return Start(chain.pack(*_spread(top_Q, top_q, k, seed)), False)
    return Start(chain.pack(*_spread(np.zeros(L), np.zeros(L + 1), k, seed)), False)


def _collapsed(Q: np.ndarray, q: np.ndarray, tol: float = 1e-7) -> bool:
    """True when every layer has equal Parisi levels but some layer is frozen (RS branch)."""
    frozen = max(Q[:, -1].max(), q[1:-1, -1].max() if len(q) > 2 else 0.0) > 1e-6
    spread = max(np.ptp(Q, axis=-1).max(), np.ptp(q, axis=-1).max())
    return bool(frozen and spread < tol)


def _saturated_q(q: np.ndarray) -> bool:
    return bool(len(q) > 2 and np.max(q[1:-1, -1]) > 1 - 1e-6)


# ---------------------------------------------------------------------- inner saddle at fixed x


@dataclass(frozen=True)
class InnerSaddle:
    """The saddle point at fixed breakpoints: order parameters, conjugates and diagnostics."""

    x: np.ndarray
    Q: np.ndarray
    q: np.ndarray
    qhat: np.ndarray
    residual: float
    iterations: int
    converged: bool


def inner_saddle(
    chain: Chain, x: np.ndarray, start: Start, seed: float = SEED, opts: SolverOptions = RSB_OPTIONS
) -> InnerSaddle:
    """Saddle point at fixed breakpoints ``x`` from the explicit ``start``: a pure function of
    its arguments. A warm start (an RSB profile) that falls back onto the RS branch is restarted
    once from the level spread of the collapsed profile."""
    fp: FixedPoint = solve_fixed_point(chain, start.z, x, opts)
    its = fp.iterations
    Q, q, _ = chain.unpack(fp.z)
    if chain.k and start.warm and _collapsed(Q, q):
        z1 = chain.pack(*_spread(Q[:, -1], q[:, -1], chain.k, seed))
        fp = solve_fixed_point(chain, z1, x, opts)
        its += fp.iterations
        Q, q, _ = chain.unpack(fp.z)
    return InnerSaddle(x, Q, q, chain.solved_qhat(fp.z, x), fp.residual, its, fp.converged)


# ---------------------------------------------------------------------- breakpoints


@dataclass(frozen=True)
class Breakpoints:
    """Result of :func:`solve_breakpoints`: the saddle at the solved x, ∂f/∂x there, whether
    the breakpoint equations were solved, and the inner iterations of every trial x."""

    saddle: InnerSaddle
    dfdx: np.ndarray
    converged: bool
    iterations: int


class BreakpointEquations:
    """F(x) = ∂f/∂x at the inner saddle of ``chain`` started from the fixed ``start``.

    F is a pure function of x (every trial starts from ``start``, see
    :func:`solve_breakpoints`); calls are memoized per x, which is exact for a pure function and
    saves the re-solves of bracket ends and of the final point.
    """

    def __init__(
        self, chain: Chain, start: Start, seed: float = SEED, opts: SolverOptions = RSB_OPTIONS
    ):
        self.chain, self.start, self.seed, self.opts = chain, start, seed, opts
        self._cache: dict[tuple[float, ...], tuple[InnerSaddle, np.ndarray]] = {}

    def __call__(self, x: np.ndarray) -> tuple[InnerSaddle, np.ndarray]:
        key = tuple(float(v) for v in np.ravel(x))
        if key not in self._cache:
            s = inner_saddle(self.chain, np.array(key), self.start, self.seed, self.opts)
            d = self.chain.dfdx(s.Q, s.q, s.qhat, s.x)
            for arr in (s.x, s.Q, s.q, s.qhat, d):  # cached values are shared: read-only
                arr.flags.writeable = False
            self._cache[key] = (s, d)
        return self._cache[key]

    @property
    def iterations(self) -> int:
        """Inner fixed-point iterations over all distinct x evaluated so far."""
        return sum(s.iterations for s, _ in self._cache.values())


def solve_breakpoints(
    chain: Chain,
    x0: np.ndarray,
    start: Start,
    *,
    x_tol: float = 1e-6,
    seed: float = SEED,
    opts: SolverOptions = RSB_OPTIONS,
) -> Breakpoints:
    """Roots of ∂f/∂x_i = 0 (§3.9 item 4), a pure function of (chain, x0, start).

    **Warm-start policy.** Every trial breakpoint vector x starts the inner fixed-point
    iteration from the same explicit ``start`` (:func:`solve_rsb` passes the saddle at the
    starting breakpoints x0, every level floored at seed·(i+1)/(k+1): :func:`floored_start`),
    never from the solution at a previously tried x, so F(x) = ∂f/∂x at the inner saddle is a
    function of x alone and the root search does not depend on the order of its evaluations;
    the only restart is :func:`inner_saddle`'s (a warm start that collapsed onto the RS branch
    restarts once from its level spread). F is memoized per x (:class:`BreakpointEquations`).
    (A history-dependent start — the previous trial's solution — let a level that had
    collapsed to a 10⁻³⁰ remnant at one x stay there at the next x even where q_i = 0 is
    unstable; the floor lets such a level grow.)

    k = 1: bracket from x0 by geometric steps in the descending direction of f (the breakpoint
    *minimizes* f at fixed saddle values: n → 0 inverts the extremum, as in Parisi's SK
    solution), then ``scipy.optimize.brentq``; a trial whose saddle runs into the q = Q = 1
    corner counts as undefined (NaN) and shortens the step. k ≥ 2:
    ``scipy.optimize.root(method="hybr")`` in unconstrained stick-breaking coordinates u
    (x_i = x_{i−1} + (1 − x_{i−1}) expit(u_i)), forward-difference Jacobian with step
    10⁻³ |u_i|.
    """
    return find_breakpoints(BreakpointEquations(chain, start, seed, opts), x0, x_tol)


def find_breakpoints(eqs: BreakpointEquations, x0: np.ndarray, x_tol: float) -> Breakpoints:
    """:func:`solve_breakpoints` on given (possibly already evaluated) equations."""
    if len(x0) == 1:
        xr, ok = _bracket_root(eqs, float(x0[0]), x_tol)
    else:
        xr, ok = _hybr_root(eqs, x0, x_tol)
    s, d = eqs(xr)
    ok = ok and bool(np.all(np.isfinite(d))) and not _saturated_q(s.q)
    return Breakpoints(s, d, ok, eqs.iterations)


def _bracket_root(
    evaluate: Callable[[np.ndarray], tuple[InnerSaddle, np.ndarray]], x0: float, x_tol: float
) -> tuple[np.ndarray, bool]:
    lo_x, hi_x = 1e-3, 1.0 - 1e-6

    def F(xv: float) -> float:
        s, d = evaluate(np.array([xv]))
        if _saturated_q(s.q):
            return float("nan")  # inner saddle ran into the q = Q = 1 corner
        return float(d[0])

    x_a, f_a = x0, F(x0)
    if abs(f_a) < 1e-12:
        return np.array([x_a]), True
    direction = -1.0 if f_a > 0 else 1.0  # ∂f/∂x > 0 → move x down, and vice versa
    step = 0.05
    x_b, f_b = x_a, f_a
    for _ in range(60):  # bracket search (bounded)
        x_new = float(np.clip(x_b + direction * step, lo_x, hi_x))
        if x_new == x_b:
            break
        f_new = F(x_new)
        if not np.isfinite(f_new):
            step *= 0.4
            if step < 1e-4:
                break
            continue
        if np.sign(f_new) != np.sign(f_b):
            x_a, f_a = x_b, f_b
            lo, hi = sorted((x_a, x_new))
            try:
                xr = optimize.brentq(F, lo, hi, xtol=x_tol, rtol=1e-10)
            except ValueError:  # the inner saddle switched branch inside the bracket
                return np.array([x_new if abs(f_new) < abs(f_a) else x_a]), False
            return np.array([xr]), True
        x_b, f_b = x_new, f_new
        step *= 1.5
    return np.array([x_b]), False


def _hybr_root(
    evaluate: Callable[[np.ndarray], tuple[InnerSaddle, np.ndarray]], x0: np.ndarray, x_tol: float
) -> tuple[np.ndarray, bool]:
    def G(u: np.ndarray) -> np.ndarray:
        return evaluate(_x_from_u(u))[1].copy()  # MINPACK reuses the returned array

    sol = optimize.root(
        G, _u_from_x(x0), method="hybr", options={"xtol": x_tol, "eps": 1e-6, "factor": 1.0}
    )
    xr = _x_from_u(sol.x)
    d = evaluate(xr)[1]
    return xr, bool(np.max(np.abs(d)) < 1e-7 or (sol.success and np.max(np.abs(d)) < 1e-5))


def _x_from_u(u: np.ndarray) -> np.ndarray:
    """Unconstrained u → 0 < x_1 < … < x_k < 1 (stick breaking)."""
    s = special.expit(u)
    x = np.empty_like(s)
    prev = 0.0
    for i, si in enumerate(s):  # breakpoints
        x[i] = prev + (1 - prev) * si
        prev = x[i]
    return x


def _u_from_x(x: np.ndarray) -> np.ndarray:
    u = np.empty_like(x)
    prev = 0.0
    for i, xi in enumerate(x):
        u[i] = special.logit((xi - prev) / (1 - prev))
        prev = xi
    return u


# ---------------------------------------------------------------------- public solver


def solve_rsb(
    L: int,
    alpha: float,
    k: int = 1,
    *,
    x: ArrayLike | None = None,
    optimize_x: bool = True,
    margin: float = 0.0,
    init: RSBSolution | RSSolution | None = None,
    seed: float = SEED,
    nodes: Sequence[int] | None = None,
    tol: float = 1e-10,
    x_tol: float = 1e-6,
    max_iter: int = 4000,
    damping: float = 0.5,
) -> RSBSolution:
    """k-RSB saddle point (k = 0..3) of the chain, closure A, random I/O (§3.9).

    Starts, explicit at every stage: ``init`` (an RS or RSB solution at a nearby α) gives the
    start of the saddle at the starting breakpoints (:func:`rsb_start`); ``x`` fixes those
    breakpoints (default evenly spaced, or those of ``init``). With ``optimize_x`` the
    breakpoints then solve ∂f/∂x_i = 0 (:func:`solve_breakpoints`), every trial x starting
    from that first saddle floored at ``seed``·(i+1)/(k+1) (:func:`floored_start`). k = 0 is
    the RS chain: :func:`~deeprg.perceptron.replica.rs.solve_rs`'s solver (RS fast path, start
    from ``init``'s top level floored at ``seed``), returned as an RSBSolution.
    """
    L = check_int("L", L)
    alpha = check_positive("alpha", alpha)
    k = check_int("k", k, minimum=0, maximum=3)
    margin = check_positive("margin", margin, allow_zero=True)
    nodes = tuple(nodes) if nodes is not None else DEFAULT_NODES[k]
    if len(nodes) < k + 1:
        raise InputError(f"nodes must give one Gauss–Hermite order per level ({k + 1})")
    chain = Chain(L, alpha, k=k, margin=margin, nodes=nodes)
    opts = SolverOptions(
        tol=tol, max_iter=max_iter, damping=damping, n_plain=60, retry_saturated=True
    )
    K1 = k + 1
    if x is None:
        x = init.x if isinstance(init, RSBSolution) and init.k == k else np.arange(1, K1) / K1
    xs = _check_x(x, k)
    start = Start(rs_start(chain, init, seed), False) if k == 0 else rsb_start(chain, init, seed)
    eqs = BreakpointEquations(chain, start, seed, opts)
    s, d = eqs(xs)
    x_ok, iterations = True, eqs.iterations
    trivial = max(np.ptp(s.Q, axis=-1).max(), np.ptp(s.q, axis=-1).max()) < 1e-7
    if k and optimize_x and not trivial:
        # every trial x starts from the saddle at the starting breakpoints, seed-floored
        trials = BreakpointEquations(chain, floored_start(chain, s.Q, s.q, seed), seed, opts)
        bp = find_breakpoints(trials, xs, x_tol)
        s, d, x_ok = bp.saddle, bp.dfdx, bp.converged
        iterations += bp.iterations
    f = chain.free_entropy(s.Q, s.q, s.qhat, s.x)
    ok = bool(s.converged and x_ok)
    if k == 0:  # RS: the RS status (unsat where the overlaps ran to 1)
        status = solution_status("random", L, alpha, margin, s.q[:, 0], s.Q[:, 0], ok)
    elif L == 1 and alpha > gardner_capacity(margin):
        status = "unsat"
    else:
        status = "converged" if ok and not _saturated_q(s.q) else "not_converged"
    return RSBSolution(
        L=L,
        alpha=alpha,
        k=k,
        margin=margin,
        x=s.x,
        q=s.q,
        Q=s.Q,
        qhat=s.qhat,
        f=f,
        dfdx=d,
        levels=count_levels(s.q),
        converged=status == "converged",
        residual=float(s.residual),
        iterations=iterations,
        info={"nodes": nodes},
        status=status,
    )


def rsb_path(
    L: int,
    alphas: ArrayLike,
    k: int = 1,
    *,
    margin: float = 0.0,
    **kw,
) -> list[RSBSolution]:
    """Continuation of :func:`solve_rsb` over ascending α, each solve started from the last
    converged one (an RS continuation supplies the frozen profile at the first α)."""
    from deeprg.perceptron.replica.rs import solve_path

    alphas = np.sort(np.asarray(alphas, dtype=np.float64).ravel())
    rs0 = solve_path(L, np.geomspace(min(1.0, alphas[0]), alphas[0], 8), margin=margin)[-1]
    out: list[RSBSolution] = []
    prev: RSBSolution | RSSolution = rs0
    for a in alphas:  # continuation is sequential by nature
        sol = solve_rsb(L, a, k, margin=margin, init=prev, **kw)
        out.append(sol)
        if sol.converged:  # an unconverged point never seeds the next one
            prev = sol
    return out
