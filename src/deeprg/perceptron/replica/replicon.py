"""Replicon (stability of replica symmetry) of the RS chain, closure A, random I/O
(docs/theory/perceptron.md §3.9)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deeprg.errors import InputError
from deeprg.perceptron.replica import special as sp
from deeprg.perceptron.replica.rs import RSSolution


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
