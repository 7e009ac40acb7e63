"""Finite fully connected networks, batched over independent chains (bpkr.md §1.1–1.2).

Parameters are a tuple ``(W_1, ..., W_L, a)`` with a leading chain axis C:
W_l has shape (C, N_l, N_{l−1}) and the readout a has shape (C, N_L). The network is

    h_l = W_l x_{l−1}/√N_{l−1},   x_l = φ(h_l),   f(x) = a·x_L/√N_L,

with φ the identity ("linear"), ReLU or erf, standard 1/√N scaling, one output (or D outputs:
``outputs=D`` makes the readout an N_L×D matrix and f of shape (C, n, D)). Priors are
N(0, σ_l²) per entry (σ_{L+1}² for a), energy E = ½Σ_μ(f(x^μ) − y^μ)² and the Gibbs posterior
∝ exp(−E/T − Σ_l ‖W_l‖²/(2σ_l²)). Forward and backward passes are batched matrix products over
chains and data (no Python loop over chains or data points; the loop over layers is over L).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from deeprg.errors import check_choice, check_int, per_layer

ACTIVATIONS = ("linear", "relu", "erf")
Params = tuple[np.ndarray, ...]


@dataclass(frozen=True)
class Network:
    """Architecture of a single-output MLP: input dim, hidden widths, prior variances."""

    N0: int
    widths: tuple[int, ...]
    sigma2: tuple[float, ...]  # σ_1²..σ_{L+1}²
    activation: str = "linear"
    outputs: int = 1  # D: the readout is (N_L,) for D = 1 and (N_L, D) otherwise

    @property
    def L(self) -> int:
        return len(self.widths)

    @property
    def dims(self) -> tuple[int, ...]:
        return (self.N0, *self.widths)

    def shapes(self) -> list[tuple[int, ...]]:
        d = self.dims
        out = (d[-1],) if self.outputs == 1 else (d[-1], self.outputs)
        return [(d[l + 1], d[l]) for l in range(self.L)] + [out]


def network(
    N0: int,
    widths: Sequence[int],
    sigma2: float | Sequence[float] = 1.0,
    activation: str = "linear",
    outputs: int = 1,
) -> Network:
    """Validated :class:`Network` (``widths=()`` is L = 0: Bayesian linear regression);
    ``outputs`` = D >= 1 readout columns."""
    check_int("N0", N0)
    D = check_int("outputs", outputs)
    w = tuple(check_int(f"widths[{i}]", n) for i, n in enumerate(widths))
    s = tuple(float(v) for v in per_layer("sigma2", sigma2, len(w) + 1))
    check_choice("activation", activation, ACTIVATIONS)
    return Network(int(N0), w, s, activation, D)


def init_params(net: Network, n_chains: int, rng) -> Params:
    """Draw C independent parameter sets from the prior.

    ``rng``: a ``numpy.random.Generator`` or a per-chain ``deeprg.sampling.ChainRNG``.
    """
    return tuple(
        np.sqrt(s) * rng.standard_normal((n_chains, *shape))
        for s, shape in zip(net.sigma2, net.shapes(), strict=True)
    )


def forward(net: Network, params: Params, X: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Outputs f of shape (C, n) ((C, n, D) for D outputs) and the layer activations
    [x_0, x_1, ..., x_L] (each (C, n, N_l))."""
    f, xs, _ = _forward(net, params, X)
    return f, xs


def _forward(
    net: Network, params: Params, X: np.ndarray
) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """f, activations and (for erf) the φ'(h) of every hidden layer (empty list otherwise)."""
    from scipy.special import erf

    xs = [np.broadcast_to(X, (params[0].shape[0], *X.shape))]
    dphi: list[np.ndarray] = []
    for l in range(net.L):
        h = np.matmul(xs[-1], params[l].transpose(0, 2, 1))
        h *= 1.0 / np.sqrt(net.dims[l])
        if net.activation == "linear":
            xs.append(h)
        elif net.activation == "relu":
            xs.append(np.maximum(h, 0.0, out=h))
        else:
            dphi.append((2.0 / np.sqrt(np.pi)) * np.exp(-h * h))
            xs.append(erf(h))
    if params[-1].ndim == 3:  # D outputs
        return np.matmul(xs[-1], params[-1]) / np.sqrt(net.dims[-1]), xs, dphi
    f = np.matmul(xs[-1], params[-1][:, :, None])[..., 0] / np.sqrt(net.dims[-1])
    return f, xs, dphi


def potential_and_grad(
    net: Network, params: Params, X: np.ndarray, y: np.ndarray, T: float
) -> tuple[np.ndarray, Params, np.ndarray]:
    """Φ(θ) = E/T + Σ‖W_l‖²/(2σ_l²) per chain, its gradient, and the training outputs f.

    Exact backpropagation through the batched network; ReLU derivative 1[h > 0], erf
    derivative (2/√π) exp(−h²).
    """
    f, xs, dphi = _forward(net, params, X)
    r = f - y[None]  # (C, P) or (C, P, D)
    E = 0.5 * np.sum(r.reshape(r.shape[0], -1) ** 2, axis=1)
    grads: list[np.ndarray] = [np.empty(0)] * (net.L + 1)
    if r.ndim == 3:  # D outputs: readout (C, N_L, D)
        grads[-1] = np.matmul(xs[-1].transpose(0, 2, 1), r)
        delta = np.matmul(r, params[-1].transpose(0, 2, 1)) / np.sqrt(net.dims[-1])
    else:
        grads[-1] = np.matmul(r[:, None, :], xs[-1])[:, 0, :]  # unscaled: × 1/√N_l below
        delta = r[:, :, None] * params[-1][:, None, :] / np.sqrt(net.dims[-1])  # dE/dx_L
    for l in range(net.L - 1, -1, -1):
        if net.activation == "relu":
            delta *= xs[l + 1] > 0
        elif net.activation == "erf":
            delta *= dphi[l]
        grads[l] = np.matmul(delta.transpose(0, 2, 1), xs[l])
        if l > 0:
            delta = np.matmul(delta, params[l])
            delta *= 1.0 / np.sqrt(net.dims[l])
    prior = sum(
        np.einsum("ci,ci->c", p.reshape(p.shape[0], -1), p.reshape(p.shape[0], -1)) / (2 * s)
        for p, s in zip(params, net.sigma2, strict=True)
    )
    pot = E / T + prior
    g = []
    for gr, p, s, n in zip(grads, params, net.sigma2, net.dims, strict=True):  # ∇E/T + θ/σ²
        gr *= 1.0 / (T * np.sqrt(n))
        gr += p * (1.0 / s)
        g.append(gr)
    return pot, tuple(g), f


def backprop_readout(net: Network, params: Params) -> list[np.ndarray]:
    """Backpropagated readouts r_L = a/√N_L, r_{l−1} = W_lᵀ r_l/√N_{l−1} (linear nets, §3.8).

    Returns [r_0, r_1, ..., r_L], each of shape (C, N_l) ((C, N_l, D) for D outputs);
    f(x) = r_l·x_l (x_l r_l) for every l.
    """
    r = [np.empty(0)] * (net.L + 1)
    r[net.L] = params[-1] / np.sqrt(net.dims[-1])
    for l in range(net.L, 0, -1):
        sub = "cij,ci...->cj..."
        r[l - 1] = np.einsum(sub, params[l - 1], r[l]) / np.sqrt(net.dims[l - 1])
    return r
