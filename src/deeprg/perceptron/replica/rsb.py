"""k-step RSB of the layered chain, closure A, random inputs/outputs
(deep-perceptron-networks.md §3.9), and the replicon (RS stability) of the RS chain.

Parisi ansatz with breakpoints 0 = x_0 < x_1 < … < x_k < x_{k+1} = 1 **shared by all layers**;
per layer l the values q_0(l) ≤ … ≤ q_k(l) (neurons, l = 0..L, q_i(0) = q_i(L) = 1),
Q_0(l) ≤ … ≤ Q_k(l) (weights, l = 1..L) and the conjugates q̂_i(l). The gap overlap is the
elementwise product p_i(l) = q_i(l−1) Q_i(l) q_i(l) (§3.9).

The free entropy (n → 0, per N c) is assembled from three factor types with one interface
(:class:`ParisiWeights`, :class:`ParisiIsing`, :class:`ParisiGap`), each vectorized over layers:

    f = Σ_l ½ (1/n) ln det Q(l) + α Σ_{l=1}^{L−1} 𝒮[q(l)] + α Σ_{l=1}^{L} (1/n) ln Ξ[p(l)]

Stationarity (derived here from the Parisi recursions; reduces to (A1)–(A3) of §3.5 for k = 0):
every recursion of the form φ_j(y) = x_j⁻¹ ln E_t exp[x_j φ_{j+1}(y + √Δ_j t)] has
∂φ_0/∂(level-i value) = −½ (x_{i+1} − x_i) M_i with M_i = E_{ν_i}[(∂_y φ_{i+1})²] the squared
mean at level i under the Parisi measure ν_i. Hence, with C_i(l) = α q_i(l−1) q_i(l) M_i(l):

    (Q⁻¹(l))_i = −C_i(l)                                   (weights; solved by Parisi algebra)
    q̂_i(l) = q_i(l−1) Q_i(l) M_i(l) + Q_i(l+1) q_i(l+1) M_i(l+1)
    q_i(l) = M̂_i(q̂(l))                                     (Ising recursion, φ_{k+1} = ln 2cosh)

The breakpoints solve ∂f/∂x_i = 0 (outer root search, derivative by central differences at
fixed order parameters, which is exact at the inner saddle by the envelope theorem).

Gaussian integrals use nested Gauss–Hermite rules, one per level (``nodes``); the recursions
work in log space (logsumexp), the gap's last level uses ``log_ndtr``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize, special

from deeprg.errors import InputError, check_int, check_positive
from deeprg.perceptron.replica import special as sp
from deeprg.perceptron.replica.rs import CLIP, RSSolution, _anderson, gardner_capacity

DEFAULT_NODES = {0: (241,), 1: (72, 48), 2: (48, 32, 32), 3: (28, 20, 20, 20)}
SEED = 1e-2


def _gh_rule(n: int) -> tuple[np.ndarray, np.ndarray]:
    t, w = np.polynomial.hermite_e.hermegauss(n)
    return t, w / np.sqrt(2 * np.pi)


def _check_x(x: ArrayLike, k: int) -> np.ndarray:
    xa = np.asarray(x, dtype=np.float64).reshape(-1)
    if len(xa) != k:
        raise InputError(f"x must hold k = {k} breakpoints, got {len(xa)}")
    if k and (np.any(xa <= 0) or np.any(xa > 1) or np.any(np.diff(xa) <= 0)):
        raise InputError(f"breakpoints x must satisfy 0 < x_1 < ... < x_k <= 1, got {xa.tolist()}")
    return xa


def parisi_recursion(
    delta: np.ndarray,
    x: np.ndarray,
    final,
    nodes: Sequence[int],
) -> tuple[np.ndarray, np.ndarray]:
    """Generic Parisi recursion, vectorized over a batch (layers): §3.9 items 2–3.

    ``delta`` (B, k+1): variance increments Δ_0 = v_0, Δ_j = v_j − v_{j−1} ≥ 0; ``x`` (k,);
    ``final(y)`` returns (φ_{k+1}(y), ∂_y φ_{k+1}(y)) for a field array y of shape
    (B, n_0, …, n_k). Returns φ_0 = E_{t_0} φ_1(√Δ_0 t_0) (B,) and M (B, k+1),
    M_i = E_{ν_i}[(∂_y φ_{i+1})²].
    """
    B, K1 = delta.shape
    k = K1 - 1
    rules = [_gh_rule(n) for n in nodes[:K1]]
    y = np.zeros((B, *tuple(len(t) for t, _ in rules)))
    for m, (t, _) in enumerate(rules):
        shp = [1] * (K1 + 1)
        shp[m + 1] = -1
        y = y + np.sqrt(np.maximum(delta[:, m], 0.0)).reshape((B,) + (1,) * K1) * t.reshape(shp)
    g, dg = final(y)
    gs: list[Any] = [None] * (K1 + 1)
    dgs: list[Any] = [None] * (K1 + 1)
    W: list[Any] = [None] * K1
    # reduce the trailing axes: arrays keep (B, n_0, …, n_{j−1}) after level j
    gs[K1], dgs[K1] = g.reshape(y.shape), dg.reshape(y.shape)
    for j in range(k, 0, -1):  # loop over RSB levels (k <= 3), not data
        ax = j + 1
        lw = np.log(rules[j][1]).reshape([1] * ax + [-1])
        a = x[j - 1] * gs[j + 1] + lw
        mx = a.max(axis=ax, keepdims=True)
        e = np.exp(a - mx)
        Z = e.sum(axis=ax, keepdims=True)
        W[j] = e / Z
        gs[j] = ((mx + np.log(Z)) / x[j - 1]).squeeze(axis=ax)
        dgs[j] = (W[j] * dgs[j + 1]).sum(axis=ax)
    w0 = rules[0][1].reshape(1, -1)
    value = (w0 * gs[1]).sum(axis=1)
    M = np.empty((B, K1))
    nu = np.broadcast_to(w0, (B, len(rules[0][1])))
    M[:, 0] = (nu * dgs[1] ** 2).sum(axis=1)
    for i in range(1, K1):
        nu = nu[..., None] * W[i]
        M[:, i] = (nu * dgs[i + 1] ** 2).reshape(B, -1).sum(axis=1)
    return value, M


def _increments(v: np.ndarray) -> np.ndarray:
    return np.diff(v, axis=-1, prepend=0.0)


@dataclass(frozen=True)
class ParisiWeights:
    """Spherical weights: ½ (1/n) ln det Q (§3.9 item 1) and the inverse of its stationarity."""

    def term(self, Q: np.ndarray, x: np.ndarray) -> np.ndarray:
        return 0.5 * lndet_parisi_batch(Q, x)

    def grad(self, Q: np.ndarray, x: np.ndarray) -> np.ndarray:
        """∂ term/∂Q_i by complex-step differentiation of the closed form (exact to rounding)."""
        h = 1e-30
        out = np.empty(Q.shape)
        for i in range(Q.shape[-1]):  # loop over levels
            Qc = Q.astype(np.complex128)
            Qc[..., i] += 1j * h
            out[..., i] = 0.5 * lndet_parisi_batch(Qc, x).imag / h
        return out

    def Q_of(self, C: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Q with unit diagonal whose inverse has off-diagonal levels −C_i (n → 0 Parisi algebra).

        Stationarity ∂/∂Q_i [½ (1/n) ln det Q] = ½ (x_{i+1} − x_i) C_i. With B = Q⁻¹ (levels
        b_i = −C_i): Λᴮ_{k+1} = s, Λᴮ_i = s − Σ_{m≥i} x_m (C_m − C_{m−1}); Q's eigenvalues are
        1/Λᴮ, Q_0 = C_0/(Λᴮ_1)², Q_i − Q_{i−1} = (1/Λᴮ_i − 1/Λᴮ_{i+1})/x_i, Q_d − Q_k = 1/s, and s
        is fixed by Q_d = 1 (monotone in s: bisection on ln Λᴮ_1). RS: Q/(1 − Q)² = C.
        """
        C = np.maximum.accumulate(np.maximum(C, 0.0), axis=-1)
        k = C.shape[-1] - 1
        dC = np.diff(C, axis=-1)  # (…, k): C_m − C_{m−1}, m = 1..k
        # Λᴮ_i = Λᴮ_1 + Σ_{m=1}^{i−1} x_m dC_m ; Λᴮ_{k+1} = Λᴮ_1 + Σ_{m=1}^{k} x_m dC_m
        offs = np.concatenate(
            [np.zeros((*C.shape[:-1], 1)), np.cumsum(x * dC, axis=-1)], axis=-1
        )  # (…, k+1): Λᴮ_{i} − Λᴮ_1 for i = 1..k+1

        def qd(lam1):
            lb = lam1[..., None] + offs  # Λᴮ_1..Λᴮ_{k+1}
            inv = 1.0 / lb
            val = C[..., 0] / lb[..., 0] ** 2 + inv[..., -1]
            if k:
                val = val + ((inv[..., :-1] - inv[..., 1:]) / x).sum(-1)
            return val, lb

        lo = np.full(C.shape[:-1], -40.0)
        hi = np.full(C.shape[:-1], 40.0)
        for _ in range(90):  # vectorized bisection over all layers
            mid = 0.5 * (lo + hi)
            v, _ = qd(np.exp(mid))
            big = v > 1.0
            lo = np.where(big, mid, lo)
            hi = np.where(big, hi, mid)
        _, lb = qd(np.exp(0.5 * (lo + hi)))
        inv = 1.0 / lb
        Q = np.empty(C.shape)
        Q[..., 0] = C[..., 0] * inv[..., 0] ** 2
        for i in range(1, k + 1):  # levels
            Q[..., i] = Q[..., i - 1] + (inv[..., i - 1] - inv[..., i]) / x[i - 1]
        return np.clip(Q, 0.0, CLIP)


def lndet_parisi_batch(Q: np.ndarray, x: np.ndarray) -> np.ndarray:
    """(1/n) ln det of k-RSB Parisi matrices (unit diagonal, n → 0), batched over rows of Q.

    Same formula as :func:`deeprg.perceptron.replica.parisi.lndet_parisi` (§3.9 item 1);
    complex input allowed (complex-step derivatives).
    """
    k = Q.shape[-1] - 1
    lam: list[Any] = [None] * (k + 2)
    lam[k + 1] = 1.0 - Q[..., k]
    for i in range(k, 0, -1):  # levels
        lam[i] = lam[i + 1] + x[i - 1] * (Q[..., i] - Q[..., i - 1])
    val = Q[..., 0] / lam[1] + np.log(lam[k + 1])
    for i in range(1, k + 1):
        val = val + np.log(lam[i] / lam[i + 1]) / x[i - 1]
    return val


@dataclass(frozen=True)
class ParisiIsing:
    """Ising neurons: 𝒮 = ½ Σ_i (x_{i+1} − x_i) q̂_i q_i − q̂_k/2 + E φ_1 (§3.9 item 2)."""

    nodes: tuple[int, ...]

    @staticmethod
    def _final(y):
        return sp.log2cosh(y), np.tanh(y)

    def moments(self, qhat: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(E φ_1, M̂): M̂_i = E_{ν_i} tanh-means squared; stationarity q_i = M̂_i."""
        return parisi_recursion(_increments(np.maximum(qhat, 0.0)), x, self._final, self.nodes)

    def term(self, q: np.ndarray, qhat: np.ndarray, x: np.ndarray) -> np.ndarray:
        xs = np.concatenate([[0.0], x, [1.0]])
        val, _ = self.moments(qhat, x)
        return 0.5 * (np.diff(xs) * qhat * q).sum(-1) - 0.5 * qhat[..., -1] + val


@dataclass(frozen=True)
class ParisiGap:
    """Gap constraint: (1/n) ln Ξ[p] = E g_1, g_{k+1}(h) = ln Φ((h − κ)/√(1 − p_k)) (§3.9 item 3)."""

    nodes: tuple[int, ...]
    margin: float = 0.0

    def moments(self, p: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(ln Ξ, M) with ∂ ln Ξ/∂p_i = −½ (x_{i+1} − x_i) M_i."""
        p = np.clip(p, 0.0, sp.P_MAX)
        s = np.sqrt(1.0 - p[:, -1]).reshape((-1,) + (1,) * p.shape[1])
        kappa = self.margin

        def final(y):
            u = (y - kappa) / s
            lnphi = sp.log_phi_cdf(u)
            return lnphi, np.exp(-0.5 * u**2 - 0.5 * np.log(2 * np.pi) - lnphi) / s

        return parisi_recursion(_increments(p), x, final, self.nodes)


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


class _Chain:
    """The assembled k-RSB chain of L weight layers at fixed α and breakpoints x."""

    def __init__(self, L: int, alpha: float, k: int, margin: float, nodes: tuple[int, ...]):
        self.L, self.alpha, self.k = L, alpha, k
        self.weights = ParisiWeights()
        self.ising = ParisiIsing(nodes)
        self.gap = ParisiGap(nodes, margin)

    def unpack(self, z: np.ndarray):
        L, K1 = self.L, self.k + 1
        Q = z[: L * K1].reshape(L, K1)
        q = np.ones((L + 1, K1))
        q[1:-1] = z[L * K1 :].reshape(L - 1, K1)
        return Q, q

    def pack(self, Q: np.ndarray, q: np.ndarray) -> np.ndarray:
        return np.concatenate([Q.ravel(), q[1:-1].ravel()])

    def conjugates(self, Q, q, x):
        p = q[:-1] * Q * q[1:]
        G, M = self.gap.moments(p, x)
        qhat = q[:-2] * Q[:-1] * M[:-1] + Q[1:] * q[2:] * M[1:]
        return p, G, M, qhat

    def step(self, z: np.ndarray, x: np.ndarray) -> np.ndarray:
        Q, q = self.unpack(z)
        _, _, M, qhat = self.conjugates(Q, q, x)
        Qn = self.weights.Q_of(self.alpha * q[:-1] * q[1:] * M, x)
        if self.L > 1:
            _, qn = self.ising.moments(np.maximum.accumulate(qhat, axis=-1), x)
        else:
            qn = np.zeros((0, self.k + 1))
        qn = np.clip(np.maximum.accumulate(qn, axis=-1), 0.0, CLIP)
        return self.pack(Qn, np.vstack([np.ones(self.k + 1), qn, np.ones(self.k + 1)]))

    def free_entropy(self, Q, q, qhat, x) -> float:
        p = q[:-1] * Q * q[1:]
        G, _ = self.gap.moments(p, x)
        S = self.ising.term(q[1:-1], qhat, x) if self.L > 1 else np.zeros(0)
        return float(self.weights.term(Q, x).sum() + self.alpha * (S.sum() + G.sum()))

    def dfdx(self, Q, q, qhat, x, h: float = 1e-5) -> np.ndarray:
        out = np.empty(len(x))
        for i in range(len(x)):  # breakpoints
            xp, xm = x.copy(), x.copy()
            hp = min(h, (x[i + 1] if i + 1 < len(x) else 1.0) - x[i]) * 0.5
            hm = min(h, x[i] - (x[i - 1] if i > 0 else 0.0)) * 0.5
            xp[i] += hp
            xm[i] -= hm
            out[i] = (self.free_entropy(Q, q, qhat, xp) - self.free_entropy(Q, q, qhat, xm)) / (
                hp + hm
            )
        return out


def _spread(Q: np.ndarray, q: np.ndarray, k: int, seed: float):
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


def _collapsed(Q: np.ndarray, q: np.ndarray, tol: float = 1e-7) -> bool:
    """True when every layer has equal Parisi levels but some layer is frozen (RS branch)."""
    frozen = max(Q[:, -1].max(), q[1:-1, -1].max() if len(q) > 2 else 0.0) > 1e-6
    spread = max(np.ptp(Q, axis=-1).max(), np.ptp(q, axis=-1).max())
    return bool(frozen and spread < tol)


def _saturated_q(q: np.ndarray) -> bool:
    """Some interior neuron layer has its top Parisi level at q = 1 (the absorbing corner
    q = Q = 1 of the map, reached by overshooting or at large x at large α, docs/replica.md)."""
    return bool(len(q) > 2 and np.max(q[1:-1, -1]) > 1 - 1e-6)


def _saturated(chain: _Chain, z: np.ndarray) -> bool:
    return _saturated_q(chain.unpack(z)[1])


def _inner(chain: _Chain, z0: np.ndarray, x: np.ndarray, tol: float, max_iter: int, damping):
    lo = np.zeros_like(z0)
    hi = np.full_like(z0, CLIP)

    def run(damp, n_plain):
        return _anderson(
            lambda z: chain.step(z, x),
            z0,
            lo,
            hi,
            tol=tol,
            max_iter=max_iter,
            damping=damp,
            n_plain=n_plain,
        )

    out = run(damping, 60)
    if _saturated(chain, out[0]) and not _saturated(chain, z0):
        # Anderson overshot into the absorbing q = Q = 1 corner: plain damped iteration instead
        out = run(0.3, max_iter)
    return out


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

    ``init`` (an RS or RSB solution at a nearby α) starts the order parameters; levels get a
    spread seed (level i at least ``seed``·(i+1)/(k+1)) so that a replica-symmetry-breaking
    direction can grow. ``x`` fixes the starting breakpoints (default evenly spaced, or those of
    ``init``); with ``optimize_x`` they solve ∂f/∂x_i = 0 by a bracketed root search (k = 1) or
    a damped Newton iteration with a forward-difference Jacobian (k ≥ 2). k = 0 is the RS chain (same as ``solve_rs``).
    """
    L = check_int("L", L)
    alpha = check_positive("alpha", alpha)
    k = check_int("k", k, minimum=0, maximum=3)
    margin = check_positive("margin", margin, allow_zero=True)
    nodes = tuple(nodes) if nodes is not None else DEFAULT_NODES[k]
    if len(nodes) < k + 1:
        raise InputError(f"nodes must give one Gauss–Hermite order per level ({k + 1})")
    chain = _Chain(L, alpha, k, margin, nodes)
    K1 = k + 1
    if x is None:
        x = init.x if isinstance(init, RSBSolution) and init.k == k else np.arange(1, K1) / K1
    xs = _check_x(x, k)
    if isinstance(init, RSBSolution) and init.L == L and init.k == k:
        ramp = seed * np.arange(1, K1 + 1) / K1  # seed floor: newly unstable layers can grow
        Q0 = np.maximum.accumulate(np.maximum(init.Q, ramp), axis=-1)
        q0 = np.maximum.accumulate(np.maximum(init.q, ramp), axis=-1)
        warm = True
    elif init is not None and init.L == L:
        top_Q = init.Q[:, -1] if isinstance(init, RSBSolution) else init.Q
        top_q = init.q[:, -1] if isinstance(init, RSBSolution) else init.q
        Q0, q0 = _spread(top_Q, top_q, k, seed)
        warm = False
    else:
        Q0, q0 = _spread(np.zeros(L), np.zeros(L + 1), k, seed)
        warm = False
    z = chain.pack(Q0, q0)
    total_it = 0
    state: dict[str, Any] = {"z": z, "warm": warm}

    def solve_at(xv: np.ndarray):
        nonlocal total_it
        zz, res, it, ok = _inner(chain, state["z"], xv, tol, max_iter, damping)
        total_it += it
        Q, q = chain.unpack(zz)
        if k and _collapsed(Q, q) and state["warm"]:
            # the warm start fell back onto the RS branch: restart from a spread profile
            Q0s, q0s = _spread(Q[:, -1], q[:, -1], k, seed)
            zz, res, it, ok = _inner(chain, chain.pack(Q0s, q0s), xv, tol, max_iter, damping)
            total_it += it
            Q, q = chain.unpack(zz)
        state["z"], state["warm"] = zz, True
        _, _, _, qh = chain.conjugates(Q, q, xv)
        qh = np.maximum.accumulate(qh, axis=-1)
        return Q, q, qh, res, ok

    Q, q, qh, res, ok = solve_at(xs)
    d = chain.dfdx(Q, q, qh, xs) if k else np.zeros(0)
    x_ok = True
    trivial = max(np.ptp(Q, axis=-1).max(), np.ptp(q, axis=-1).max()) < 1e-7
    if k and optimize_x and not trivial:
        xs, (Q, q, qh, res, ok), d, x_ok = _solve_breakpoints(chain, solve_at, xs, d, x_tol)
    f = chain.free_entropy(Q, q, qh, xs)
    conv = bool(ok and x_ok and not _saturated_q(q))
    if L == 1 and alpha > gardner_capacity(margin):
        conv, status = False, "unsat"
    else:
        status = "converged" if conv else "not_converged"
    return RSBSolution(
        L=L,
        alpha=alpha,
        k=k,
        margin=margin,
        x=xs,
        q=q,
        Q=Q,
        qhat=qh,
        f=f,
        dfdx=d,
        levels=count_levels(q),
        converged=conv,
        residual=float(res),
        iterations=total_it,
        info={"nodes": nodes},
        status=status,
    )


def _solve_breakpoints(chain: _Chain, solve_at, x0: np.ndarray, d0: np.ndarray, x_tol: float):
    """Roots of ∂f/∂x (§3.9 item 4). k = 1: bracket by stepping from x0, then brentq."""
    k = len(x0)
    lo_x, hi_x = 1e-3, 1.0 - 1e-6
    if k == 1:

        def F(xv: float) -> float:
            out = solve_at(np.array([xv]))
            if _saturated_q(out[1]):
                return float("nan")  # inner saddle ran into the q = Q = 1 corner
            return float(chain.dfdx(out[0], out[1], out[2], np.array([xv]))[0])

        x_a, f_a = float(x0[0]), float(d0[0])
        if abs(f_a) < 1e-12:
            out = solve_at(x0)
            return x0, out, d0, True
        # the breakpoint minimizes f at fixed saddle values (n → 0 inverts the extremum, as in
        # Parisi's solution of SK): ∂f/∂x > 0 → move x down, and vice versa
        direction = -1.0 if f_a > 0 else 1.0
        step = 0.05
        x_b, f_b = x_a, f_a
        bracketed = False
        for _ in range(60):  # bracket search (bounded)
            x_new = float(np.clip(x_b + direction * step, lo_x, hi_x))
            if x_new == x_b:
                break
            f_new = F(x_new)
            if not np.isfinite(f_new):
                step *= 0.4
                solve_at(np.array([x_b]))  # back onto the good branch
                if step < 1e-4:
                    break
                continue
            if np.sign(f_new) != np.sign(f_b):
                x_a, f_a, x_b, f_b = x_b, f_b, x_new, f_new
                bracketed = True
                break
            x_b, f_b = x_new, f_new
            step *= 1.5
        if not bracketed:
            out = solve_at(np.array([x_b]))
            return np.array([x_b]), out, np.array([f_b]), False
        lo, hi = sorted((x_a, x_b))
        try:
            xr = optimize.brentq(F, lo, hi, xtol=x_tol, rtol=1e-10)
        except ValueError:  # the inner saddle switched branch inside the bracket
            xr = x_b if abs(f_b) < abs(f_a) else x_a
            out = solve_at(np.array([xr]))
            return np.array([xr]), out, chain.dfdx(out[0], out[1], out[2], np.array([xr])), False
        out = solve_at(np.array([xr]))
        d = chain.dfdx(out[0], out[1], out[2], np.array([xr]))
        return np.array([xr]), out, d, bool(np.isfinite(d).all() and not _saturated_q(out[1]))

    def G(u: np.ndarray) -> tuple[np.ndarray, tuple]:
        xv = _x_from_u(u)
        out = solve_at(xv)
        return chain.dfdx(out[0], out[1], out[2], xv), out

    # k >= 2: damped Newton on unconstrained u (stick breaking), forward-difference Jacobian,
    # backtracking on max |∂f/∂x|
    u = _u_from_x(x0)
    Fv, out = G(u)
    ok = False
    for _ in range(40):  # Newton steps
        if np.max(np.abs(Fv)) < 1e-7:
            ok = True
            break
        h = 1e-3
        J = np.empty((k, k))
        for i in range(k):  # Jacobian columns
            du = np.zeros(k)
            du[i] = h
            J[:, i] = (G(u + du)[0] - Fv) / h
        step = np.linalg.lstsq(J, -Fv, rcond=None)[0]
        nrm = np.max(np.abs(step))
        if nrm > 1.0:
            step /= nrm
        t = 1.0
        while t > 1 / 64:
            F_new, out_new = G(u + t * step)
            if np.max(np.abs(F_new)) < np.max(np.abs(Fv)):
                break
            t /= 2
        u, Fv, out = u + t * step, F_new, out_new
        if nrm * t < x_tol:
            ok = bool(np.max(np.abs(Fv)) < 1e-5)
            break
    xv = _x_from_u(u)
    out = solve_at(xv)
    d = chain.dfdx(out[0], out[1], out[2], xv)
    ok = bool(ok or np.max(np.abs(d)) < 1e-7)
    return xv, out, d, ok and not _saturated_q(out[1])


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


def rsb_dataset(sols: Sequence[RSBSolution]):
    """xarray Dataset with dims (alpha, layer, level) (and ``breakpoint``): q, Q, q̂ per level."""
    import xarray as xr

    L, k = sols[0].L, sols[0].k
    K1 = k + 1
    nanrow = np.full((1, K1), np.nan)
    q = np.array([s.q for s in sols])
    Q = np.array([np.vstack([nanrow, s.Q]) for s in sols])
    qh = np.array([np.vstack([nanrow, s.qhat, nanrow]) for s in sols])
    ds = xr.Dataset(
        {
            "q": (("alpha", "layer", "level"), q),
            "Q": (("alpha", "layer", "level"), Q),
            "qhat": (("alpha", "layer", "level"), qh),
            "x": (("alpha", "breakpoint"), np.array([s.x for s in sols]).reshape(len(sols), k)),
            "dfdx": (
                ("alpha", "breakpoint"),
                np.array([s.dfdx for s in sols]).reshape(len(sols), k),
            ),
            "levels": (("alpha", "layer"), np.array([s.levels for s in sols])),
            "f": ("alpha", np.array([s.f for s in sols])),
            "converged": ("alpha", np.array([s.converged for s in sols])),
            "status": ("alpha", np.array([s.status for s in sols], dtype=str)),
            "residual": ("alpha", np.array([s.residual for s in sols])),
            "iterations": ("alpha", np.array([s.iterations for s in sols])),
        },
        coords={
            "alpha": np.array([s.alpha for s in sols]),
            "layer": np.arange(L + 1),
            "level": np.arange(K1),
            "breakpoint": np.arange(1, k + 1),
        },
    )
    ds.attrs.update({"scenario": "random", "closure": "A", "rsb": k, "L": L})
    ds.attrs["margin"] = sols[0].margin
    return ds


# ------------------------------------------------------------------ replicon of the RS chain


@dataclass(frozen=True)
class Replicon:
    """RS stability (replicon sector) of a random-I/O closure-A RS solution.

    The replicon quadratic form per replica pair, in rescaled variables u = δQ_l/(1 − Q_l)
    (weights) and v = δq_l √(α/χ_l) (neurons, χ_l = E(1 − m²)²), is −I + B with B collecting
    the gap couplings. ``eigenvalue`` = 1 − λ_max(B) (> 0: RS stable); ``weights`` and
    ``neurons`` are the per-layer local values 1 − B_ll (weight layers 1..L, neuron layers
    1..L−1); ``mode`` the unstable eigenvector's weight on each layer (|·|², sums to 1).
    """

    eigenvalue: float
    weights: np.ndarray
    neurons: np.ndarray
    mode_weights: np.ndarray
    mode_neurons: np.ndarray


def rs_replicon(sol: RSSolution) -> Replicon:
    """Replicon form of the RS chain (closure A, random I/O), derived here (§3.9, §6.1 item 4).

    Quadratic part of f per pair a < b in replicon directions:
    −Σ δQ_l²/(2(1−Q_l)²) − α Σ δq_l²/(2χ_l)
    + α Σ_l [M_l δ²p_l + ½ λ_l (δp_l)²],
    δp_l = Q_l q_l δq_{l−1} + q_{l−1} q_l δQ_l + q_{l−1} Q_l δq_l,
    δ²p_l = δq_{l−1}δQ_l q_l + δq_{l−1} Q_l δq_l + q_{l−1} δQ_l δq_l,
    with M_l = E[g'²] = I(p)/(1 − p)², λ_l = E[g''²], g(h) = ln Φ((h − κ)/√(1 − p)) at h = √p z.
    In the liquid it reduces to the linear stability of §3.8 (threshold π²/4).
    """
    if sol.scenario != "random" or sol.closure != "A":
        raise InputError("the replicon is implemented for the random scenario, closure A")
    L, a = sol.L, sol.alpha
    q, Q = sol.q, sol.Q
    p = np.clip(q[:-1] * Q * q[1:], 0.0, sp.P_MAX)
    g = sp.gamma_of(p)
    Z, Wz = sp.z_nodes(g)
    s = np.sqrt(1 - p)[:, None]
    u = (g[:, None] * Z * s - sol.margin) / s  # (√p z − κ)/√(1−p)
    r = sp.mills_r(-u)
    M = (Wz * r**2).sum(1) / (1 - p)
    lam = (Wz * (sp.mills_rr(-u) / (1 - p)[:, None]) ** 2).sum(1)
    qh = sol.qhat
    chi = sp.ising_chi(qh) if L > 1 else np.zeros(0)
    n = 2 * L - 1  # variables: δQ_1..δQ_L, δq_1..δq_{L−1}
    H = np.zeros((n, n))

    def iq(l):  # index of δq_l (interior only), or None for clamped boundary layers
        return L + l - 1 if 1 <= l <= L - 1 else None

    for l in range(1, L + 1):  # assemble per weight layer (tridiagonal band), not data
        iQ = l - 1
        coef = {iQ: q[l - 1] * q[l]}
        if iq(l - 1) is not None:
            coef[iq(l - 1)] = Q[l - 1] * q[l]
        if iq(l) is not None:
            coef[iq(l)] = q[l - 1] * Q[l - 1]
        for i, ci in coef.items():  # ½ λ (δp)² → second derivative λ c_i c_j
            for j, cj in coef.items():
                H[i, j] += a * lam[l - 1] * ci * cj
        pairs = []  # δ²p cross terms: M × (each product once) → Hessian entries M·coef
        if iq(l - 1) is not None:
            pairs.append((iq(l - 1), iQ, q[l]))
            if iq(l) is not None:
                pairs.append((iq(l - 1), iq(l), Q[l - 1]))
        if iq(l) is not None:
            pairs.append((iQ, iq(l), q[l - 1]))
        for i, j, c in pairs:
            H[i, j] += a * M[l - 1] * c
            H[j, i] += a * M[l - 1] * c
    # rescale: u_l = δQ_l/(1−Q_l), v_l = δq_l √(α/χ_l); the diagonal entropic part becomes −I
    scale = np.concatenate([1 - Q, np.sqrt(chi / a)])
    B = H * scale[:, None] * scale[None, :]
    w, V = np.linalg.eigh(B)
    mode = V[:, -1] ** 2
    d = np.diag(B)
    return Replicon(
        eigenvalue=float(1 - w[-1]),
        weights=1 - d[:L],
        neurons=1 - d[L:],
        mode_weights=mode[:L],
        mode_neurons=mode[L:],
    )
