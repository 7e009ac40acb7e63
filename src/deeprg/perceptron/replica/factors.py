"""The factors of the layered chain, one class per type, for any Parisi level k
(docs/theory/perceptron.md §3.2, §3.4–3.7, §3.9).

The free entropy of the chain is a sum of three kinds of terms (tramp-style factors):

- :class:`SphericalWeights`: the entropy of a spherical weight row at overlap Q (½ (1/n) ln det Q);
- :class:`IsingNeurons`: the entropy of ±1 neurons at overlap q with conjugate q̂;
- :class:`GapConstraint`: the gap constraint of one perceptron, a function of its gap overlap p
  (closure A: the triple product q_{l−1} Q_l q_l); in closure B the perceptron's output neuron
  lives inside the factor (:meth:`GapConstraint.cavity_moments`, §3.7).

Every order parameter carries k+1 Parisi levels on a trailing axis (RS: k = 0, one level);
arrays are batched over layers, shape (B, k+1); ``x`` holds the k breakpoints shared by all
layers. Every method is the Parisi-recursion formula, valid for any k; k = 0 takes a fast path
through the RS special functions of :mod:`deeprg.perceptron.replica.special` (stable panel
quadrature; the same numbers as the recursion to quadrature accuracy, see the tests) unless
``rs_fast=False``.

Conventions shared by the three classes (they make the chain's stationarity conditions
factor-independent). With Δx_i = x_{i+1} − x_i (x_0 = 0, x_{k+1} = 1) and the replica sign s
(+1 for random I/O, n → 0; −1 for teacher–student, the Nishimori limit n → 1):

- the gap's *conjugate* M_i(p) is defined by ∂ term/∂p_i = −½ s Δx_i M_i (M ≥ 0);
- the weights' :meth:`SphericalWeights.Q_of` solves ∂ term/∂Q_i = ½ s Δx_i C_i for Q given C;
- the neurons' :meth:`IsingNeurons.q_of` solves ∂ term/∂q̂_i = 0 for q given q̂, where
  ∂ term/∂q_i = ½ s Δx_i q̂_i.

The teacher–student (Nishimori) variants exist for k = 0 only (the scenario is replica
symmetric by the Nishimori identities).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deeprg.errors import InputError
from deeprg.perceptron.replica import special as sp
from deeprg.perceptron.replica.parisi import increments, lndet_parisi_batch, parisi_recursion

DEFAULT_NODES = {0: (241,), 1: (72, 48), 2: (48, 32, 32), 3: (28, 20, 20, 20)}
CLIP = 1.0 - 1e-12


def delta_x(x: np.ndarray) -> np.ndarray:
    """Δx_i = x_{i+1} − x_i for i = 0..k (x_0 = 0, x_{k+1} = 1)."""
    return np.diff(np.concatenate([[0.0], np.asarray(x, dtype=np.float64), [1.0]]))


def _nishimori_rs_only(k: int, nishimori: bool, what: str) -> None:
    if nishimori and k:
        raise InputError(f"the teacher–student {what} factor is replica symmetric (k = 0) only")


@dataclass(frozen=True)
class SphericalWeights:
    """Spherical weight rows: term ½ (1/n) ln det Q(l) (§3.9 item 1; RS w(Q), §3.4) or, for
    teacher–student, the Nishimori entropy w_TS(Q) = ½[ln(1 − Q) + Q] (§3.6)."""

    k: int = 0
    nishimori: bool = False
    rs_fast: bool = True

    def __post_init__(self) -> None:
        _nishimori_rs_only(self.k, self.nishimori, "weight")

    @property
    def _fast(self) -> bool:
        return self.k == 0 and (self.rs_fast or self.nishimori)

    def term(self, Q: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Free-entropy term per layer, shape (B,)."""
        if self._fast:
            return (sp.w_ts if self.nishimori else sp.w_rs)(Q[..., 0])
        return 0.5 * lndet_parisi_batch(Q, x)

    def grad(self, Q: np.ndarray, x: np.ndarray) -> np.ndarray:
        """∂ term/∂Q_i (B, k+1): closed form for k = 0, else complex-step differentiation of the
        closed-form ln det (exact to rounding)."""
        if self.nishimori:
            return -Q / (2 * (1 - Q))
        h = 1e-30
        out = np.empty(Q.shape)
        for i in range(Q.shape[-1]):  # loop over levels
            Qc = Q.astype(np.complex128)
            Qc[..., i] += 1j * h
            out[..., i] = 0.5 * lndet_parisi_batch(Qc, x).imag / h
        return out

    def Q_of(self, C: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Q solving ∂ term/∂Q_i = ½ s Δx_i C_i (the inverse of the weight stationarity).

        RS: Q/(1 − Q)² = C (random I/O), Q/(1 − Q) = C (teacher). k ≥ 1: the unit-diagonal
        Parisi matrix whose inverse has off-diagonal levels −C_i (n → 0 Parisi algebra): with
        B = Q⁻¹, Λᴮ_{k+1} = s, Λᴮ_i = s − Σ_{m≥i} x_m (C_m − C_{m−1}); Q's eigenvalues are 1/Λᴮ,
        Q_0 = C_0/(Λᴮ_1)², Q_i − Q_{i−1} = (1/Λᴮ_i − 1/Λᴮ_{i+1})/x_i, Q_d − Q_k = 1/s, and s is
        fixed by Q_d = 1 (monotone in s: vectorized bisection on ln Λᴮ_1).
        """
        if self.nishimori:
            Cn = np.maximum(C, 0.0)
            return Cn / (1 + Cn)
        if self._fast:
            Cn = np.maximum(C, 0.0)
            return 2 * Cn / (2 * Cn + 1 + np.sqrt(4 * Cn + 1))
        return _parisi_Q_of(C, x)


def _parisi_Q_of(C: np.ndarray, x: np.ndarray) -> np.ndarray:
    C = np.maximum.accumulate(np.maximum(C, 0.0), axis=-1)
    k = C.shape[-1] - 1
    dC = np.diff(C, axis=-1)  # (…, k): C_m − C_{m−1}, m = 1..k
    # Λᴮ_i − Λᴮ_1 = Σ_{m=1}^{i−1} x_m dC_m for i = 1..k+1
    offs = np.concatenate([np.zeros((*C.shape[:-1], 1)), np.cumsum(x * dC, axis=-1)], axis=-1)

    def qd(lam1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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


@dataclass(frozen=True)
class IsingNeurons:
    """Ising (±1) neurons: 𝒮 = ½ s Σ_i Δx_i q̂_i q_i − ½ q̂_k + E φ_1 (§3.9 item 2), with the
    Parisi recursion of φ_{k+1}(y) = ln 2cosh y. RS: s(q, q̂) = E ln 2cosh(√q̂ z) − q̂(1 − q)/2
    (§3.4); teacher: s_TS = E ln 2cosh(q̂ + √q̂ z) − q̂(1 + q)/2 (§3.6)."""

    k: int = 0
    nodes: tuple[int, ...] = DEFAULT_NODES[0]
    nishimori: bool = False
    rs_fast: bool = True

    def __post_init__(self) -> None:
        _nishimori_rs_only(self.k, self.nishimori, "neuron")
        if len(self.nodes) < self.k + 1:
            raise InputError(f"nodes must give one Gauss–Hermite order per level ({self.k + 1})")

    @property
    def _fast(self) -> bool:
        return self.k == 0 and (self.rs_fast or self.nishimori)

    @staticmethod
    def _final(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return sp.log2cosh(y), np.tanh(y)

    def potential(self, qhat: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(E φ_1 (B,), M̂ (B, k+1)): M̂_i = E_{ν_i}[tanh-mean²], the q solving stationarity."""
        if self._fast:
            qh = qhat[..., 0]
            if self.nishimori:
                return sp.ising_s_ts(-np.ones_like(qh), qh), sp.ising_q_ts(qh)[..., None]
            return sp.ising_s(np.ones_like(qh), qh), sp.ising_q(qh)[..., None]
        return parisi_recursion(increments(np.maximum(qhat, 0.0)), x, self._final, self.nodes)

    def q_of(self, qhat: np.ndarray, x: np.ndarray) -> np.ndarray:
        """q solving ∂ term/∂q̂ = 0 (RS: E tanh²(√q̂ z); teacher: E tanh(q̂ + √q̂ z))."""
        if self._fast:
            f = sp.ising_q_ts if self.nishimori else sp.ising_q
            return f(qhat[..., 0])[..., None]
        return self.potential(qhat, x)[1]

    def legendre(self, q: np.ndarray, qhat: np.ndarray, x: np.ndarray) -> np.ndarray:
        """The Legendre part ½ s Σ_i Δx_i q̂_i q_i − ½ q̂_k of the term (B,)."""
        if self.nishimori:
            return -qhat[..., 0] * (1 + q[..., 0]) / 2
        if self.k == 0:
            return qhat[..., 0] * (q[..., 0] - 1) / 2
        return 0.5 * (delta_x(x) * qhat * q).sum(-1) - 0.5 * qhat[..., -1]

    def term(self, q: np.ndarray, qhat: np.ndarray, x: np.ndarray) -> np.ndarray:
        """𝒮(q, q̂) per layer (B,)."""
        if self._fast:
            f = sp.ising_s_ts if self.nishimori else sp.ising_s
            return f(q[..., 0], qhat[..., 0])
        return self.legendre(q, qhat, x) + self.potential(qhat, x)[0]


@dataclass(frozen=True)
class GapConstraint:
    """Gap constraint of one perceptron: (1/n) ln Ξ[p] = E g_1 with
    g_{k+1}(h) = ln Φ((h − κ)/√(1 − p_k)) (§3.9 item 3; RS: G_κ(p), §3.4); teacher: G_TS(p)
    (§3.6). Closure B (§3.7, §3.7.1, RS): :meth:`cavity_moments`, the factor with its output
    neuron inside, G_B(p, q̂) (random I/O) or G_B^TS(p, q̂) (teacher)."""

    k: int = 0
    nodes: tuple[int, ...] = DEFAULT_NODES[0]
    margin: float = 0.0
    nishimori: bool = False
    rs_fast: bool = True

    def __post_init__(self) -> None:
        _nishimori_rs_only(self.k, self.nishimori, "gap")
        if self.nishimori and self.margin:
            raise InputError(
                "margin must be 0 for the teacher scenario (the teacher has no margin)"
            )
        if len(self.nodes) < self.k + 1:
            raise InputError(f"nodes must give one Gauss–Hermite order per level ({self.k + 1})")

    @property
    def _fast(self) -> bool:
        return self.k == 0 and (self.rs_fast or self.nishimori)

    def _recursion(self, p: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p = np.clip(p, 0.0, sp.P_MAX)
        s = np.sqrt(1.0 - p[:, -1]).reshape((-1,) + (1,) * p.shape[1])
        kappa = self.margin

        def final(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            u = (y - kappa) / s
            lnphi = sp.log_phi_cdf(u)
            return lnphi, np.exp(-0.5 * u**2 - 0.5 * np.log(2 * np.pi) - lnphi) / s

        return parisi_recursion(increments(p), x, final, self.nodes)

    def moments(self, p: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(ln Ξ (B,), M (B, k+1)) with ∂ ln Ξ/∂p_i = −½ s Δx_i M_i."""
        if self._fast:
            return self.term(p, x), self.conjugate(p, x)
        return self._recursion(p, x)

    def term(self, p: np.ndarray, x: np.ndarray) -> np.ndarray:
        """ln Ξ per layer (B,)."""
        if self._fast:
            return sp.G_ts(p[..., 0]) if self.nishimori else sp.G(p[..., 0], self.margin)
        return self._recursion(p, x)[0]

    def conjugate(self, p: np.ndarray, x: np.ndarray) -> np.ndarray:
        """M (B, k+1) alone (RS: −2 G_κ'(p), teacher 2 G_TS'(p); the fixed-point map needs
        only this)."""
        if self._fast:
            if self.nishimori:
                return 2 * sp.dG_ts(p[..., 0])[..., None]
            return -2 * sp.dG(p[..., 0], self.margin)[..., None]
        return self._recursion(p, x)[1]

    def _check_cavity(self) -> None:
        if self.k:
            raise InputError(
                "the closure-B gap factor is implemented for RS (k = 0) only (its k-RSB needs "
                "the two-dimensional recursion of §3.9 item 6)"
            )

    def cavity_term(self, p: np.ndarray, qhat: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Closure B: G_B(p, q̂) = E_z E_w ln[e^{√q̂ w} Φ(γz) + e^{−√q̂ w} Φ(−γz)] per layer,
        the gap constraint summed over its own output neuron σ = ±1 in the field √q̂ w
        (§3.7); teacher: G_B^TS, the same with the field q̂ + √q̂ w and the weight 2Φ(γz)
        (§3.7.1). (Derived at κ = 0; the margin enters closure B only through the last,
        plain gap factor, as it always has here.)"""
        self._check_cavity()
        f = sp.G_B_ts if self.nishimori else sp.G_B
        return f(p[..., 0], qhat[..., 0])

    def cavity_moments(
        self, p: np.ndarray, qhat: np.ndarray, x: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Closure B: (M, q) with M = −2 s ∂_p G_B (the conjugate of p) and q the output
        neuron's overlap, E_z E_w tanh²(√q̂ w + u(γz)) (random, ∂ [q̂(q − 1)/2 + G_B]/∂q̂ = 0)
        or its Nishimori form (teacher, ∂ [−q̂(1 + q)/2 + G_B^TS]/∂q̂ = 0, §3.7.1)."""
        self._check_cavity()
        p0, qh0 = p[..., 0], np.maximum(qhat[..., 0], 0.0)
        if self.nishimori:
            return 2 * sp.dG_B_ts(p0, qh0)[..., None], sp.q_B_ts(p0, qh0)[..., None]
        return -2 * sp.dG_B(p0, qh0)[..., None], sp.q_B(p0, qh0)[..., None]
