"""Gram-matrix NNGP maps and their adjoints (docs/theory/nonlinear-renormalization.md §4).

One NNGP step acts elementwise on a Gram matrix K (P×P) and its diagonal:

    k_φ(K)_ij = g(K_ij, K_ii, K_jj),   g(k, v1, v2) = E_{(h,h') ~ N(0, [[v1, k], [k, v2]])}[φ(h)φ(h')].

The layer-wise saddle solver needs the action's gradient with respect to the order parameters
below the top layer, i.e. the chain rule through these maps. For an adjoint B (∂S/∂k_φ(K)):

    (Jᵀ B)_ij = B_ij ∂g/∂k            (every i, j),
    (Jᵀ B)_ii += Σ_j B_ij ∂g/∂v1 + Σ_j B_ji ∂g/∂v2,

because the diagonal entry K_ii enters its own entry and, as a variance, every entry of row
and column i. Partial derivatives: closed forms for ReLU (arc-cosine) and erf (arcsin); for
"tanh" and any callable φ, Price's theorem ∂g/∂k = E[φ'(h)φ'(h')], ∂g/∂v1 = ½E[φ''(h)φ(h')]
evaluated by 2-D Gauss–Hermite quadrature (φ' and φ'' analytic for tanh, central differences
for a callable).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from deeprg.errors import InputError
from deeprg.kernels.nngp import _correlation, erf_map, quadrature_map, relu_map

GRAM_ACTIVATIONS = ("linear", "relu", "erf", "tanh")
HOMOGENEOUS = ("linear", "relu")  # k_φ(cK) = c k_φ(K): layer-wise = scalar renormalization
Act = str | Callable[[np.ndarray], np.ndarray]


def _tanh1(x: np.ndarray) -> np.ndarray:
    t = np.tanh(x)
    return 1.0 - t * t


def _tanh2(x: np.ndarray) -> np.ndarray:
    t = np.tanh(x)
    return -2.0 * t * (1.0 - t * t)


def _fd1(phi: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    h = 1e-4
    return lambda x: (np.asarray(phi(x + h)) - np.asarray(phi(x - h))) / (2 * h)


def _fd2(phi: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    h = 1e-3
    return lambda x: (
        (np.asarray(phi(x + h)) - 2 * np.asarray(phi(x)) + np.asarray(phi(x - h))) / (h * h)
    )


def check_gram_activation(activation: Act) -> Act:
    """Accept the named activations and callables; one-line error otherwise."""
    if callable(activation):
        return activation
    if activation not in GRAM_ACTIVATIONS:
        raise InputError(
            f"activation must be one of {', '.join(GRAM_ACTIVATIONS)} or a callable; "
            f"got {activation!r}"
        )
    return activation


def _phis(activation: Act):
    if activation == "tanh":
        return np.tanh, _tanh1, _tanh2
    assert callable(activation)
    return activation, _fd1(activation), _fd2(activation)


def pair_map(activation: Act, k12: np.ndarray, v1: np.ndarray, v2: np.ndarray, order: int = 64):
    """g(k12, v1, v2) on a block (rows ↔ v1, columns ↔ v2)."""
    if activation == "linear":
        return np.array(k12, dtype=np.float64, copy=True)
    if activation == "relu":
        return relu_map(k12, v1, v2)
    if activation == "erf":
        return erf_map(k12, v1, v2)
    phi = _phis(activation)[0]
    return quadrature_map(phi, k12, v1, v2, order=order)


def gram_map(activation: Act, K: np.ndarray, order: int = 64) -> np.ndarray:
    """k_φ(K): the NNGP map applied to a Gram matrix and its diagonal (no σ² factor)."""
    v = np.ascontiguousarray(np.diagonal(K)).copy()
    out = pair_map(activation, K, v, v, order)
    out = 0.5 * (out + out.T)
    return out


def pair_partials(
    activation: Act, k12: np.ndarray, v1: np.ndarray, v2: np.ndarray, order: int = 64
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(∂g/∂k, ∂g/∂v1, ∂g/∂v2) on a block, each of the block's shape."""
    if activation == "linear":
        z = np.zeros_like(k12)
        return np.ones_like(k12), z, z.copy()
    if activation == "relu":
        c, norm = _correlation(k12, v1, v2)
        s = np.sqrt(np.maximum(0.0, 1.0 - c * c))
        theta = np.arctan2(s, c)
        dk = (np.pi - theta) / (2.0 * np.pi)
        with np.errstate(divide="ignore", invalid="ignore"):
            base = norm * s / (4.0 * np.pi)
            dv1 = np.where(v1[:, None] > 0, base / v1[:, None], 0.0)
            dv2 = np.where(v2[None, :] > 0, base / v2[None, :], 0.0)
        return dk, dv1, dv2
    if activation == "erf":
        a = 1.0 + 2.0 * v1
        b = 1.0 + 2.0 * v2
        den = np.sqrt(np.multiply.outer(a, b))
        z = np.clip(2.0 * k12 / den, -1.0, 1.0)
        gp = (2.0 / np.pi) / np.sqrt(np.maximum(1.0 - z * z, 1e-300))
        return gp * 2.0 / den, -gp * z / a[:, None], -gp * z / b[None, :]
    phi, d1, d2 = _phis(activation)
    dk = quadrature_map(d1, k12, v1, v2, order=order)
    dv1 = 0.5 * quadrature_map(d2, k12, v1, v2, order=order, phi2=phi)
    dv2 = 0.5 * quadrature_map(phi, k12, v1, v2, order=order, phi2=d2)
    return dk, dv1, dv2


def gram_map_vjp(activation: Act, K: np.ndarray, B: np.ndarray, order: int = 64) -> np.ndarray:
    """Jᵀ B: the adjoint of :func:`gram_map` at K applied to B (both P×P)."""
    v = np.ascontiguousarray(np.diagonal(K)).copy()
    dk, dv1, dv2 = pair_partials(activation, K, v, v, order)
    out = B * dk
    extra = np.einsum("ij,ij->i", B, dv1) + np.einsum("ji,ji->i", B, dv2)
    out[np.diag_indices_from(out)] += extra
    return out
