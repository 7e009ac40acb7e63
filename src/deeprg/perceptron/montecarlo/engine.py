"""Numba Monte Carlo kernel of deep perceptron networks (deep-perceptron-networks.md §2, §5.1).

L counts **weight layers**; neuron layers l = 0..L have widths w[0..L] (input and output may
differ from the hidden width). Fully connected: unit i of layer l sees all w[l−1] units of
layer l−1, with local field h_i = Σ_j J_ij S_j /√w[l−1] and gap r = S_i h_i.

Arrays (padded to Nmax = max w):
    S[l, μ, i]   int8 ±1, layers 0 and L clamped (never moved)
    J[l−1, i, j] weights of layer l
    h[l−1, μ, i] cached local fields of the units of layer l

Energy (§2.5): H = Σ_{μ,l=1..L,i} V(r), V(r) = ε (r − κ)² θ(κ − r) (= ε r² θ(−r) at κ = 0).
Moves (Metropolis, min(1, e^{−βΔH}); T = 0 accepts iff ΔH ≤ 0):
    flip:     S_i^{μ,l} → −S_i^{μ,l}, l = 1..L−1; ΔH from its own gap and the w[l+1] gaps
              downstream, O(N) with cached fields;
    pcn:      J_ij → (J_ij + r x)/√(1+r²), x ~ N(0,1) (paper eq. 35): reversible for N(0,1)
              entries (Gaussian-prior ensemble); ΔH over the M gaps of unit i;
    rotation: (J_ij, J_ik) rotated by θ ~ U(−θ_max, θ_max) in their plane: preserves each row's
              norm exactly (strict spherical ensemble); ΔH over the M gaps of unit i.
One MC step = Σ_{l=1}^{L−1} w[l]·M flip attempts + Σ_l w[l]·w[l−1] weight attempts (§5.1).
"""

from __future__ import annotations

import numpy as np
from numba import njit

MOVE_PCN, MOVE_ROTATION = 0, 1


@njit(cache=True)
def seed_numba(seed: int) -> None:
    """Seed Numba's generator (per process/thread)."""
    np.random.seed(seed)


@njit(cache=True, inline="always")
def _V(r: float, kappa: float, eps: float) -> float:
    d = r - kappa
    return eps * d * d if d < 0.0 else 0.0


@njit(cache=True)
def compute_fields(S, J, w):
    """h[l−1, μ, i] = Σ_j J[l−1, i, j] S[l−1, μ, j] / √w[l−1], recomputed from scratch."""
    L = J.shape[0]
    M = S.shape[1]
    h = np.zeros((L, M, S.shape[2]))
    for l in range(1, L + 1):
        inv = 1.0 / np.sqrt(w[l - 1])
        for mu in range(M):
            for i in range(w[l]):
                acc = 0.0
                for j in range(w[l - 1]):
                    acc += J[l - 1, i, j] * S[l - 1, mu, j]
                h[l - 1, mu, i] = acc * inv
    return h


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
def _accept(dH: float, beta: float) -> bool:
    if dH <= 0.0:
        return True
    if beta == np.inf:
        return False
    return np.random.random() < np.exp(-beta * dH)


@njit(cache=True)
def flip_attempt(S, J, h, w, l, mu, i, beta, kappa, eps):
    """One neuron-flip attempt at (l, μ, i); returns (accepted, ΔH)."""
    s = S[l, mu, i]
    r = s * h[l - 1, mu, i]
    dH = _V(-r, kappa, eps) - _V(r, kappa, eps)
    coef = -2.0 * s / np.sqrt(w[l])
    for k in range(w[l + 1]):
        hk = h[l, mu, k]
        hn = hk + coef * J[l, k, i]
        sk = S[l + 1, mu, k]
        dH += _V(sk * hn, kappa, eps) - _V(sk * hk, kappa, eps)
    if _accept(dH, beta):
        S[l, mu, i] = -s
        for k in range(w[l + 1]):
            h[l, mu, k] += coef * J[l, k, i]
        return True, dH
    return False, 0.0


@njit(cache=True)
def weight_attempt(S, J, h, w, l, i, j, beta, kappa, eps, move, step, buf):
    """One weight move on row i of layer l (pCN on J_ij, or a rotation of (J_ij, J_ik));
    returns (accepted, ΔH)."""
    M = S.shape[1]
    inv = 1.0 / np.sqrt(w[l - 1])
    old_j = J[l - 1, i, j]
    k = j
    if move == MOVE_PCN:
        new_j = (old_j + step * np.random.normal()) / np.sqrt(1.0 + step * step)
        dj, dk = new_j - old_j, 0.0
        old_k = 0.0
    else:
        k = np.random.randint(0, w[l - 1] - 1)
        if k >= j:
            k += 1
        th = step * (2.0 * np.random.random() - 1.0)
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
    if _accept(dH, beta):
        J[l - 1, i, j] = old_j + dj
        if move != MOVE_PCN:
            J[l - 1, i, k] = old_k + dk
        for mu in range(M):
            h[l - 1, mu, i] += buf[mu]
        return True, dH
    return False, 0.0


@njit(cache=True)
def mc_sweeps(S, J, h, w, n_steps, beta, kappa, eps, move, steps, counts):
    """Run ``n_steps`` MC steps in place. ``steps[l−1]`` is the move size of layer l.

    ``counts`` (4,) accumulates (flip attempts, flips accepted, weight attempts, accepted).
    Returns the total ΔH (for bookkeeping checks).
    """
    L = J.shape[0]
    M = S.shape[1]
    buf = np.zeros(M)
    n_flip = 0
    for l in range(1, L):
        n_flip += w[l] * M
    n_wt = 0
    for l in range(1, L + 1):
        n_wt += w[l] * w[l - 1]
    total = 0.0
    for _ in range(n_steps):
        for _a in range(n_flip):
            # pick a hidden layer with probability ∝ its number of neurons
            t = np.random.randint(0, n_flip)
            l = 1
            while t >= w[l] * M:
                t -= w[l] * M
                l += 1
            mu = t // w[l]
            i = t % w[l]
            ok, d = flip_attempt(S, J, h, w, l, mu, i, beta, kappa, eps)
            counts[0] += 1
            if ok:
                counts[1] += 1
            total += d
        for _b in range(n_wt):
            t = np.random.randint(0, n_wt)
            l = 1
            while t >= w[l] * w[l - 1]:
                t -= w[l] * w[l - 1]
                l += 1
            i = t // w[l - 1]
            j = t % w[l - 1]
            ok, d = weight_attempt(S, J, h, w, l, i, j, beta, kappa, eps, move, steps[l - 1], buf)
            counts[2] += 1
            if ok:
                counts[3] += 1
            total += d
    return total


@njit(cache=True)
def flip_sweeps(S, J, h, w, n_sweeps, beta, kappa, eps):
    """Neuron-flip attempts only: ``n_sweeps`` × Σ_{l=1}^{L−1} w[l]·M random-site attempts
    (for throughput measurements and neuron-only dynamics). Returns accepted flips."""
    L = J.shape[0]
    M = S.shape[1]
    n_flip = 0
    for l in range(1, L):
        n_flip += w[l] * M
    acc = 0
    for _ in range(n_sweeps * n_flip):
        t = np.random.randint(0, n_flip)
        l = 1
        while t >= w[l] * M:
            t -= w[l] * M
            l += 1
        ok, _d = flip_attempt(S, J, h, w, l, t // w[l], t % w[l], beta, kappa, eps)
        acc += ok
    return acc
