"""The layered chain assembled from factors, and its one fixed-point solver
(docs/theory/perceptron.md §3.5–3.9).

L counts weight layers; neuron layers are l = 0..L with q_0 = q_L = 1 (clamped by the
patterns). A :class:`Chain` holds one instance of each factor type of
:mod:`deeprg.perceptron.replica.factors` at Parisi level k and wires them, for any L, by the
closure:

- **closure A** (§3.5, §3.6, §3.9): perceptron l sees the gap overlap p_l = q_{l−1} Q_l q_l (the
  triple product); every interior neuron layer is an :class:`~.factors.IsingNeurons` factor;
- **closure B** (§3.7 random I/O, §3.7.1 teacher; RS): perceptron l < L owns its output neuron,
  p_l = q_{l−1} Q_l and the factor is :meth:`~.factors.GapConstraint.cavity_moments` (the
  neuron's Ising entropy is inside it; only its Legendre part remains, q̂(q − 1)/2 for random
  I/O, −q̂(1 + q)/2 for the teacher); the last perceptron (output clamped) is the plain gap
  factor.

Free entropy (per N c; s the replica sign of the factors):

    f = Σ_l W(Q_l) + α Σ_{l=1}^{L−1} 𝒮_l + α Σ_{l=1}^{L} Ξ_l

and, with every factor's conjugate M_l = −2 s ∂Ξ_l/∂p_l / Δx, its stationarity conditions are the
same for every closure, scenario and k:

    Q_l = W.Q_of(C_l),   C_l = α M_l ∂p_l/∂Q_l                                  (weights)
    q̂_l = Σ_{perceptrons m ∋ l} M_m ∂p_m/∂q_l  (+ h_l, teacher side channel)     (conjugates)
    q_l = N.q_of(q̂_l)  (A)   or   the cavity factor's q(p_l, q̂_l)  (B)          (neurons)

The fixed point is found by one solver, :func:`solve_fixed_point` (damped iteration, then
Anderson acceleration, within the box of physical values).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from deeprg.errors import InputError
from deeprg.perceptron.replica.factors import (
    CLIP,
    DEFAULT_NODES,
    GapConstraint,
    IsingNeurons,
    SphericalWeights,
)

CLOSURES = ("A", "B")
SCENARIOS = ("random", "teacher")


class Chain:
    """The assembled chain of L weight layers at fixed α, Parisi level k, closure and scenario.

    State vector (what the fixed-point map iterates): Q (L, k+1), the interior q (L−1, k+1) and,
    for closure B, the conjugates q̂ (L−1, k+1) (B's neuron overlap depends on its own q̂, so q̂
    is iterated with the rest). ``liquid``: boolean mask over neuron layers 0..L held exactly
    liquid (with the adjacent weights), the fixed point beyond a front of §3.8.
    """

    def __init__(
        self,
        L: int,
        alpha: float,
        *,
        k: int = 0,
        scenario: str = "random",
        closure: str = "A",
        margin: float = 0.0,
        field: np.ndarray | None = None,
        nodes: Sequence[int] | None = None,
        liquid: np.ndarray | None = None,
        rs_fast: bool = True,
    ):
        if closure == "B" and k:
            raise InputError("closure B is implemented for RS (k = 0) only; use closure A")
        self.L, self.alpha, self.k = L, float(alpha), k
        self.K1 = k + 1
        self.scenario, self.closure, self.margin = scenario, closure, margin
        self.cavity = closure == "B"
        nish = scenario == "teacher"
        nodes = tuple(nodes) if nodes is not None else DEFAULT_NODES[k]
        self.nodes = nodes
        self.weights = SphericalWeights(k, nish, rs_fast)
        self.neurons = IsingNeurons(k, nodes, nish, rs_fast)
        self.gap = GapConstraint(k, nodes, margin, nish, rs_fast)
        self.h = np.zeros(L - 1) if field is None else np.asarray(field, dtype=np.float64)
        n_q = (L - 1) * self.K1
        self.n_Q = L * self.K1
        self.size = self.n_Q + n_q * (2 if self.cavity else 1)
        keep_Q = np.ones((L, self.K1))
        keep_q = np.ones((L - 1, self.K1))
        if liquid is not None:
            keep_Q *= ~(liquid[:-1] | liquid[1:])[:, None]
            keep_q *= ~liquid[1:-1, None]
        parts = [keep_Q.ravel(), keep_q.ravel()] + ([keep_q.ravel()] if self.cavity else [])
        self.keep = np.concatenate(parts)
        self.lo = np.zeros(self.size)
        self.hi = np.concatenate(
            [np.full(self.n_Q + n_q, CLIP)] + ([np.full(n_q, np.inf)] if self.cavity else [])
        )

    # ------------------------------------------------------------------ state layout
    def unpack(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """State → Q (L, k+1), q (L+1, k+1) with clamped boundaries, q̂ (closure B) or None."""
        L, K1, nQ = self.L, self.K1, self.n_Q
        Q = z[:nQ].reshape(L, K1)
        q = np.ones((L + 1, K1))
        n_q = (L - 1) * K1
        q[1:-1] = z[nQ : nQ + n_q].reshape(L - 1, K1)
        qh = z[nQ + n_q :].reshape(L - 1, K1) if self.cavity else None
        return Q, q, qh

    def pack(self, Q: np.ndarray, q: np.ndarray, qhat: np.ndarray | None = None) -> np.ndarray:
        parts = [np.ravel(Q), np.ravel(q[1:-1])]
        if self.cavity:
            parts.append(np.ravel(qhat) if qhat is not None else np.zeros((self.L - 1) * self.K1))
        return np.concatenate(parts)

    # ------------------------------------------------------------------ wiring
    def overlaps(self, Q: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Gap overlaps p_l (L, k+1) and the output-neuron factor q_out of each perceptron
        (closure A: q_l; closure B: 1, the output neuron is inside the factor)."""
        q_out = np.ones_like(q[1:]) if self.cavity else q[1:]
        return q[:-1] * Q * q_out, q_out

    def messages(
        self, p: np.ndarray, qh: np.ndarray | None, x: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Conjugates M_l (L, k+1) of the gap factors and, for closure B, the output-neuron
        overlaps q_l (L−1, k+1) of its cavity factors."""
        if not self.cavity:
            return self.gap.conjugate(p, x), None
        M = np.empty_like(p)
        q_cav = None
        if self.L > 1:
            assert qh is not None
            M[:-1], q_cav = self.gap.cavity_moments(p[:-1], qh + self.h[:, None], x)
        M[-1:] = self.gap.conjugate(p[-1:], x)
        return M, q_cav

    def conjugates(
        self, Q: np.ndarray, q: np.ndarray, M: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """C_l = α M_l ∂p_l/∂Q_l (L, k+1) and q̂_l (L−1, k+1) = Σ M_m ∂p_m/∂q_l, ≥ 0."""
        _, q_out = self.overlaps(Q, q)
        C = self.alpha * q[:-1] * q_out * M
        qhat = Q[1:] * q_out[1:] * M[1:]  # neuron l as the input of perceptron l+1
        if not self.cavity:  # … and as the output of perceptron l (inside the factor in B)
            qhat = q[:-2] * Q[:-1] * M[:-1] + qhat
        return C, np.maximum(qhat, 0.0)

    def neuron_qhat(self, qhat: np.ndarray) -> np.ndarray:
        """The conjugate the neuron factor sees: q̂ + h (teacher side channel), Parisi-ordered."""
        qh = qhat + self.h[:, None]
        return np.maximum.accumulate(qh, axis=-1) if self.k else qh

    # ------------------------------------------------------------------ map and free entropy
    def step(self, z: np.ndarray, x: np.ndarray) -> np.ndarray:
        """The undamped fixed-point map on a packed state (no liquid mask)."""
        Q, q, qh_state = self.unpack(z)
        p, _ = self.overlaps(Q, q)
        M, q_cav = self.messages(p, qh_state, x)
        C, qhat = self.conjugates(Q, q, M)
        Qn = self.weights.Q_of(C, x)
        if self.cavity:
            qn = q_cav if q_cav is not None else np.zeros((0, self.K1))
        elif self.L > 1:
            qn = self.neurons.q_of(self.neuron_qhat(qhat), x)
        else:
            qn = np.zeros((0, self.K1))
        if self.k:  # project onto Parisi-ordered physical values
            qn = np.clip(np.maximum.accumulate(qn, axis=-1), 0.0, CLIP)
        parts = [Qn.ravel(), qn.ravel()] + ([qhat.ravel()] if self.cavity else [])
        return np.concatenate(parts)

    def masked(self, z: np.ndarray, x: np.ndarray) -> np.ndarray:
        """The map with the liquid layers held at zero."""
        return self.step(z, x) * self.keep

    def solved_qhat(self, z: np.ndarray, x: np.ndarray) -> np.ndarray:
        """q̂ (L−1, k+1) at a solved state: the iterated one (B) or the conjugate of the
        converged overlaps (A), Parisi-ordered."""
        Q, q, qh_state = self.unpack(z)
        if qh_state is not None:
            return qh_state
        p, _ = self.overlaps(Q, q)
        M, _ = self.messages(p, None, x)
        _, qhat = self.conjugates(Q, q, M)
        return np.maximum.accumulate(qhat, axis=-1) if self.k else qhat

    def free_entropy(self, Q: np.ndarray, q: np.ndarray, qhat: np.ndarray, x: np.ndarray) -> float:
        """f = Σ W(Q) + α Σ 𝒮 + α Σ Ξ at the given order parameters (per N c)."""
        p, _ = self.overlaps(Q, q)
        q_int = q[1:-1]
        if self.cavity:
            qh = qhat + self.h[:, None]  # the side channel adds to the downstream field
            S = self.neurons.legendre(q_int, qh, x) + self.h * q_int[:, -1] / 2
            S = S + (self.gap.cavity_term(p[:-1], qh, x) if self.L > 1 else 0.0)
            G = self.gap.term(p[-1:], x)
        else:
            h = self.h[:, None]
            # a side channel h contributes s(q, q̂ + h) + h q/2 (its normalization removed)
            S = self.neurons.term(q_int, qhat + h, x) if self.L > 1 else np.zeros(0)
            if self.scenario == "teacher":
                S = S + self.h * q_int[:, -1] / 2
            G = self.gap.term(p, x)
        return float(self.weights.term(Q, x).sum() + self.alpha * np.sum(S) + self.alpha * G.sum())

    def dfdx(
        self, Q: np.ndarray, q: np.ndarray, qhat: np.ndarray, x: np.ndarray, h: float = 1e-5
    ) -> np.ndarray:
        """∂f/∂x_i at fixed order parameters (central differences inside (x_{i−1}, x_{i+1}));
        at the inner saddle this is the total derivative (envelope theorem)."""
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


# ---------------------------------------------------------------------- the one solver


@dataclass(frozen=True)
class SolverOptions:
    """Options of :func:`solve_fixed_point`.

    ``n_plain``: plain damped iterations before Anderson acceleration starts (they let unstable
    directions of the liquid grow; Anderson would converge to the unstable liquid fixed point as
    readily as to the frozen one). ``retry_saturated``: if Anderson overshoots into the
    absorbing corner q = Q = 1 (top Parisi level of an interior layer at 1), redo the solve by
    plain damped iteration (damping 0.3) from the same start.
    """

    tol: float = 1e-11
    max_iter: int = 20000
    damping: float = 0.5
    n_plain: int = 400
    retry_saturated: bool = False


RS_OPTIONS = SolverOptions()
RSB_OPTIONS = SolverOptions(tol=1e-10, max_iter=4000, n_plain=60, retry_saturated=True)


@dataclass(frozen=True)
class FixedPoint:
    z: np.ndarray
    residual: float
    iterations: int
    converged: bool


def anderson(
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
    """Anderson-accelerated damped fixed-point iteration x = g(x) within box bounds: first up
    to ``n_plain`` plain damped steps (until the residual is below 1e-5), then Anderson mixing
    of depth ``m`` (history reset whenever the box clips a step)."""
    x = np.clip(x0, lo, hi)
    X_hist: list[np.ndarray] = []
    F_hist: list[np.ndarray] = []
    res = np.inf
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


def saturated(chain: Chain, z: np.ndarray) -> bool:
    """Some interior neuron layer has its top Parisi level at q = 1 (the absorbing corner
    q = Q = 1 of the map, reached by overshooting or at large x at large α, docs/replica.md)."""
    q = chain.unpack(z)[1]
    return bool(len(q) > 2 and np.max(q[1:-1, -1]) > 1 - 1e-6)


def solve_fixed_point(
    chain: Chain, z0: np.ndarray, x: np.ndarray, opts: SolverOptions = RS_OPTIONS
) -> FixedPoint:
    """The saddle point of ``chain`` at breakpoints ``x`` from the start ``z0``: a pure function
    of (chain, z0, x, opts). Used for RS (k = 0) and every k-RSB inner solve."""

    def run(damping: float, n_plain: int) -> tuple[np.ndarray, float, int, bool]:
        return anderson(
            lambda z: chain.masked(z, x),
            z0 * chain.keep,
            chain.lo,
            chain.hi,
            tol=opts.tol,
            max_iter=opts.max_iter,
            damping=damping,
            n_plain=n_plain,
        )

    z, res, it, ok = run(opts.damping, opts.n_plain)
    if opts.retry_saturated and saturated(chain, z) and not saturated(chain, z0):
        z, res, it2, ok = run(0.3, opts.max_iter)
        it += it2
    return FixedPoint(z, res, it, ok)
