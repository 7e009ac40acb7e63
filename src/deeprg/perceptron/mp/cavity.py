"""Relaxed BP with cavity neurons (docs/theory/perceptron.md §6.8): the weights as in the
GAMP form of :mod:`~deeprg.perceptron.mp.bp`, the hidden neurons with one cavity magnetization
per edge instead of the Onsager-corrected node magnetization.

A hidden neuron S_k(μ) sits in one upstream and c downstream constraints. The message of a
downstream constraint (i, μ) to it is linear in S_k, h_{i→k} = δ (g_iμ − δ x_{k→i} g'_iμ) with
δ = a_ik/√c, and the magnetization the constraint reads is the exact cavity one,

    x_{k→i}(μ) = tanh(H_k(μ) − h_{i→k}(μ)),   H_k = u_k + Σ_i h_{i→k} + side field.

The GAMP form replaces this by x ≈ m_k − (1 − m_k²) h_{i→k}, which fails when single messages
are O(1) (|δ g| reaches 1–2 at c = 32: a strongly violated constraint has a large g), and its
iteration then wanders without a fixed point; the cavity form converges. The cost per iteration
is the same O(L·N·c·M); the memory grows by one (N, c, M) array per weight layer above the
first (the messages h; layer 1 reads the clamped inputs), and the cavity magnetizations are
computed on the fly from H and h, never stored.

Arrays: ``h[l − 2]`` of shape (N, c, M) belongs to the constraints of weight layer l ≥ 2 and
holds, for unit i, slot k and pattern μ, the message to input unit conn[i, k]: the kernels run
unit by unit and edge by edge with patterns innermost, so that every inner loop is contiguous
and compiles to SIMD (the tanh included, :func:`_tanh_row`).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from numba import njit

from deeprg.perceptron.mp.bp import (
    Info,
    Instance,
    State,
    _channel_one,
    _preactivation,
    _sphere,
    channel,
    damped_rows,
    finish,
    output_side,
)
from deeprg.perceptron.mp.bp import _weights as node_weights

_MAGIC = 6755399441055744.0  # 1.5·2^52: adding it rounds a double to an integer
_EXP_BITS = 0x4338000000000000 - 1023  # _MAGIC's bit pattern less the exponent bias
_FM = {"contract"}  # fused multiply-add only: no reassociation, NaN and inf kept


@njit(cache=True, fastmath=_FM)
def _tanh_row(y, out, scratch):  # pragma: no cover - compiled
    """out ← tanh(y) for a contiguous row: −sign(y)·m/(2 + m) with m = exp(−2|y|) − 1 by range
    reduction, m = 2^k·q(r) + (2^k − 1), |r| ≤ ln2/2, q(r) = e^r − 1 the degree-13 Taylor
    polynomial without its constant, 2^k from its bit pattern: every loop is branch-free and
    compiles to SIMD (a call to libm's exp does not); relative error ≤ 1e-15 near 0, absolute
    ≤ 4e-16 everywhere (tests). |y| is clamped at 20, beyond which tanh = ±1 in float64.
    ``scratch``: a float64 row of the same length."""
    n = y.size
    for j in range(n):
        z = max(-2.0 * abs(y[j]), -40.0)
        t = z * 1.4426950408889634 + _MAGIC
        k = t - _MAGIC
        r = (z - k * 0.6931471803691238) - k * 1.9082149292705877e-10
        p = 1.0 / 6227020800.0
        p = p * r + 1.0 / 479001600.0
        p = p * r + 1.0 / 39916800.0
        p = p * r + 1.0 / 3628800.0
        p = p * r + 1.0 / 362880.0
        p = p * r + 1.0 / 40320.0
        p = p * r + 1.0 / 5040.0
        p = p * r + 1.0 / 720.0
        p = p * r + 1.0 / 120.0
        p = p * r + 1.0 / 24.0
        p = p * r + 1.0 / 6.0
        p = p * r + 0.5
        p = p * r + 1.0
        out[j] = p * r
        scratch[j] = t  # k + _MAGIC: k sits in the low mantissa bits
    bits = scratch.view(np.int64)
    for j in range(n):
        bits[j] = (bits[j] - _EXP_BITS) << 52  # the bits of 2^k
    for j in range(n):
        m = out[j] * scratch[j] + (scratch[j] - 1.0)
        out[j] = math.copysign(-m / (2.0 + m), y[j])


@njit(cache=True, fastmath=_FM)
def _down_fields(conn, h, n_in):  # pragma: no cover - compiled
    """F[j, μ] = Σ_{(i,k): conn[i,k] = j} h_{i→j}(μ)."""
    n, c, M = h.shape
    F = np.zeros((n_in, M))
    for i in range(n):
        for k in range(c):
            row = F[conn[i, k]]
            for mu in range(M):
                row[mu] += h[i, k, mu]
    return F


@njit(cache=True, fastmath={"contract", "reassoc"})
def _edge_update(x, hk, g, dg, gd, dgd, edge, damping):  # pragma: no cover - compiled
    """One edge over all patterns: the damped new messages h = a g/√c − x (a² g' + v g²)/c in
    place (``edge`` = (a/√c, a²/c, v/c)) and the three row sums Σ_μ x gd, Σ_μ x² dgd and
    Σ_μ (1 − x²) gd² (gd, dgd: the damped g, g'), reassociated so that they compile to SIMD."""
    ca, a2c, vc = edge
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    for mu in range(x.size):
        x2 = x[mu] * x[mu]
        new = ca * g[mu] - x[mu] * (a2c * dg[mu] + vc * g[mu] * g[mu])
        hk[mu] = damping * hk[mu] + (1.0 - damping) * new
        s0 += x[mu] * gd[mu]
        s1 += x2 * dgd[mu]
        s2 += (1.0 - x2) * gd[mu] * gd[mu]
    return s0, s1, s2


@njit(cache=True, fastmath=_FM)
def _constraints(conn, a, v, h, H, g_old, dg_old, wp, kappa, damping):  # pragma: no cover
    """One pass over the constraints of a weight layer above the first, unit by unit and
    vectorized over patterns. Per constraint (i, μ): the cavity magnetizations x = tanh(H − h)
    of its inputs, the pre-activation's mean (with the rows' Onsager term, g_old the previous
    g) and variance, the channel, the new messages to the inputs h = a g/√c − x (a² g' +
    v g²)/c, damped into ``h`` in place, and the row sums of the weight update with the damped
    g, g' (§6.8): Σ_μ x g, Σ_μ x² g' and Σ_μ (1 − x²) g² per edge. ``h`` (N, c, M), ``H``
    (N_in, M): the total fields of the inputs; ``wp`` (N, M): the probability of S_i = +1 from
    the output side. Returns the undamped g, g', u (N, M) and the sums (3, N, c)."""
    n, c, M = h.shape
    inv = 1.0 / math.sqrt(c)
    g = np.empty((n, M))
    dg = np.empty((n, M))
    u = np.empty((n, M))
    sums = np.zeros((3, n, c))
    X = np.empty((c, M))
    y = np.empty(M)
    scratch = np.empty(M)
    om = np.empty(M)
    ons = np.empty(M)
    var = np.empty(M)
    gd = np.empty(M)
    dgd = np.empty(M)
    for i in range(n):
        om[:] = 0.0
        ons[:] = 0.0
        var[:] = v[i].sum()
        for k in range(c):
            Hj, hk, x = H[conn[i, k]], h[i, k], X[k]
            aik, vik, a2 = a[i, k], v[i, k], a[i, k] * a[i, k]
            for mu in range(M):
                y[mu] = Hj[mu] - hk[mu]
            _tanh_row(y, x, scratch)
            for mu in range(M):
                x2 = x[mu] * x[mu]
                om[mu] += aik * x[mu]
                ons[mu] += vik * x2
                var[mu] += a2 * (1.0 - x2)
        for mu in range(M):
            omega = om[mu] * inv - g_old[i, mu] * ons[mu] / c
            gi, dgi, ui = _channel_one(omega, max(var[mu] / c, 1e-300), wp[i, mu], kappa)
            g[i, mu], dg[i, mu], u[i, mu] = gi, dgi, ui
            gd[mu] = damping * g_old[i, mu] + (1.0 - damping) * gi
            dgd[mu] = damping * dg_old[i, mu] + (1.0 - damping) * dgi
        for k in range(c):
            edge = (a[i, k] * inv, a[i, k] * a[i, k] / c, v[i, k] / c)
            s0, s1, s2 = _edge_update(X[k], h[i, k], g[i], dg[i], gd, dgd, edge, damping)
            sums[0, i, k], sums[1, i, k], sums[2, i, k] = s0, s1, s2
    return g, dg, u, sums


def init(inst: Instance, st: State) -> State:
    """The cavity form of a start of :func:`~deeprg.perceptron.mp.bp.init_state`: every message
    h is 0, so the cavity magnetizations equal the start's m; the total field arctanh m is split
    evenly between the upstream and the downstream side, as in the GAMP start, so that the
    first update of the constraints already sees the start from both sides."""
    half = tuple(0.5 * np.arctanh(np.clip(m, -0.999, 0.999)) for m in st.m[1 : inst.L])
    up = tuple(x - s for x, s in zip(half, inst.side, strict=True))
    n, M = st.m[0].shape
    h = tuple(np.zeros((n, inst.c, M)) for _ in range(2, inst.L + 1))
    return replace(st, up=up, field=half, h=h)


def _first_layer(inst: Instance, st: State, wp: np.ndarray) -> tuple[np.ndarray, ...]:
    """Weight layer 1 reads the clamped inputs (x = ±1: the two forms coincide)."""
    omega, V, _ = _preactivation(inst, st, 1)
    return channel(omega, V, wp, inst.kappa)


def step(
    inst: Instance, st: State, damping: float, schedule: str = "forward"
) -> tuple[State, Info]:
    """One damped update (new = (1 − d)·update + d·old) of every message, layer by layer from
    the input. ``schedule`` "forward": the constraints of weight layer l see the upstream
    fields that layer l − 1 has just sent in this sweep (the rest from the previous iterate);
    "parallel": everything from the previous iterate. The messages ``h`` of ``st`` (the bulk
    of the memory) are updated in place."""
    L, d = inst.L, damping
    gs, dgs = [], []
    ups = list(st.up)
    sums: list[np.ndarray | None] = []
    for l in range(1, L + 1):
        wp = np.ascontiguousarray(output_side(inst, l, st.field))
        if l == 1:
            g, dg, u = _first_layer(inst, st, wp)
            sums.append(None)
        else:
            up = ups[l - 2] if schedule == "forward" else st.up[l - 2]
            H = np.ascontiguousarray(up + st.field[l - 2] + inst.side[l - 2])
            args = (st.a[l - 1], st.v[l - 1], st.h[l - 2], H, st.g[l - 1], st.dg[l - 1], wp)
            g, dg, u, s = _constraints(inst.conn[l - 1], *args, inst.kappa, d)
            sums.append(s)
        gs.append(d * st.g[l - 1] + (1 - d) * g)
        dgs.append(d * st.dg[l - 1] + (1 - d) * dg)
        if l < L:
            ups[l - 1] = d * st.up[l - 1] + (1 - d) * u
    new = [_weights(inst, st, l, gs[l - 1], dgs[l - 1], sums[l - 1]) for l in range(1, L + 1)]
    F = [_down_fields(inst.conn[l], st.h[l - 1], inst.widths[l]) for l in range(1, L)]
    return finish(inst, st, damped_rows(st, d, new), F, ups, (gs, dgs))


def _weights(
    inst: Instance, st: State, l: int, g: np.ndarray, dg: np.ndarray, s: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """New means, variances and multipliers of the weight rows of layer l (§6.8):
    A = −Σ_μ [g' + (1 − x²) g²]/c, B = Σ_μ x g/√c − a Σ_μ x² g'/c, from the sums ``s`` of
    :func:`_constraints` (layer 1, clamped inputs: the node form's update)."""
    c = inst.c
    if l == 1:
        return node_weights(inst, st, 1, g, dg, np.ones_like(st.m[0]))
    assert s is not None
    A = -(dg.sum(axis=1)[:, None] + s[2]) / c
    B = s[0] / np.sqrt(c) - st.a[l - 1] * s[1] / c
    lam = _sphere(A, B)
    den = A + lam[:, None]
    return B / den, 1.0 / den, lam
