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
is the same O(L·N·c·M); the memory grows by one (N, M, c) array per weight layer above the
first (the messages h; layer 1 reads the clamped inputs), and the cavity magnetizations are
computed on the fly from H and h, never stored.

Arrays: ``h[l − 2]`` of shape (N, M, c) belongs to the constraints of weight layer l ≥ 2 and
holds, for unit i, pattern μ and slot k, the message to input unit conn[i, k]. Fields of
neuron layers are computed pattern-major (M, N) inside the kernels.
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


@njit(cache=True)
def _tanh(y):  # pragma: no cover - compiled
    """tanh through one exp (3x faster than libm's tanh here; absolute error ~1e-16)."""
    e = math.exp(-2.0 * abs(y))
    return math.copysign((1.0 - e) / (1.0 + e), y)


@njit(cache=True)
def _down_fields(conn, h, n_in):  # pragma: no cover - compiled
    """F[j, μ] = Σ_{(i,k): conn[i,k] = j} h_{i→j}(μ), built pattern-major."""
    n, M, c = h.shape
    F = np.zeros((M, n_in))
    for i in range(n):
        for mu in range(M):
            for k in range(c):
                F[mu, conn[i, k]] += h[i, mu, k]
    return F.T


@njit(cache=True)
def _constraints(conn, a, v, h, Ht, g_old, dg_old, wp, kappa, damping):  # pragma: no cover
    """One pass over the constraints of a weight layer above the first. Per constraint (i, μ):
    the cavity magnetizations x = tanh(H − h) of its inputs, the pre-activation's mean (with
    the rows' Onsager term, g_old the previous g) and variance, the channel, the new messages
    to the inputs h = a g/√c − x (a² g' + v g²)/c, damped into ``h`` in place, and the row
    sums of the weight update with the damped g, g' (§6.8): Σ_μ x g, Σ_μ x² g' and
    Σ_μ (1 − x²) g² per edge. ``wp`` (N, M): the probability of S_i = +1 from the output side.
    Returns the undamped g, g', u (N, M) and the sums (3, N, c)."""
    n, M, c = h.shape
    inv = 1.0 / math.sqrt(c)
    g = np.empty((n, M))
    dg = np.empty((n, M))
    u = np.empty((n, M))
    sums = np.zeros((3, n, c))
    xs = np.empty(c)
    for i in range(n):
        sv = 0.0
        for k in range(c):
            sv += v[i, k]
        for mu in range(M):
            om = 0.0
            ons = 0.0
            var = sv
            for k in range(c):
                x = _tanh(Ht[mu, conn[i, k]] - h[i, mu, k])
                xs[k] = x
                x2 = x * x
                om += a[i, k] * x
                ons += v[i, k] * x2
                var += a[i, k] * a[i, k] * (1.0 - x2)
            omega = om * inv - g_old[i, mu] * ons / c
            gi, dgi, ui = _channel_one(omega, max(var / c, 1e-300), wp[i, mu], kappa)
            g[i, mu] = gi
            dg[i, mu] = dgi
            u[i, mu] = ui
            gd = damping * g_old[i, mu] + (1.0 - damping) * gi
            dgd = damping * dg_old[i, mu] + (1.0 - damping) * dgi
            gd2 = gd * gd
            for k in range(c):
                x = xs[k]
                x2 = x * x
                new = (a[i, k] * inv) * gi - x * (a[i, k] * a[i, k] * dgi + v[i, k] * gi * gi) / c
                h[i, mu, k] = damping * h[i, mu, k] + (1.0 - damping) * new
                sums[0, i, k] += x * gd
                sums[1, i, k] += x2 * dgd
                sums[2, i, k] += (1.0 - x2) * gd2
    return g, dg, u, sums


def init(inst: Instance, st: State) -> State:
    """The cavity form of a start of :func:`~deeprg.perceptron.mp.bp.init_state`: every message
    h is 0, so the cavity magnetizations equal the start's m; the total field arctanh m is split
    evenly between the upstream and the downstream side, as in the GAMP start, so that the
    first update of the constraints already sees the start from both sides."""
    half = tuple(0.5 * np.arctanh(np.clip(m, -0.999, 0.999)) for m in st.m[1 : inst.L])
    up = tuple(x - s for x, s in zip(half, inst.side, strict=True))
    n, M = st.m[0].shape
    h = tuple(np.zeros((n, M, inst.c)) for _ in range(2, inst.L + 1))
    return replace(st, up=up, field=half, h=h)


def _first_layer(inst: Instance, st: State, wp: np.ndarray) -> tuple[np.ndarray, ...]:
    """Weight layer 1 reads the clamped inputs (x = ±1: the two forms coincide)."""
    omega, V, _ = _preactivation(inst, st, 1)
    return channel(omega, V, wp, inst.kappa)


def step(inst: Instance, st: State, damping: float) -> tuple[State, Info]:
    """One parallel damped update (new = (1 − d)·update + d·old) of every message. The messages
    ``h`` of ``st`` (the bulk of the memory) are updated in place."""
    L, d = inst.L, damping
    gs, dgs, us = [], [], []
    sums: list[np.ndarray | None] = []
    for l in range(1, L + 1):
        wp = np.ascontiguousarray(output_side(inst, l, st.field))
        if l == 1:
            g, dg, u = _first_layer(inst, st, wp)
            sums.append(None)
        else:
            H = np.ascontiguousarray((st.up[l - 2] + st.field[l - 2] + inst.side[l - 2]).T)
            args = (st.a[l - 1], st.v[l - 1], st.h[l - 2], H, st.g[l - 1], st.dg[l - 1], wp)
            g, dg, u, s = _constraints(inst.conn[l - 1], *args, inst.kappa, d)
            sums.append(s)
        gs.append(d * st.g[l - 1] + (1 - d) * g)
        dgs.append(d * st.dg[l - 1] + (1 - d) * dg)
        us.append(u)
    new = [_weights(inst, st, l, gs[l - 1], dgs[l - 1], sums[l - 1]) for l in range(1, L + 1)]
    ups = [d * st.up[l - 1] + (1 - d) * us[l - 1] for l in range(1, L)]
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
