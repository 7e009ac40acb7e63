"""Base kernel in its eigenbasis, and the network architecture (docs/theory/bpkr.md §1.3, §2.8, §2.9, §2.11).

The BPKR solver never looks at the inputs directly. It needs the *spectrum* of the σ-free
base kernel C = X X^T / N0 on the training set: its nonzero eigenvalues μ_k, the projections
ỹ_k = v_k^T y of the labels on their eigenvectors, and the null space only through two numbers,
its dimension P − r and the squared norm ‖y_⊥‖² of the labels in it (§2.9). Test inputs enter
through B_k(x) = v_k^T C(X, x), the test kernel in the eigenbasis.

Two implementations of this spectral interface (``path``):

- ``"kernel"``: eigendecompose the P×P kernel C (O(P³) time, 2 P×P arrays at the peak, 3 for
  a linear kernel forced onto this path with N0 < P);
  B = V^T C(X, X_test). Any σ-free kernel shape can be plugged in (the ReLU heuristic, §5.1).
- ``"feature"`` (linear networks): eigendecompose the N0×N0 matrix S = X^T X / N0 = W Λ W^T,
  which has the same nonzero spectrum (O(P N0² + N0³) time, O(P N0) memory). With
  v_k = X w_k / √(N0 μ_k) the push-through identity gives ỹ_k = w_k^T X^T y / √(N0 μ_k) and
  B_k(x) = √(μ_k/N0) w_k^T x, and ‖y_⊥‖² = ‖y − Σ_k ỹ_k v_k‖².

``path="auto"`` picks the feature path for linear networks with N0 < P. The decomposition is
done once and reused for every (widths, σ², T, L) point, and test-set projections are cached
per test set (:meth:`BaseKernel.project`).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import linalg

from deeprg.errors import InputError, check_int, check_memory, check_positive, check_xy, per_layer

NULL_RTOL = 1e-10  # eigenvalues below NULL_RTOL * μ_max are treated as exact zeros
PATHS = ("auto", "kernel", "feature")
# Peak memory of the kernel path in P×P float64 arrays: the Gram matrix (overwritten in place
# by LAPACK's dsyevr) and the eigenvectors; the workspace is O(P). Measured peak (VmHWM)
# ≈ 2.1-2.2 P×P beyond the inputs (benchmarks/bench_bpkr_scale.py); 2.5 leaves a margin.
KERNEL_COPIES = 2.5
_PROJECTION_CACHE = 2  # test sets whose projections are kept per base kernel
_TEST_CHUNK = 2_000_000  # elements of the P × n cross-kernel block formed at once (kernel path)


# A linear kernel forced onto the kernel path with N0 < P has a (P − N0)-fold null eigenvalue;
# dsyevr (MRRR) is ~3.5x slower on such a cluster than divide and conquer (dsyevd), which needs
# a 2 P×P workspace: that case uses dsyevd and is checked for one more P×P array.
KERNEL_COPIES_DEFLATING = 3.5


def check_kernel_memory(P: int, copies: float = KERNEL_COPIES) -> float:
    """Refuse a training set whose P×P kernel path would not fit in the available memory."""
    return check_memory(
        f"the BPKR kernel for P = {P} ({copies:g} P×P float64 arrays)",
        copies * 8.0 * float(P) ** 2,
    )


def check_feature_memory(P: int, N0: int) -> float:
    """Memory of the feature path: a few N0×N0 arrays and P-vectors (the inputs not counted)."""
    return check_memory(
        f"the BPKR feature-space path for P = {P}, N0 = {N0}",
        8.0 * (4.0 * float(N0) ** 2 + 4.0 * float(P)),
    )


CrossFn = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def _linear_cross(X: np.ndarray, Xt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """σ-free linear kernel: C(X, Xt) = X Xt^T / N0 and C(x, x) = |x|² / N0."""
    n0 = X.shape[1]
    return X @ Xt.T / n0, np.einsum("ij,ij->i", Xt, Xt) / n0


@dataclass(frozen=True)
class Projection:
    """A test set in the eigenbasis: B (r, n) with B_k(x) = v_k^T C(X, x), and C(x, x) (n,)."""

    B: np.ndarray
    d: np.ndarray

    @property
    def n(self) -> int:
        return int(self.d.shape[0])


@dataclass(frozen=True)
class BaseKernel:
    """σ-free base kernel C on the training set, in its eigenbasis (nonzero directions only).

    Attributes
    ----------
    X, y : training inputs (P, N0) and labels (P,).
    evals : the r nonzero eigenvalues μ_k of C (ascending).
    ytil : label projections ỹ_k = v_k^T y on their eigenvectors.
    n_null : P − r, the number of null directions of C (§2.9).
    ynull2 : ‖y_⊥‖², the squared norm of the labels in the null space of C.
    basis : kernel path: the eigenvectors V (P, r); feature path: F = W diag(√(μ/N0)) (N0, r),
        so that B(x) = F^T x.
    path : "kernel" or "feature".
    activation : "linear" (C = X X^T/N0) or the name of the plugged kernel (e.g. "relu").
    cross_fn : (X, X_test) -> (C(X, X_test) of shape (P, n), C(x, x) of shape (n,)).
    """

    X: np.ndarray
    y: np.ndarray
    evals: np.ndarray
    ytil: np.ndarray
    n_null: int
    ynull2: float
    basis: np.ndarray = field(repr=False)
    path: str = "kernel"
    activation: str = "linear"
    cross_fn: CrossFn = field(default=_linear_cross, repr=False)
    _cache: OrderedDict = field(default_factory=OrderedDict, repr=False, compare=False)

    @property
    def P(self) -> int:
        return int(self.y.shape[0])

    @property
    def N0(self) -> int:
        return int(self.X.shape[1])

    @property
    def rank(self) -> int:
        return int(self.evals.shape[0])

    def _check_test(self, X_test: np.ndarray) -> np.ndarray:
        Xt = np.asarray(X_test, dtype=np.float64)
        if Xt.ndim != 2 or Xt.shape[1] != self.N0:
            raise InputError(
                f"X_test must have shape (n, {self.N0}) to match the training inputs, got {Xt.shape}"
            )
        if not np.all(np.isfinite(Xt)):
            raise InputError("X_test contains NaN or inf")
        return Xt

    def _compute_projection(self, Xt: np.ndarray) -> Projection:
        if self.path == "feature":
            B = self.basis.T @ Xt.T
            d = np.einsum("ij,ij->i", Xt, Xt) / self.N0
            return Projection(B, d)
        n = Xt.shape[0]
        B = np.empty((self.rank, n))
        d = np.empty(n)
        step = max(1, _TEST_CHUNK // max(self.P, 1))
        for a in range(0, n, step):  # chunks of test points keep the P × n block small
            k, d[a : a + step] = self.cross_fn(self.X, Xt[a : a + step])
            B[:, a : a + step] = self.basis.T @ k
        return Projection(B, d)

    def project(self, X_test: np.ndarray) -> Projection:
        """Test inputs in the eigenbasis, computed once per test set and cached.

        The cache holds the last few test sets, keyed by their content (a hash of the bytes),
        so ``errors``, ``predict`` and ``layer_kernels`` on the same inputs share one product.
        """
        Xt = self._check_test(X_test)
        Xc = np.ascontiguousarray(Xt)
        key = (Xc.shape, hashlib.blake2b(Xc.data).hexdigest())
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        proj = self._compute_projection(Xc)
        self._cache[key] = proj
        while len(self._cache) > _PROJECTION_CACHE:
            self._cache.popitem(last=False)
        return proj

    def cross(self, X_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(B = V^T C(X, X_test) of shape (r, n), C(x, x)) for test inputs (cached)."""
        p = self.project(X_test)
        return p.B, p.d

    def test_gram(self, X_test: np.ndarray) -> np.ndarray:
        """C(X_test, X_test), the σ-free kernel among test inputs (n × n)."""
        Xt = self._check_test(X_test)
        if self.activation == "linear":
            return Xt @ Xt.T / self.N0
        return self.cross_fn(Xt, Xt)[0]


def _eigh_inplace(gram: np.ndarray, driver: str = "evr") -> tuple[np.ndarray, np.ndarray]:
    """Eigen-pairs of a symmetric matrix, overwriting it (LAPACK dsyevr: O(n) workspace).

    Only one triangle is read. ``gram.T`` is passed so that a C-ordered matrix reaches LAPACK
    as a Fortran-ordered one without a copy (it is the same symmetric matrix).
    """
    return linalg.eigh(gram.T, overwrite_a=True, check_finite=False, driver=driver)


def _kernel_spectrum(
    gram: np.ndarray, y: np.ndarray, driver: str = "evr"
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, float]:
    evals, evecs = _eigh_inplace(gram, driver)
    keep = evals > NULL_RTOL * max(float(evals.max()), 0.0)
    ytil_all = evecs.T @ y
    r = int(keep.sum())
    # eigenvalues are ascending, so the kept ones are the last r columns (a view, no copy)
    first = evals.size - r
    if not keep[first:].all():  # pragma: no cover - eigh returns sorted eigenvalues
        raise RuntimeError("eigenvalues are not sorted")
    ynull2 = float((ytil_all[:first] ** 2).sum())
    return evals[first:].copy(), evecs[:, first:], ytil_all[first:].copy(), first, ynull2


def _feature_spectrum(
    X: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, float]:
    P, N0 = X.shape
    S = X.T @ X  # N0×N0 (BLAS syrk)
    S /= N0
    lam, W = _eigh_inplace(S)
    keep = lam > NULL_RTOL * max(float(lam.max()), 0.0)
    lam, W = lam[keep], W[:, keep]
    scale = np.sqrt(N0 * lam)
    ytil = (W.T @ (X.T @ y)) / scale  # ỹ_k = v_k^T y with v_k = X w_k / √(N0 μ_k)
    r = int(lam.size)
    n_null = P - r
    ynull2 = 0.0
    if n_null > 0:  # y_⊥ = y − Σ_k ỹ_k v_k, formed without the P × r matrix of the v_k
        yperp = y - X @ (W @ (ytil / scale))
        ynull2 = float(yperp @ yperp)
    return lam, W * np.sqrt(lam / N0), ytil, n_null, ynull2


def choose_path(path: str, P: int, N0: int, activation: str = "linear") -> str:
    """Resolve ``path``: "auto" is "feature" for linear networks with N0 < P, else "kernel"."""
    if path not in PATHS:
        raise InputError(f"path must be one of {', '.join(PATHS)}; got {path!r}")
    if path == "feature" and activation != "linear":
        raise InputError(
            f"path 'feature' applies to linear networks only (activation {activation!r}: "
            "use 'kernel' or 'auto')"
        )
    if path == "auto":
        return "feature" if activation == "linear" and N0 < P else "kernel"
    return path


def base_kernel(
    X: np.ndarray,
    y: np.ndarray,
    *,
    gram: np.ndarray | None = None,
    cross_fn: CrossFn | None = None,
    activation: str = "linear",
    path: str = "auto",
    overwrite_gram: bool = False,
    driver: str | None = None,
) -> BaseKernel:
    """Decompose the σ-free base kernel once (docs/theory/bpkr.md §2.11 step 1).

    By default C = X X^T / N0 (deep linear network), decomposed in feature space when
    N0 < P (``path="auto"``; force with "kernel" or "feature"). Pass ``gram`` and ``cross_fn``
    to plug another σ-free kernel shape (e.g. the ReLU NNGP kernel K_L^GP/σ^{2L}, docs/theory/bpkr.md
    §5.1; kernel path only). ``overwrite_gram=True`` lets the decomposition reuse the memory
    of ``gram`` (its contents are destroyed). ``driver``: LAPACK driver of the kernel path
    ("evr" or "evd"; default: "evd" for a deflating linear kernel, else "evr"); the caller of
    "evd" accounts for its 2 P×P workspace in its memory check.
    """
    Xa, ya = check_xy(X, y)
    P, N0 = Xa.shape
    plugged = gram is not None or cross_fn is not None
    kind = activation if activation != "linear" or not plugged else "a plugged kernel"
    resolved = choose_path(path, P, N0, kind)
    if resolved == "feature":
        check_feature_memory(P, N0)
        evals, basis, ytil, n_null, ynull2 = _feature_spectrum(Xa, ya)
        return BaseKernel(Xa, ya, evals, ytil, n_null, ynull2, basis, "feature", activation)
    deflating = gram is None and N0 < P  # rank <= N0: a large null cluster (see above)
    check_kernel_memory(P, KERNEL_COPIES_DEFLATING if deflating else KERNEL_COPIES)
    if gram is None:
        g = Xa @ Xa.T  # BLAS syrk: exactly symmetric
        g /= N0
    else:
        g = np.asarray(gram, dtype=np.float64)
        if g.shape != (P, P):
            raise InputError(f"gram must have shape ({P}, {P}), got {g.shape}")
        shared = isinstance(gram, np.ndarray) and np.may_share_memory(g, gram)
        if shared and not (overwrite_gram and g.flags.writeable):
            g = g.copy()
    drv = driver or ("evd" if deflating else "evr")
    evals, basis, ytil, n_null, ynull2 = _kernel_spectrum(g, ya, drv)
    del g
    return BaseKernel(
        Xa, ya, evals, ytil, n_null, ynull2, basis, "kernel", activation, cross_fn or _linear_cross
    )


@dataclass(frozen=True)
class Architecture:
    """Deep network hyper-parameters (docs/theory/bpkr.md §1.1, §2.8).

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
        """Prior shape N_l/2 of u_l (docs/theory/bpkr.md §2.3)."""
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


def fit_summary(fit_: Any) -> dict[str, Any]:
    """The solver diagnostics and setting shared by every ``deeprg bpkr --json`` object (single-
    and multi-output fits): convergence, evidence, action, training error, architecture, data."""
    return {
        "converged": fit_.converged,
        "status": fit_.status,
        "residual": fit_.residual,
        "iterations": fit_.iterations,
        "log_evidence": fit_.log_evidence,
        "action": fit_.action,
        "train_error": fit_.train_error(),
        "widths": [float(w) for w in fit_.arch.widths],
        "sigma2": list(fit_.arch.sigma2),
        "T": fit_.arch.T,
        "P": fit_.kernel.P,
        "N0": fit_.kernel.N0,
        "path": fit_.kernel.path,
        "rank": fit_.kernel.rank,
    }
