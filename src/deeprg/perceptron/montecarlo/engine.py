"""Numba Monte Carlo kernel of deep perceptron networks (docs/theory/perceptron.md §2, §5.1).

L counts **weight layers**; neuron layers l = 0..L have widths w[0..L] (input and output may
differ from the hidden width). Unit i of layer l sees ``fan[l−1]`` units of layer l−1: all of
them (fully connected, c = w[l−1]) or c random distinct ones (sparse c-regular inputs, §2.1,
the tree-like "dense limit" 1 ≪ c ≪ N of the theory). Local field h_i = Σ_{j∈∂i} J_ij S_j/√c,
gap r = S_i h_i.

Arrays (padded to Nmax = max w):
    S[l, μ, i]   int8 ±1, layers 0 and L clamped (never moved)
    J[l−1, i, j] weights of layer l, dense storage (zero where j ∉ ∂i)
    h[l−1, μ, i] cached local fields of the units of layer l
A :class:`~deeprg.perceptron.montecarlo.graph.Graph` holds the connectivity (``graph.py``).

Energy (§2.5): H = Σ_{μ,l=1..L,i} V(r), V(r) = ε (r − κ)² θ(κ − r) (= ε r² θ(−r) at κ = 0).
Moves (Metropolis, min(1, e^{−βΔH}); T = 0 accepts iff ΔH ≤ 0):
    flip:     S_i^{μ,l} → −S_i^{μ,l}, l = 1..L−1; ΔH from its own gap and the (out-degree)
              gaps downstream, O(N) with cached fields;
    pcn:      J_ij → (J_ij + r x)/√(1+r²), x ~ N(0,1) (paper eq. 35): reversible for N(0,1)
              entries (Gaussian-prior ensemble); ΔH over the M gaps of unit i;
    rotation: (J_ij, J_ik), j, k ∈ ∂i, rotated by θ ~ U(−θ_max, θ_max) in their plane: preserves
              each row's norm exactly (strict spherical ensemble); ΔH over the M gaps of unit i.
One MC step = Σ_{l=1}^{L−1} w[l]·M flip attempts + Σ_l w[l]·fan[l−1] weight attempts (§5.1).

Move kernels: ``_flip_sweep`` and ``_weight_sweep`` (one sweep of one kind of move each) are
composed by ``_mc_steps`` into MC steps, in one compiled call per stretch of steps (the Python
objects that configure them live in ``moves.py``). Every kernel takes a
``numpy.random.Generator`` (Numba calls its bit generator directly): no global random state,
so a run's randomness is exactly the state of the Generators it was given. Sites are drawn as
⌊u·n⌋ from one uniform double (bias ≤ n/2⁵³), which is cheaper than a bounded integer draw.

The fully connected flip loop reads a contiguous transposed copy of J and evaluates V without
branches, so the downstream sum vectorizes (SIMD); the public functions are thin wrappers that
build that copy and a dense graph when none is given.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from deeprg.perceptron.montecarlo.graph import Graph, _build, dense_graph, random_graph

__all__ = [
    "MOVES_BY_NAME",
    "MOVE_NONE",
    "MOVE_PCN",
    "MOVE_ROTATION",
    "Graph",
    "_build",
    "compute_fields",
    "dense_graph",
    "flip_attempt",
    "flip_sweeps",
    "layer_energies",
    "mc_sweeps",
    "random_graph",
    "weight_attempt",
]

MOVE_NONE, MOVE_PCN, MOVE_ROTATION = -1, 0, 1
MOVES_BY_NAME = {"pcn": MOVE_PCN, "rotation": MOVE_ROTATION}
# reassociation (SIMD reductions) but no nnan/ninf: β = ∞ is a legitimate value (T = 0)
_FM = {"reassoc", "contract", "nsz", "arcp"}


@njit(cache=True, inline="always", fastmath=_FM)
def _V(r: float, kappa: float, eps: float) -> float:
    d = min(r - kappa, 0.0)
    return eps * d * d


@njit(cache=True)
def _compute_fields(S, J, w, fan):
    L = J.shape[0]
    M = S.shape[1]
    h = np.zeros((L, M, S.shape[2]))
    for l in range(1, L + 1):
        inv = 1.0 / np.sqrt(fan[l - 1])
        for mu in range(M):
            for i in range(w[l]):
                acc = 0.0
                for j in range(w[l - 1]):
                    acc += J[l - 1, i, j] * S[l - 1, mu, j]
                h[l - 1, mu, i] = acc * inv
    return h


def compute_fields(S, J, w, graph: Graph | None = None) -> np.ndarray:
    """h[l−1, μ, i] = Σ_j J[l−1, i, j] S[l−1, μ, j] / √fan, recomputed from scratch."""
    g = graph or dense_graph(w)
    return _compute_fields(S, J, np.asarray(w, dtype=np.int64), g.fan)


@njit(cache=True)
def layer_energies(S, h, w, kappa, eps):
    """(energy per layer l = 1..L, number of violated gaps r < κ per layer)."""
    L = h.shape[0]
    M = S.shape[1]
    E = np.zeros(L)
    V = np.zeros(L, dtype=np.int64)
    for l in range(1, L + 1):
        for mu in range(M):
            for i in range(w[l]):
                r = S[l, mu, i] * h[l - 1, mu, i]
                E[l - 1] += _V(r, kappa, eps)
                if r < kappa:
                    V[l - 1] += 1
    return E, V


@njit(cache=True, inline="always")
def _randint(rng, n):
    """Uniform integer in [0, n) from one double (⌊u·n⌋ < n exactly for u < 1)."""
    return np.int64(rng.random() * n)


@njit(cache=True, inline="always")
def _accept(dH: float, beta: float, rng) -> bool:
    if dH <= 0.0:
        return True
    if beta == np.inf:
        return False
    return rng.random() < np.exp(-beta * dH)


@njit(cache=True, fastmath=_FM)
def _flip(S, JT, h, w, fan, sparse, rptr, rk, l, mu, i, beta, kappa, eps, rng):
    s = S[l, mu, i]
    r = s * h[l - 1, mu, i]
    dH = _V(-r, kappa, eps) - _V(r, kappa, eps)
    if l == JT.shape[0]:  # a free output neuron: only its own gap changes
        if _accept(dH, beta, rng):
            S[l, mu, i] = -s
            return True, dH
        return False, 0.0
    coef = -2.0 * s / np.sqrt(fan[l])
    col = JT[l, i]
    hrow = h[l, mu]
    srow = S[l + 1, mu]
    if sparse:
        for p in range(rptr[l, i], rptr[l, i + 1]):
            k = rk[l, p]
            hk = hrow[k]
            dH += _V(srow[k] * (hk + coef * col[k]), kappa, eps) - _V(srow[k] * hk, kappa, eps)
    else:
        for k in range(w[l + 1]):
            hk = hrow[k]
            sk = np.float64(srow[k])
            dH += _V(sk * (hk + coef * col[k]), kappa, eps) - _V(sk * hk, kappa, eps)
    if _accept(dH, beta, rng):
        S[l, mu, i] = -s
        if sparse:
            for p in range(rptr[l, i], rptr[l, i + 1]):
                k = rk[l, p]
                hrow[k] += coef * col[k]
        else:
            for k in range(w[l + 1]):
                hrow[k] += coef * col[k]
        return True, dH
    return False, 0.0


@njit(cache=True)
def _weight(S, J, JT, h, w, fan, sparse, conn, l, i, a, beta, kappa, eps, move, step, buf, rng):
    M = S.shape[1]
    inv = 1.0 / np.sqrt(fan[l - 1])
    j = conn[l - 1, i, a] if sparse else a
    old_j = J[l - 1, i, j]
    k = j
    if move == MOVE_PCN:
        new_j = (old_j + step * rng.standard_normal()) / np.sqrt(1.0 + step * step)
        dj, dk = new_j - old_j, 0.0
        old_k = 0.0
    else:
        b = _randint(rng, fan[l - 1] - 1)
        if b >= a:
            b += 1
        k = conn[l - 1, i, b] if sparse else b
        th = step * (2.0 * rng.random() - 1.0)
        c, sn = np.cos(th), np.sin(th)
        old_k = J[l - 1, i, k]
        new_j = old_j * c - old_k * sn
        new_k = old_j * sn + old_k * c
        dj, dk = new_j - old_j, new_k - old_k
    dH = 0.0
    for mu in range(M):
        dh = (dj * S[l - 1, mu, j] + dk * S[l - 1, mu, k]) * inv
        hold = h[l - 1, mu, i]
        si = S[l, mu, i]
        buf[mu] = dh
        dH += _V(si * (hold + dh), kappa, eps) - _V(si * hold, kappa, eps)
    if _accept(dH, beta, rng):
        J[l - 1, i, j] = old_j + dj
        JT[l - 1, j, i] = old_j + dj
        if move != MOVE_PCN:
            J[l - 1, i, k] = old_k + dk
            JT[l - 1, k, i] = old_k + dk
        for mu in range(M):
            h[l - 1, mu, i] += buf[mu]
        return True, dH
    return False, 0.0


@njit(cache=True)
def _flip_sweep(S, JT, h, w, fan, sparse, rptr, rk, beta, kappa, eps, counts, rng, top):
    """One flip sweep: Σ_{l=1}^{top} w[l]·M attempts at random sites (a layer is picked with
    probability ∝ its number of neurons); top = L − 1 (hidden layers) or L (free outputs).
    Returns the summed ΔH."""
    M = S.shape[1]
    n_flip = 0
    for l in range(1, top + 1):
        n_flip += w[l] * M
    total = 0.0
    for _a in range(n_flip):
        t = _randint(rng, n_flip)
        l = 1
        while t >= w[l] * M:
            t -= w[l] * M
            l += 1
        ok, d = _flip(S, JT, h, w, fan, sparse, rptr, rk, l, t // w[l], t % w[l], beta, kappa,
                      eps, rng)  # fmt: skip
        counts[0] += 1
        if ok:
            counts[1] += 1
        total += d
    return total


@njit(cache=True)
def _weight_sweep(S, J, JT, h, w, fan, sparse, conn, beta, kappa, eps, move, steps, counts, buf,
                  rng):  # fmt: skip
    """One weight sweep: Σ_l w[l]·fan[l−1] attempts of ``move`` (pCN or rotation) at random
    (row, input) slots; ``steps[l−1]`` is the move size of layer l. Returns the summed ΔH."""
    L = J.shape[0]
    n_wt = 0
    for l in range(1, L + 1):
        n_wt += w[l] * fan[l - 1]
    total = 0.0
    for _b in range(n_wt):
        t = _randint(rng, n_wt)
        l = 1
        while t >= w[l] * fan[l - 1]:
            t -= w[l] * fan[l - 1]
            l += 1
        ok, d = _weight(S, J, JT, h, w, fan, sparse, conn, l, t // fan[l - 1], t % fan[l - 1],
                        beta, kappa, eps, move, steps[l - 1], buf, rng)  # fmt: skip
        counts[2] += 1
        if ok:
            counts[3] += 1
        total += d
    return total


@njit(cache=True)
def _mc_steps(S, J, JT, h, w, fan, sparse, conn, rptr, rk, n_steps, beta, kappa, eps, flip, move,
              steps, counts, rng):  # fmt: skip
    """``n_steps`` MC steps, each a flip sweep (if ``flip``) then a weight sweep of ``move``
    (unless MOVE_NONE). ``counts`` (4,): flip attempts, accepted, weight attempts, accepted."""
    buf = np.zeros(S.shape[1])
    total = 0.0
    top = J.shape[0] - 1 if flip == 1 else J.shape[0]  # flip 1: hidden layers, 2: and outputs
    for _ in range(n_steps):
        if flip:
            total += _flip_sweep(S, JT, h, w, fan, sparse, rptr, rk, beta, kappa, eps, counts,
                                 rng, top)  # fmt: skip
        if move != MOVE_NONE:
            total += _weight_sweep(S, J, JT, h, w, fan, sparse, conn, beta, kappa, eps, move,
                                   steps, counts, buf, rng)  # fmt: skip
    return total


def _transposed(J: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(J.transpose(0, 2, 1))


def _rng(rng: np.random.Generator | None) -> np.random.Generator:
    return np.random.default_rng() if rng is None else rng


def run_steps(S, J, h, w, graph, n, beta, kappa, eps, flip, move, steps, counts, rng) -> float:
    """``n`` MC steps in place with the given moves (the compiled composition); returns ΔH.
    ``flip``: 0 no neuron flips, 1 (or True) hidden layers, 2 hidden layers and free outputs."""
    w = np.asarray(w, dtype=np.int64)
    g = graph
    args = (g.fan, g.sparse, g.conn, g.rptr, g.rk, int(n), float(beta), float(kappa), float(eps))
    steps = np.asarray(steps, dtype=np.float64)
    return _mc_steps(S, J, _transposed(J), h, w, *args, int(flip), int(move), steps, counts, rng)


def mc_sweeps(
    S, J, h, w, n_steps, beta, kappa, eps, move, steps, counts, graph=None, rng=None
) -> float:
    """Run ``n_steps`` MC steps in place (S, J, h updated) with random numbers from ``rng`` (a
    ``numpy.random.Generator``; None: a fresh one from OS entropy). ``steps[l−1]`` is the move
    size of layer l. ``counts`` (4,) accumulates (flip attempts, flips accepted, weight
    attempts, accepted). Returns the total ΔH (for bookkeeping checks)."""
    g = graph or dense_graph(w)
    return run_steps(S, J, h, w, g, n_steps, beta, kappa, eps, True, move, steps, counts, _rng(rng))


def flip_sweeps(S, J, h, w, n_sweeps, beta, kappa, eps, graph=None, rng=None) -> int:
    """Neuron-flip attempts only: ``n_sweeps`` × Σ_{l=1}^{L−1} w[l]·M random-site attempts
    (throughput measurements, neuron-only dynamics). Returns the accepted flips."""
    counts = np.zeros(4, dtype=np.int64)
    g = graph or dense_graph(w)
    run_steps(S, J, h, w, g, n_sweeps, beta, kappa, eps, True, MOVE_NONE, np.zeros(J.shape[0]),
              counts, _rng(rng))  # fmt: skip
    return int(counts[1])


def flip_attempt(S, J, h, w, l, mu, i, beta, kappa, eps, graph=None, rng=None):
    """One neuron-flip attempt at (l, μ, i); returns (accepted, ΔH). (Tests; the sweeps call
    the compiled kernel directly.)"""
    g = graph or dense_graph(w)
    w = np.asarray(w, dtype=np.int64)
    JT = _transposed(J)
    return _flip(S, JT, h, w, g.fan, g.sparse, g.rptr, g.rk, l, mu, i, beta, kappa, eps, _rng(rng))


def weight_attempt(S, J, h, w, l, i, a, beta, kappa, eps, move, step, buf, graph=None, rng=None):
    """One weight move on row i of layer l at input slot a (pCN on J_ij, or a rotation of
    (J_ij, J_ik)); returns (accepted, ΔH)."""
    g = graph or dense_graph(w)
    w = np.asarray(w, dtype=np.int64)
    return _weight(S, J, _transposed(J), h, w, g.fan, g.sparse, g.conn, l, i, a, beta, kappa, eps,
                   move, step, buf, _rng(rng))  # fmt: skip
