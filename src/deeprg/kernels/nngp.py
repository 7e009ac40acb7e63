"""NNGP kernel recursions: linear, ReLU (arc-cosine), erf and any activation by quadrature.

Conventions (docs/theory/bpkr.md §1.3, §5.1): the input kernel is K_0(x, x') = σ_in² x·x'/N0 (σ_in² = 1
by default, the σ-free K_0 of the theory), the covariance of the first pre-activations. One
NNGP step maps the pre-activation covariance K_{l−1} of layer l to

    K_l(x, x') = σ_l² E_{(h, h') ~ N(0, K_{l−1})}[φ(h) φ(h')],

the pre-activation covariance of the next layer (with its weight variance σ_l² pulled out in
front, as in docs/theory/bpkr.md §5.1 item 1). For the linear activation K_l = σ^{2l} K_0.

Kernels are immutable :class:`Kernel` values passed through the layers (the neural-tangents
pattern of design.md): the cross block ``cov12`` (n1 × n2) between two input sets, the
diagonals ``var1`` = K(x, x) on the first set and ``var2`` on the second, and optionally the
Gram ``cov11`` of the first set (e.g. training Gram next to a training × test block). Every map
acts on whole arrays; there is no Python loop over pairs of data points.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from deeprg.errors import InputError, check_array, check_int, check_positive, per_layer
from deeprg.quadrature import gauss_hermite  # the package's one Gauss–Hermite helper

ACTIVATIONS = ("linear", "relu", "erf")
Activation = str | Callable[[np.ndarray], np.ndarray]

# Generic (quadrature) path: cap on the number of integrand evaluations held in memory at once.
_QUAD_CHUNK = 4_000_000


@dataclass(frozen=True)
class Kernel:
    """A covariance between two input sets at one layer (design.md; neural-tangents ``Kernel``).

    Attributes
    ----------
    cov12 : (n1, n2) cross-covariance K(x_i, x'_j).
    var1, var2 : (n1,), (n2,) diagonals K(x_i, x_i) and K(x'_j, x'_j).
    cov11 : optional (n1, n1) Gram of the first set (None when not requested).
    layer : index l of the layer (0 = input kernel).
    same : True when the second set *is* the first (then cov12 is the Gram and its
        diagonal is kept exactly equal to var1).
    """

    cov12: np.ndarray
    var1: np.ndarray
    var2: np.ndarray
    cov11: np.ndarray | None = None
    layer: int = 0
    same: bool = False

    def replace(self, **changes) -> Kernel:
        """A copy with the given fields changed (the kernel itself is immutable)."""
        return dataclasses.replace(self, **changes)

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.cov12.shape[0]), int(self.cov12.shape[1]))

    @property
    def gram(self) -> np.ndarray:
        """The Gram matrix of the first set (cov12 when same, else cov11)."""
        if self.same:
            return self.cov12
        if self.cov11 is None:
            raise InputError("this kernel has no Gram of the first set (pass train_gram=True)")
        return self.cov11


def input_kernel(
    X1: np.ndarray,
    X2: np.ndarray | None = None,
    sigma2: float = 1.0,
    *,
    train_gram: bool = False,
) -> Kernel:
    """Input kernel K_0 = σ² X1 X2^T / N0 (docs/theory/bpkr.md §1.3), float64.

    ``X2=None`` gives the Gram of X1 (``same=True``). With ``train_gram=True`` and an X2, the
    Gram of X1 is kept in ``cov11`` as well.
    """
    A = check_array("X1", X1, ndim=2)
    s2 = check_positive("sigma2", sigma2)
    n0 = A.shape[1]
    v1 = s2 * np.einsum("ij,ij->i", A, A) / n0
    if X2 is None:
        G = s2 * (A @ A.T) / n0
        np.fill_diagonal(G, v1)
        return Kernel(G, v1, v1, None, 0, True)
    B = check_array("X2", X2, ndim=2)
    if B.shape[1] != n0:
        raise InputError(f"X2 must have {n0} columns like X1, got {B.shape[1]}")
    v2 = s2 * np.einsum("ij,ij->i", B, B) / n0
    G = None
    if train_gram:
        G = s2 * (A @ A.T) / n0
        np.fill_diagonal(G, v1)
    return Kernel(s2 * (A @ B.T) / n0, v1, v2, G, 0, False)


def _correlation(k12: np.ndarray, v1: np.ndarray, v2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(c, √(v1 v2)) with c = k12/√(v1 v2) clipped to [−1, 1]; c = 0 where a variance is 0."""
    norm = np.sqrt(np.multiply.outer(v1, v2))
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.where(norm > 0, k12 / np.where(norm > 0, norm, 1.0), 0.0)
    np.clip(c, -1.0, 1.0, out=c)
    return c, norm


def relu_map(k12: np.ndarray, v1: np.ndarray, v2: np.ndarray) -> np.ndarray:
    """E[relu(h) relu(h')] for (h, h') ~ N(0, [[v1, k12], [k12, v2]]) (arc-cosine, degree 1).

    Cho & Saul; docs/theory/bpkr.md §5.1: √(v1 v2)/(2π) [sin θ + (π − θ) cos θ] with cos θ = c. Guarded at
    c = ±1: c is clipped to [−1, 1] and θ = arctan2(√max(0, 1 − c²), c), so c = 1 gives
    exactly v/2 and c = −1 gives exactly 0, and round-off never produces NaN.
    """
    c, norm = _correlation(k12, v1, v2)
    s = np.sqrt(np.maximum(0.0, 1.0 - c * c))
    theta = np.arctan2(s, c)
    # bracket first: at c = 1 it is π/(2π) = 0.5 exactly, so identical inputs give exactly v/2
    return norm * ((s + (np.pi - theta) * c) / (2.0 * np.pi))


def erf_map(k12: np.ndarray, v1: np.ndarray, v2: np.ndarray) -> np.ndarray:
    """E[erf(h) erf(h')] = (2/π) arcsin(2 k12 / √((1 + 2 v1)(1 + 2 v2))) (Williams 1997)."""
    den = np.sqrt(np.multiply.outer(1.0 + 2.0 * v1, 1.0 + 2.0 * v2))
    return (2.0 / np.pi) * np.arcsin(np.clip(2.0 * k12 / den, -1.0, 1.0))


def quadrature_map(
    phi: Callable[[np.ndarray], np.ndarray],
    k12: np.ndarray,
    v1: np.ndarray,
    v2: np.ndarray,
    *,
    order: int = 64,
    phi2: Callable[[np.ndarray], np.ndarray] | None = None,
) -> np.ndarray:
    """E[φ(h) φ(h')] by 2-D Gauss–Hermite quadrature, vectorized over all pairs.

    ``phi2`` (default φ) is the function applied to h' (E[φ(h) φ2(h')]; used for the partial
    derivatives of the map by Price's theorem, :mod:`deeprg.kernels.grad`).

    h = √v1 z1, h' = √v2 (c z1 + √(1 − c²) z2) with z1, z2 ~ N(0, 1): a product rule with
    ``order`` nodes per axis. Exact for polynomial φ of degree < order; exponentially accurate
    for smooth φ, only algebraically for kinks (ReLU: use the closed form). Work is chunked over
    rows so that at most ~4·10⁶ integrand values are held at once.
    """
    z, w = gauss_hermite(order)
    c, _ = _correlation(k12, v1, v2)
    s = np.sqrt(np.maximum(0.0, 1.0 - c * c))
    a, b = np.sqrt(v1), np.sqrt(v2)
    f1 = np.asarray(phi(a[:, None] * z[None, :]), dtype=np.float64)  # (n1, m): φ(h) at z1
    n1, n2 = c.shape
    out = np.empty((n1, n2))
    rows = max(1, _QUAD_CHUNK // max(1, n2 * order * order))
    for r0 in range(0, n1, rows):  # chunks of rows (memory), not a loop over pairs
        sl = slice(r0, r0 + rows)
        arg = c[sl, :, None, None] * z[None, None, :, None] + s[sl, :, None, None] * z
        f2 = np.asarray(
            (phi2 or phi)(b[None, :, None, None] * arg), dtype=np.float64
        )  # (r, n2, m, m)
        inner = f2 @ w  # E over z2 → (r, n2, m)
        out[sl] = np.einsum("rjm,rm,m->rj", inner, f1[sl], w)
    return out


def quadrature_diag(
    phi: Callable[[np.ndarray], np.ndarray], v: np.ndarray, *, order: int = 64
) -> np.ndarray:
    """E[φ(h)²] for h ~ N(0, v) by 1-D Gauss–Hermite quadrature."""
    z, w = gauss_hermite(order)
    f = np.asarray(phi(np.sqrt(v)[:, None] * z[None, :]), dtype=np.float64)
    return (f * f) @ w


def _check_activation(activation: Activation) -> Activation:
    if callable(activation):
        return activation
    if activation not in ACTIVATIONS:
        raise InputError(
            f"activation must be one of {', '.join(ACTIVATIONS)} or a callable; got {activation!r}"
        )
    return activation


def _pair_map(
    activation: Activation, k12: np.ndarray, v1: np.ndarray, v2: np.ndarray, order: int
) -> np.ndarray:
    if activation == "linear":
        return k12.copy()
    if activation == "relu":
        return relu_map(k12, v1, v2)
    if activation == "erf":
        return erf_map(k12, v1, v2)
    return quadrature_map(activation, k12, v1, v2, order=order)  # type: ignore[arg-type]


def _diag_map(activation: Activation, v: np.ndarray, order: int) -> np.ndarray:
    if activation == "linear":
        return v.copy()
    if activation == "relu":
        return 0.5 * v  # ReLU halves the variance (docs/theory/bpkr.md §5.1 note)
    if activation == "erf":
        return (2.0 / np.pi) * np.arcsin(2.0 * v / (1.0 + 2.0 * v))
    return quadrature_diag(activation, v, order=order)  # type: ignore[arg-type]


def nngp_layer(kernel: Kernel, activation: Activation, sigma2: float, *, order: int = 64) -> Kernel:
    """One NNGP step K_l = σ² E_{N(0, K_{l−1})}[φ(h) φ(h')] (docs/theory/bpkr.md §5.1 item 1).

    ``activation``: "linear", "relu" (arc-cosine, guarded), "erf" (closed form) or any
    vectorized callable φ (2-D Gauss–Hermite quadrature with ``order`` nodes per axis).
    """
    act = _check_activation(activation)
    s2 = check_positive("sigma2", sigma2)
    order = check_int("order", order, minimum=2, maximum=400)
    v1 = s2 * _diag_map(act, kernel.var1, order)
    if kernel.same:
        cov = s2 * _pair_map(act, kernel.cov12, kernel.var1, kernel.var1, order)
        np.fill_diagonal(cov, v1)
        return Kernel(cov, v1, v1, None, kernel.layer + 1, True)
    v2 = s2 * _diag_map(act, kernel.var2, order)
    cov = s2 * _pair_map(act, kernel.cov12, kernel.var1, kernel.var2, order)
    g = None
    if kernel.cov11 is not None:
        g = s2 * _pair_map(act, kernel.cov11, kernel.var1, kernel.var1, order)
        np.fill_diagonal(g, v1)
    return Kernel(cov, v1, v2, g, kernel.layer + 1, False)


def nngp(
    X1: np.ndarray,
    X2: np.ndarray | None = None,
    *,
    activation: Activation,
    sigma2: float | Sequence[float],
    depth: int,
    input_sigma2: float = 1.0,
    train_gram: bool = False,
    order: int = 64,
) -> list[Kernel]:
    """NNGP kernels of layers 0..depth: K_0 = input kernel, K_l = σ_l² E[φ φ] (docs/theory/bpkr.md §5.1).

    ``sigma2`` is one value or ``depth`` values σ_1²..σ_depth². Returns ``depth + 1`` kernels.
    """
    depth = check_int("depth", depth, minimum=0)
    s2 = per_layer("sigma2", sigma2, depth) if depth > 0 else np.zeros(0)
    ks = [input_kernel(X1, X2, input_sigma2, train_gram=train_gram)]
    for l in range(depth):  # loop over layers, not data points
        ks.append(nngp_layer(ks[-1], activation, float(s2[l]), order=order))
    return ks


def relu_base_kernel(
    X1: np.ndarray, X2: np.ndarray | None = None, *, depth: int, train_gram: bool = False
) -> Kernel:
    """The σ-free ReLU base kernel K_L^GP / σ^{2L} of the BPKR ReLU heuristic (docs/theory/bpkr.md §5.1 item 2).

    By positive homogeneity of the arc-cosine map (K^GP(cK) = c K^GP(K)) the σ's factor out,
    so this is the depth-L ReLU NNGP kernel with all σ² = 1 on K_0 = X1 X2^T/N0; σ-dependence
    and the renormalization scalars u_l multiply it from outside.
    """
    depth = check_int("depth", depth, minimum=0)
    return nngp(X1, X2, activation="relu", sigma2=1.0, depth=depth, train_gram=train_gram)[-1]


def relu_cross_fn(depth: int) -> Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``(X, X_test) -> (C(X, X_test), C(x_test, x_test))`` for the σ-free depth-L ReLU kernel.

    Matches the ``cross_fn`` hook of :func:`deeprg.bpkr.base.base_kernel`.
    """
    depth = check_int("depth", depth, minimum=0)

    def cross(X: np.ndarray, Xt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = relu_base_kernel(X, Xt, depth=depth)
        return k.cov12, k.var2

    return cross
