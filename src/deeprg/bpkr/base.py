"""Base kernel in its eigenbasis, and the network architecture (bpkr.md §1.3, §2.8, §2.11).

The BPKR solver never looks at the inputs directly: it needs the *shape* of the base kernel
C = X X^T / N0 (σ-free) in its eigenbasis, and the projections of the labels on it. The
eigendecomposition is done once (O(P³)) and reused for every (widths, σ², T, L) point, and for
every test set through :meth:`BaseKernel.cross`. The ReLU heuristic (bpkr.md §5.1) plugs a
different σ-free kernel shape into the same object.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from deeprg.errors import InputError, check_int, check_memory, check_positive, check_xy, per_layer

NULL_RTOL = 1e-10  # eigenvalues below NULL_RTOL * λ_max are treated as exact zeros
# Peak memory of the kernel path in P×P float64 matrices: the Gram matrix, its symmetrized
# copy, LAPACK's copy and workspace in eigh, the eigenvectors (measured peak RSS ≈ 6.1 P²·8 B
# for fit(), saddle and exact modes alike).
KERNEL_COPIES = 6


def check_kernel_memory(P: int) -> float:
    """Refuse a training set whose P×P kernel path would not fit in the available memory."""
    return check_memory(
        f"the BPKR kernel for P = {P} ({KERNEL_COPIES} P×P float64 arrays)",
        KERNEL_COPIES * 8.0 * float(P) ** 2,
    )


CrossFn = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def _linear_cross(X: np.ndarray, Xt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """σ-free linear kernel: C(X, Xt) = X Xt^T / N0 and C(x, x) = |x|² / N0."""
    n0 = X.shape[1]
    return X @ Xt.T / n0, np.einsum("ij,ij->i", Xt, Xt) / n0


@dataclass(frozen=True)
class BaseKernel:
    """σ-free base kernel C on the training set, eigendecomposed once.

    Attributes
    ----------
    X, y : training inputs (P, N0) and labels (P,).
    evals, evecs : eigen-pairs of C (eigenvalues clipped at 0, ascending).
    ytil : label projections v_i^T y.
    activation : "linear" (C = X X^T/N0) or the name of the plugged kernel (e.g. "relu").
    cross_fn : (X, X_test) -> (C(X, X_test) of shape (P, n), C(x, x) of shape (n,)).
    """

    X: np.ndarray
    y: np.ndarray
    evals: np.ndarray
    evecs: np.ndarray
    ytil: np.ndarray
    activation: str = "linear"
    cross_fn: CrossFn = field(default=_linear_cross, repr=False)

    @property
    def P(self) -> int:
        return int(self.y.shape[0])

    @property
    def N0(self) -> int:
        return int(self.X.shape[1])

    @property
    def gram(self) -> np.ndarray:
        """The σ-free Gram matrix C = V diag(λ) V^T."""
        return (self.evecs * self.evals) @ self.evecs.T

    def null_mask(self) -> np.ndarray:
        """True for null eigen-directions (set to exactly 0 at construction; §2.9)."""
        return self.evals <= 0.0

    def cross(self, X_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Test kernels in the eigenbasis: (B = V^T C(X, X_test) of shape (P, n), C(x, x))."""
        Xt = np.asarray(X_test, dtype=np.float64)
        if Xt.ndim != 2 or Xt.shape[1] != self.N0:
            raise InputError(
                f"X_test must have shape (n, {self.N0}) to match the training inputs, got {Xt.shape}"
            )
        if not np.all(np.isfinite(Xt)):
            raise InputError("X_test contains NaN or inf")
        k, d = self.cross_fn(self.X, Xt)
        return self.evecs.T @ k, d


def base_kernel(
    X: np.ndarray,
    y: np.ndarray,
    *,
    gram: np.ndarray | None = None,
    cross_fn: CrossFn | None = None,
    activation: str = "linear",
) -> BaseKernel:
    """Eigendecompose the σ-free base kernel once (bpkr.md §2.11 step 1).

    By default C = X X^T / N0 (deep linear network). Pass ``gram`` and ``cross_fn`` to plug
    another σ-free kernel shape (e.g. the ReLU NNGP kernel K_L^GP/σ^{2L}, bpkr.md §5.1).
    """
    Xa, ya = check_xy(X, y)
    check_kernel_memory(Xa.shape[0])
    if gram is None:
        gram = Xa @ Xa.T / Xa.shape[1]
    gram = np.asarray(gram, dtype=np.float64)
    if gram.shape != (Xa.shape[0], Xa.shape[0]):
        raise InputError(f"gram must have shape ({Xa.shape[0]}, {Xa.shape[0]}), got {gram.shape}")
    evals, evecs = np.linalg.eigh(0.5 * (gram + gram.T))
    # Round-off leaves null directions at ~1e-15 λ_max; set them to exactly 0 so that they
    # drop out at any T (§2.9) instead of being "fitted" by a huge spurious U.
    evals = np.where(evals > NULL_RTOL * max(float(evals.max()), 0.0), evals, 0.0)
    return BaseKernel(
        X=Xa,
        y=ya,
        evals=evals,
        evecs=evecs,
        ytil=evecs.T @ ya,
        activation=activation,
        cross_fn=cross_fn or _linear_cross,
    )


@dataclass(frozen=True)
class Architecture:
    """Deep network hyper-parameters (bpkr.md §1.1, §2.8).

    ``widths`` are N_1..N_L (L counts hidden layers, input side first; ``math.inf`` allowed for
    the GP limit); ``sigma2`` holds σ_1²..σ_{L+1}² (σ_{L+1}² is the readout's); ``T`` >= 0.
    """

    widths: tuple[float, ...]
    sigma2: tuple[float, ...]
    T: float

    @property
    def L(self) -> int:
        return len(self.widths)

    @property
    def gamma_shape(self) -> np.ndarray:
        """Prior shape N_l/2 of u_l (bpkr.md §2.3)."""
        return np.asarray(self.widths, dtype=np.float64) / 2.0

    @property
    def gamma_scale(self) -> np.ndarray:
        """Prior scale 2σ_{l+1}²/N_l of u_l (prior mean σ_{l+1}²)."""
        return 2.0 * np.asarray(self.sigma2[1:]) / np.asarray(self.widths, dtype=np.float64)


def architecture(
    widths: Sequence[float] | float, sigma2: Sequence[float] | float = 1.0, T: float = 0.0
) -> Architecture:
    """Validate and build an :class:`Architecture`; σ² may be one value or L+1 values."""
    w = np.atleast_1d(np.asarray(widths, dtype=np.float64))
    if w.ndim != 1 or w.size == 0:
        raise InputError("widths must list at least one hidden-layer width (L >= 1)")
    for i, n in enumerate(w):
        if not np.isinf(n):
            check_int(f"widths[{i}]", n, minimum=1)
    s = per_layer("sigma2", sigma2, w.size + 1)
    t = check_positive("temperature T", T, allow_zero=True)
    return Architecture(widths=tuple(float(v) for v in w), sigma2=tuple(float(v) for v in s), T=t)
