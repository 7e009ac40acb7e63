"""Exact references shared by the Monte Carlo tests (a helper module, not a test file)."""

from itertools import product

import numpy as np

CONFIGS = list(product([-1, 1], repeat=4))
OBS_NAMES = [f"P{c}" for c in CONFIGS] + ["H", "|J|^2"]


def _energies(S0, SL, J1, J2):
    """H(S_hidden, J) for every hidden configuration: (n_J, 16)."""
    h1 = np.einsum("nij,mj->nmi", J1, S0.astype(float)) / np.sqrt(2)
    out = np.empty((len(J1), len(CONFIGS)))
    for c_idx, c in enumerate(CONFIGS):
        Sh = np.array(c, dtype=float).reshape(2, 2)
        r1 = Sh[None] * h1
        e1 = np.sum(np.where(r1 < 0, r1**2, 0.0), axis=(1, 2))
        h2 = np.einsum("nij,mj->nmi", J2, Sh) / np.sqrt(2)
        r2 = SL[None].astype(float) * h2
        e2 = np.sum(np.where(r2 < 0, r2**2, 0.0), axis=(1, 2))
        out[:, c_idx] = e1 + e2
    return out


def tiny_reference(S0, SL, beta=1.0, nJ=400_000, seed=7):
    """Exact Gibbs averages of the tiny L = 2, widths (2, 2, 1), M = 2 system (κ = 0, ε = 1)
    at inverse temperature ``beta`` with the Gaussian weight prior: enumeration of the 16
    hidden-spin configurations × importance sampling of the weights from the prior.

    Returns (reference, standard error) of the observables :data:`OBS_NAMES`: the 16
    probabilities P(S_hidden), the energy ⟨H⟩ and the squared weight norm ⟨Σ J²⟩. Standard
    errors of the ratio estimators by the delta method."""
    rng = np.random.default_rng(seed)
    J1 = rng.standard_normal((nJ, 2, 2))
    J2 = rng.standard_normal((nJ, 1, 2))
    H = _energies(S0, SL, J1, J2)
    w = np.exp(-beta * H)  # (nJ, 16)
    W = w.sum(1)
    J2sum = (J1**2).sum((1, 2)) + (J2**2).sum((1, 2))
    num = np.column_stack([w, (H * w).sum(1), J2sum * W])  # per-draw numerators
    ratio = num.mean(0) / W.mean()
    se = (num - ratio[None] * W[:, None]).std(0) / (np.sqrt(nJ) * W.mean())
    return ratio, se


_INDEX = {c: i for i, c in enumerate(CONFIGS)}


def tiny_observables(S, J, H):
    """The observables of :func:`tiny_reference` for one state (spins S, weights J, energy H)
    of the tiny system: (18,)."""
    out = np.zeros(len(OBS_NAMES))
    out[_INDEX[tuple(int(v) for v in S[1, :, :2].ravel())]] = 1.0
    out[-2] = H
    out[-1] = float(np.sum(J[0, :2, :2] ** 2) + np.sum(J[1, :1, :2] ** 2))
    return out
