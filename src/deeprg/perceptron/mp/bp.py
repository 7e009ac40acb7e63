"""Relaxed belief propagation (GAMP / BiG-AMP form) on one deep perceptron network
(docs/theory/perceptron.md §6).

Every constraint (weight layer l, unit i, pattern μ) reads the weight row J_i^l (c Gaussian
messages: mean ``a``, variance ``v``), its c input neurons (magnetizations ``m`` of layer l−1)
and its output neuron (layer l). The pre-activation is Gaussian by the central limit in c
(§6.1); the channel :func:`channel` gives g = ∂ω ln Z, g' = ∂ω g and the message to the output
neuron; the weight update (§6.2) and the neuron update (§6.3) carry the Onsager terms, so that
all state lives on nodes (O(L·N·(c + M)) memory) and one iteration costs O(L·N·c·M).

Arrays are unit-major: ``m[l]`` has shape (N, M); ``conn[l−1]`` (N, c) lists the inputs of
every unit of layer l, sorted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp
from numba import njit


@dataclass(frozen=True)
class Instance:
    """The quenched data of one network: wiring, clamped inputs and outputs, and the teacher.

    ``S0``, ``SL``: (N, M) float ±1; ``teacher``: weight rows (L arrays (N, c)) and
    ``teacher_S``: its neurons on every layer (L + 1 arrays (N, M)), or None (random I/O)."""

    conn: tuple[np.ndarray, ...]
    widths: tuple[int, ...]
    S0: np.ndarray
    SL: np.ndarray
    kappa: float
    teacher: tuple[np.ndarray, ...] | None = None
    teacher_S: tuple[np.ndarray, ...] | None = None
    side: tuple[np.ndarray, ...] = ()

    @property
    def L(self) -> int:
        return len(self.conn)

    @property
    def c(self) -> int:
        return int(self.conn[0].shape[1])

    def matrix(self, l: int, data: np.ndarray) -> sp.csr_matrix:
        """Sparse (N, N) matrix of weight layer l (1-based) with the edge values ``data``."""
        conn = self.conn[l - 1]
        n, c = conn.shape
        indptr = np.arange(0, n * c + 1, c)
        shape = (n, self.widths[l - 1])
        return sp.csr_matrix((data.ravel(), conn.ravel(), indptr), shape=shape)


@dataclass(frozen=True)
class State:
    """Messages of one iteration (§6): weight means ``a`` and variances ``v`` (per weight
    layer, (N, c)), norm multipliers ``lam`` (N,), magnetizations ``m`` (per neuron layer,
    (N, M), clamped at 0 and L), downstream fields ``field`` of the hidden neurons, and the
    channel outputs ``g``, ``dg`` of every constraint (per weight layer, (N, M)); with cavity
    neurons (:mod:`~deeprg.perceptron.mp.cavity`) also the messages ``h`` of the
    constraints to their input neurons (per weight layer ≥ 2)."""

    a: tuple[np.ndarray, ...]
    v: tuple[np.ndarray, ...]
    lam: tuple[np.ndarray, ...]
    m: tuple[np.ndarray, ...]
    field: tuple[np.ndarray, ...]
    up: tuple[np.ndarray, ...]
    g: tuple[np.ndarray, ...]
    dg: tuple[np.ndarray, ...]
    h: tuple[np.ndarray, ...] = ()


@dataclass(frozen=True)
class Info:
    """What one step reports: the RMS change of the weight means and of the magnetizations."""

    residual: float


def channel(
    omega: np.ndarray, V: np.ndarray, w_plus: np.ndarray, kappa: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The constraint S·z ≥ κ with z ~ N(ω, V) and the output neuron S = ±1 drawn with cavity
    probabilities (w_plus, 1 − w_plus) (§6.1): returns g = ∂ω ln Z, g' = ∂ω g and the field
    u = ½ ln[Φ(x₊)/Φ(x₋)] the constraint sends to its output neuron, x± = (±ω − κ)/√V."""
    shape = omega.shape
    g, dg, u = _channel(
        np.ascontiguousarray(omega, dtype=np.float64).ravel(),
        np.ascontiguousarray(np.broadcast_to(V, shape), dtype=np.float64).ravel(),
        np.ascontiguousarray(np.broadcast_to(w_plus, shape), dtype=np.float64).ravel(),
        float(kappa),
    )
    return g.reshape(shape), dg.reshape(shape), u.reshape(shape)


@njit(cache=True)
def _log_phi_ratio(x):  # pragma: no cover - compiled
    """(ln Φ(x), φ(x)/Φ(x)), stable at every x (erfc down to x = −30, where Φ ~ 1e-197, the
    continued fraction of the Mills ratio below)."""
    if x > -30.0:
        Phi = 0.5 * math.erfc(-x / math.sqrt(2.0))
        return math.log(Phi), math.exp(-0.5 * x * x) / (math.sqrt(2.0 * math.pi) * Phi)
    t = -x
    cf = t
    for k in range(12, 0, -1):
        cf = t + k / cf
    # Φ(x) = φ(x)/cf for x < 0
    return -0.5 * x * x - 0.5 * math.log(2.0 * math.pi) - math.log(cf), cf


@njit(cache=True)
def _channel_one(omega, V, w, kappa):  # pragma: no cover - compiled
    """(g, g', u) of one constraint: z ~ N(omega, V), output neuron +1 with probability w.
    Linear space (one erfc, one exp, one log at κ = 0) where both Φ(x±) are normal numbers and
    so are the weights w·Φ(x₊), (1 − w)·Φ(x₋); log space (:func:`_channel_log`) otherwise."""
    sd = math.sqrt(V)
    xp = (omega - kappa) / sd
    xm = (-omega - kappa) / sd
    if xp > -30.0 and xm > -30.0:
        if kappa == 0.0:  # Φ(x₋) = 1 − Φ(x₊): the smaller one from erfc, the other by 1 −
            small = 0.5 * math.erfc(abs(xp) / math.sqrt(2.0))
            Pp, Pm = (1.0 - small, small) if xp > 0.0 else (small, 1.0 - small)
            phi_p = phi_m = math.exp(-0.5 * xp * xp) / math.sqrt(2.0 * math.pi)
        else:
            Pp = 0.5 * math.erfc(-xp / math.sqrt(2.0))
            Pm = 0.5 * math.erfc(-xm / math.sqrt(2.0))
            phi_p = math.exp(-0.5 * xp * xp) / math.sqrt(2.0 * math.pi)
            phi_m = math.exp(-0.5 * xm * xm) / math.sqrt(2.0 * math.pi)
        Wp = w * Pp
        Wm = (1.0 - w) * Pm
        tot = Wp + Wm
        if tot > 1e-290:
            g, dg = _channel_out(xp, xm, phi_p / Pp, phi_m / Pm, Wp / tot, Wm / tot, sd, V)
            return g, dg, 0.5 * math.log(Pp / Pm)
    return _channel_log(xp, xm, w, sd, V)


@njit(cache=True)
def _channel_out(xp, xm, rp, rm, wp, wm, sd, V):  # pragma: no cover - compiled
    """(g, g') from the Mills ratios r± = φ(x±)/Φ(x±) and the weights w± of the two signs."""
    g = (wp * rp - wm * rm) / sd
    return g, -(wp * xp * rp + wm * xm * rm) / V - g * g


@njit(cache=True)
def _channel_log(xp, xm, w, sd, V):  # pragma: no cover - compiled
    """:func:`_channel_one` in log space: stable at every x± and every w."""
    lp, rp = _log_phi_ratio(xp)
    lm, rm = _log_phi_ratio(xm)
    ap = math.log(w) + lp if w > 0.0 else -math.inf
    am = math.log1p(-w) + lm if w < 1.0 else -math.inf
    top = max(ap, am)
    wp = math.exp(ap - top)
    wm = math.exp(am - top)
    tot = wp + wm
    g, dg = _channel_out(xp, xm, rp, rm, wp / tot, wm / tot, sd, V)
    return g, dg, 0.5 * (lp - lm)


@njit(cache=True)
def _channel(omega, V, wplus, kappa):  # pragma: no cover - compiled
    """Elementwise body of :func:`channel`."""
    n = omega.size
    g = np.empty(n)
    dg = np.empty(n)
    u = np.empty(n)
    for e in range(n):
        g[e], dg[e], u[e] = _channel_one(omega[e], V[e], wplus[e], kappa)
    return g, dg, u


@njit(cache=True, fastmath={"contract", "reassoc"})
def _edge_sums(conn, x, y, x2, y2, y3):  # pragma: no cover - compiled
    """Per edge (i, k), j = conn[i, k]: Σ_μ x[j, μ] y[i, μ], Σ_μ x2[j, μ] y2[i, μ] and
    Σ_μ x2[j, μ] y3[i, μ] (the sampled products of the weight update, §6.2); the sums are
    reassociated so that they compile to SIMD."""
    n, c = conn.shape
    M = x.shape[1]
    out = np.empty((3, n, c))
    for i in range(n):
        for k in range(c):
            j = conn[i, k]
            s1 = 0.0
            s2 = 0.0
            s3 = 0.0
            for mu in range(M):
                s1 += x[j, mu] * y[i, mu]
                s2 += x2[j, mu] * y2[i, mu]
                s3 += x2[j, mu] * y3[i, mu]
            out[0, i, k] = s1
            out[1, i, k] = s2
            out[2, i, k] = s3
    return out


def _sphere(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """The multiplier λ_i of every row that makes Σ_k (a_k² + v_k) = c with a = B/(A + λ),
    v = 1/(A + λ) (the spherical prior |J_i|² = c as a Gaussian one, §6.2): 60 bisection steps
    on the bracket (−min_k A_k, −min_k A_k + span] where the norm decreases monotonically from
    +∞ to below c."""
    c = A.shape[1]
    lo = -A.min(axis=1)
    span = np.maximum(2.0, 2.0 * np.sqrt((B * B).sum(axis=1) / c)) + 1e-12
    lo, hi = lo + 1e-12, lo + span

    def excess(x: np.ndarray) -> np.ndarray:
        d = A + x[:, None]
        return (B * B / (d * d) + 1.0 / d).sum(axis=1) - c

    for _ in range(60):
        mid = 0.5 * (lo + hi)
        pos = excess(mid) > 0
        lo, hi = np.where(pos, mid, lo), np.where(pos, hi, mid)
    return 0.5 * (lo + hi)


def _preactivation(inst: Instance, st: State, l: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean ω and variance V of every pre-activation of weight layer l (§6.1), ω with the
    Onsager term −g_old·Σ[v m² + a²(1 − m²)]/c; also the squared input magnetizations."""
    a, v, m = st.a[l - 1], st.v[l - 1], st.m[l - 1]
    c = inst.c
    m2 = m * m
    a2 = a * a
    am2 = inst.matrix(l, a2) @ m2
    sum_a2, sum_v = a2.sum(axis=1)[:, None], v.sum(axis=1)[:, None]
    V = np.maximum((sum_v + sum_a2 - am2) / c, 1e-300)
    ons = (inst.matrix(l, v) @ m2 + sum_a2 - am2) / c
    omega = inst.matrix(l, a) @ m / np.sqrt(c) - st.g[l - 1] * ons
    return omega, V, m2


def _weights(
    inst: Instance, st: State, l: int, g: np.ndarray, dg: np.ndarray, m2: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """New means, variances and multipliers of the weight rows of layer l (§6.2)."""
    c = inst.c
    a = st.a[l - 1]
    g2 = g * g
    xg, mdg, mg2 = _edge_sums(inst.conn[l - 1], st.m[l - 1], g, m2, dg, g2)
    D, G2 = dg.sum(axis=1)[:, None], g2.sum(axis=1)[:, None]
    A = -(D + G2 - mg2) / c
    B = xg / np.sqrt(c) - a * (mdg - mg2 + G2) / c
    lam = _sphere(A, B)
    d = A + lam[:, None]
    return B / d, 1.0 / d, lam


def _neurons(inst: Instance, st: State, l: int, g: np.ndarray, dg: np.ndarray) -> np.ndarray:
    """Downstream field of the hidden neurons of layer l from the constraints of layer l + 1
    (§6.3): Σ_i a_ij g_i/√c − m_j Σ_i (a_ij² g'_i + v_ij g_i²)/c."""
    c = inst.c
    a, v = st.a[l], st.v[l]
    lin = inst.matrix(l + 1, a).T @ g / np.sqrt(c)
    ons = inst.matrix(l + 1, a * a).T @ dg + inst.matrix(l + 1, v).T @ (g * g)
    return lin - st.m[l] * ons / c


def step(inst: Instance, st: State, damping: float) -> tuple[State, Info]:
    """One parallel update of every message (§6.4), damped: new = (1 − d)·update + d·old."""
    L, d = inst.L, damping
    gs, dgs, us, m2s = [], [], [], []
    for l in range(1, L + 1):
        omega, V, m2 = _preactivation(inst, st, l)
        g, dg, u = channel(omega, V, output_side(inst, l, st.field), inst.kappa)
        gs.append(d * st.g[l - 1] + (1 - d) * g)
        dgs.append(d * st.dg[l - 1] + (1 - d) * dg)
        us.append(u)
        m2s.append(m2)
    rows = damped_rows(
        st, d, [_weights(inst, st, l, gs[l - 1], dgs[l - 1], m2s[l - 1]) for l in range(1, L + 1)]
    )
    fields = [
        d * st.field[l - 1] + (1 - d) * _neurons(inst, st, l, gs[l], dgs[l]) for l in range(1, L)
    ]
    ups = [d * st.up[l - 1] + (1 - d) * us[l - 1] for l in range(1, L)]
    return finish(inst, st, rows, fields, ups, (gs, dgs))


def output_side(inst: Instance, l: int, field: Sequence[np.ndarray]) -> np.ndarray:
    """P(S_i = +1) of the output neurons of weight layer l as their constraints see them:
    clamped at l = L, else from the downstream field and the side field (§6.1)."""
    if l == inst.L:
        return 0.5 * (1.0 + inst.SL)
    return 0.5 * (1.0 + np.tanh(field[l - 1] + inst.side[l - 1]))


def damped_rows(
    st: State, d: float, new: list[tuple[np.ndarray, np.ndarray, np.ndarray]]
) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """Row means and variances damped towards the new (a, v, λ) of every weight layer (the
    multipliers λ are taken as they are)."""
    a = [d * old + (1 - d) * an for old, (an, _, _) in zip(st.a, new, strict=True)]
    v = [d * old + (1 - d) * vn for old, (_, vn, _) in zip(st.v, new, strict=True)]
    return a, v, [ln for _, _, ln in new]


def finish(
    inst: Instance,
    st: State,
    rows: tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]],
    fields: list[np.ndarray],
    ups: list[np.ndarray],
    channel_out: tuple[list[np.ndarray], list[np.ndarray]],
) -> tuple[State, Info]:
    """The new state of a step from its updated rows (means, variances, multipliers), the
    hidden neurons' downstream and upstream fields and the channel outputs: the hidden
    magnetizations m = tanh(u + F + s) and the residual (largest RMS change of the row means
    and of the magnetizations)."""
    L = inst.L
    a, v, lam = rows
    hidden = [np.tanh(ups[l - 1] + fields[l - 1] + inst.side[l - 1]) for l in range(1, L)]
    m = (st.m[0], *hidden, st.m[L])
    res = max(
        max(_rms(x - y) for x, y in zip(a, st.a, strict=True)),
        max((_rms(x - y) for x, y in zip(m, st.m, strict=True)), default=0.0),
    )
    gs, dgs = channel_out
    new = replace(
        st,
        a=tuple(a),
        v=tuple(v),
        lam=tuple(lam),
        m=m,
        field=tuple(fields),
        up=tuple(ups),
        g=tuple(gs),
        dg=tuple(dgs),
    )
    return new, Info(res)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x * x)))


def init_state(inst: Instance, start: str, bias: float, rng: np.random.Generator) -> State:
    """The start (§6.5): ``planted`` (means at the teacher, small variances), ``biased`` (means
    b·J*, magnetizations b·S*) or ``random`` (means b·ξ, ξ from the prior; hidden m = 0)."""
    L, c = inst.L, inst.c
    n, M = inst.SL.shape
    zeros = tuple(np.zeros((n, M)) for _ in range(L))
    if start == "random" or inst.teacher is None:
        xi = [_prior_rows(n, c, rng) for _ in range(L)]
        a = tuple(bias * x for x in xi)
        v = tuple(np.full((n, c), 1.0 - bias * bias) for _ in range(L))
        hid = tuple(np.zeros((n, M)) for _ in range(L - 1))
    else:
        eps = 0.01 if start == "planted" else 1.0 - bias * bias
        b = np.sqrt(1.0 - eps)
        a = tuple(b * J for J in inst.teacher)
        v = tuple(np.full((n, c), eps) for _ in range(L))
        assert inst.teacher_S is not None
        hid = tuple(b * S for S in inst.teacher_S[1:L])
    m = (inst.S0, *hid, inst.SL)
    lam = tuple(np.ones(n) for _ in range(L))
    fields = tuple(0.5 * np.arctanh(np.clip(h, -0.999, 0.999)) for h in hid)
    return State(a, v, lam, m, fields, fields, zeros, zeros)


def _prior_rows(n: int, c: int, rng: np.random.Generator) -> np.ndarray:
    """n rows uniform on the sphere |J|² = c."""
    J = rng.standard_normal((n, c))
    return J * np.sqrt(c) / np.linalg.norm(J, axis=1, keepdims=True)


def make_instance(
    widths: tuple[int, ...],
    c: int,
    M: int,
    scenario: str,
    kappa: float,
    rng: np.random.Generator,
    field: float = 0.0,
) -> Instance:
    """Random c-regular wiring on layers of the given widths (input width first), random ±1
    inputs, and either random ±1 outputs or the forward pass of a teacher with rows uniform on
    the spheres (docs/theory/perceptron.md §2). ``field`` h_b ≥ 0 (teacher only): every hidden
    neuron also sees the side channel h_b·S* + √h_b·z, z ~ N(0, 1) (a Bayes-optimal
    symmetry-breaking field, §6.5)."""
    from deeprg.perceptron.montecarlo.graph import random_graph

    w = np.asarray(widths, dtype=np.int64)
    L = len(w) - 1
    graph = random_graph(w, c, rng)
    conn = tuple(np.ascontiguousarray(graph.conn[l, : w[l + 1], :c]) for l in range(L))
    S0 = rng.choice(np.array([-1.0, 1.0]), size=(int(w[0]), M))
    if scenario != "teacher":
        SL = rng.choice(np.array([-1.0, 1.0]), size=(int(w[L]), M))
        side = tuple(np.zeros((int(w[l]), M)) for l in range(1, L))
        return Instance(conn, tuple(widths), S0, SL, kappa, side=side)
    teacher = tuple(_prior_rows(int(w[l + 1]), c, rng) for l in range(L))
    bare = Instance(conn, tuple(widths), S0, S0, kappa)
    layers = [S0]
    for l in range(1, L + 1):
        h = bare.matrix(l, teacher[l - 1]) @ layers[-1]
        layers.append(np.where(h >= 0, 1.0, -1.0))
    side = tuple(field * S + np.sqrt(field) * rng.standard_normal(S.shape) for S in layers[1:L])
    return Instance(conn, tuple(widths), S0, layers[-1], kappa, teacher, tuple(layers), side)
