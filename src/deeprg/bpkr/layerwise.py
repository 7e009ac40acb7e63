"""Layer-wise kernel renormalization for nonlinear networks (docs/theory/nonlinear-renormalization.md).

Kernel chain with one order parameter per hidden layer, each entering *before* the next
nonlinearity (§2 of the theory page):

    K_0 = σ_1² X Xᵀ/N0,   K_l = Q_l σ_{l+1}² k_φ(K_{l−1})  (l = 1..L),   A = K_L + T I,
    S(Q) = Σ_l (N_l/2)(Q_l − log Q_l) + ½ yᵀA⁻¹y + ½ log det A.

With equal widths this is N/2 times deepbays' ``FC_deep`` action. For homogeneous maps
(linear, ReLU: k_φ(cK) = c k_φ(K)) K_L depends on Π_l Q_l only and the theory *is* the scalar
renormalization (the existing solver), so this module handles the other activations.

Solver (docs/theory/nonlinear-renormalization.md §2.4). erf with L >= 2 and T > 0: a joint
Newton iteration over all log Q_l on Cholesky factors with an analytic Hessian
(:mod:`deeprg.bpkr.layerwise_newton`; three factorizations at P = 1,000), then one check on the
eigen path below at its lower Q, which also gives the eigendecomposed top kernel the fit keeps.
Eigen path (other activations, fallback): the top order parameter Q_L multiplies a fixed matrix
once the lower ones are given, so for given q_<L = log Q_1..log Q_{L−1} the top layer is solved
exactly by the scalar machinery on the eigendecomposition of k_φ(K_{L−1}) (O(P) per
iteration); the reduced action F(q_<L) = min_{q_L} S is minimized by quasi-Newton steps with its
analytic gradient (envelope theorem):

    ∂S/∂q_l = (N_l/2)(Q_l − 1) + ⟨B_l, K_l⟩,   B_L = ½(A⁻¹ − ααᵀ), α = A⁻¹y,
    B_{l−1} = Q_l σ_{l+1}² J_φ(K_{l−1})ᵀ B_l      (adjoint of the Gram map, deeprg.kernels.grad).

One eigendecomposition and one P×P product per outer evaluation; L = 1 needs a single one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from deeprg.bpkr.base import Architecture, BaseKernel, base_kernel, check_kernel_memory
from deeprg.bpkr.saddle import action_and_evidence, solve_saddle
from deeprg.errors import InputError
from deeprg.kernels.erf_fused import erf_gram, erf_vjp, half_adjoint
from deeprg.kernels.grad import Act, gram_map, gram_map_vjp, pair_map
from deeprg.kernels.nngp import _diag_map, quadrature_diag


def act_name(activation: Act) -> str:
    """A printable name: the string itself, or the callable's ``__name__``."""
    if isinstance(activation, str):
        return activation
    return getattr(activation, "__name__", "callable")


def _nngp_act(activation: Act) -> Any:
    return np.tanh if activation == "tanh" else activation


def _diag(activation: Act, v: np.ndarray, order: int = 64) -> np.ndarray:
    a = _nngp_act(activation)
    if callable(a):
        return quadrature_diag(a, v, order=order)
    return _diag_map(a, v, order)


def _gram(activation: Act, K: np.ndarray) -> np.ndarray:
    """k_φ(K) of a symmetric K (erf: one fused pass over the lower triangle)."""
    if isinstance(activation, str) and activation == "erf":
        return erf_gram(K, np.empty_like(K))
    return gram_map(activation, K)


def _vjp(activation: Act, K: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Jᵀ B for symmetric K and B, symmetrized."""
    if isinstance(activation, str) and activation == "erf":
        return erf_vjp(K, B, np.empty_like(K))
    Bl = gram_map_vjp(activation, K, B)
    return 0.5 * (Bl + Bl.T)


def train_chain(
    X: np.ndarray,
    activation: Act,
    scales: np.ndarray,
    s2first: float,
    first: tuple[np.ndarray, np.ndarray] | None = None,
) -> list:
    """[K_0, ..., K_m] on the training set with K_l = scales[l−1] k_φ(K_{l−1}); ``first``:
    precomputed (K_0, k_φ(K_0)) (read only)."""
    if first is None:
        K = X @ X.T
        K *= s2first / X.shape[1]
    else:
        K = first[0]
    Ks = [K]
    for i, c in enumerate(scales):
        if i == 0 and first is not None:
            Kl = first[1] * c
        else:
            Kl = _gram(activation, Ks[-1])
            Kl *= c
        Ks.append(Kl)
    return Ks


def cross_chain(
    X: np.ndarray, Xt: np.ndarray, activation: Act, scales: np.ndarray, s2first: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(K_m(X, Xt), K_m(x, x) on X, K_m(x, x) on Xt) for the chain of :func:`train_chain`."""
    n0 = X.shape[1]
    k = X @ Xt.T * (s2first / n0)
    v1 = np.einsum("ij,ij->i", X, X) * (s2first / n0)
    v2 = np.einsum("ij,ij->i", Xt, Xt) * (s2first / n0)
    for c in scales:
        k = c * pair_map(activation, k, v1, v2)
        v1 = c * _diag(activation, v1)
        v2 = c * _diag(activation, v2)
    return k, v1, v2


def top_cross_fn(activation: Act, scales: np.ndarray, s2first: float) -> Callable:
    """cross_fn for the σ-free top base kernel C' = k_φ(K_{L−1})/σ_1² (see :func:`top_kernel`)."""
    scales = np.asarray(scales, float).copy()

    def cross(X: np.ndarray, Xt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k, v1, v2 = cross_chain(X, Xt, activation, scales, s2first)
        return pair_map(activation, k, v1, v2) / s2first, _diag(activation, v2) / s2first

    return cross


def top_kernel(
    X: np.ndarray,
    y: np.ndarray,
    activation: Act,
    scales: np.ndarray,
    s2first: float,
    Ks: list | None = None,
) -> BaseKernel:
    """Eigendecomposed C' = k_φ(K_{L−1})/σ_1², so that u_L σ_1² C' = u_L k_φ(K_{L−1}) = K_L.

    ``scales`` are Q_l σ_{l+1}² for l = 1..L−1 (empty for L = 1).
    """
    if Ks is None:
        Ks = train_chain(X, activation, scales, s2first)
    gram = _gram(activation, Ks[-1])
    gram /= s2first
    return base_kernel(
        X,
        y,
        gram=gram,
        cross_fn=top_cross_fn(activation, scales, s2first),
        activation=act_name(activation),
        path="kernel",
        overwrite_gram=True,
        driver="evd",  # divide and conquer: 1.2-1.4x dsyevr on the fast-decaying erf spectra
    )


def gp_output_kernel(X: np.ndarray, y: np.ndarray, activation: Act, arch: Architecture):
    """σ-free NNGP base kernel C = K_L^GP/Π_l σ_l² (scalar renormalization, bpkr.md §5.1)."""
    s2 = np.asarray(arch.sigma2)
    scales = s2[1 : arch.L]  # σ_2²..σ_L² (Q = 1)
    kern = top_kernel(X, y, activation, scales, s2[0])
    # top_kernel gives k_φ(K_{L−1}^GP)/σ_1² = K_L^GP/(σ_1² σ_{L+1}²); divide by Π_{l=2}^{L} σ_l²
    c = float(np.prod(scales))
    if c == 1.0:
        return kern
    base_cross = kern.cross_fn

    def cross(Xa: np.ndarray, Xt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k, d = base_cross(Xa, Xt)
        return k / c, d / c

    return BaseKernel(
        kern.X,
        kern.y,
        kern.evals / c,
        kern.ytil,
        kern.n_null,
        kern.ynull2,
        kern.basis,
        "kernel",
        kern.activation,
        cross,
    )


@dataclass(frozen=True)
class LayerwiseSolution:
    q: np.ndarray  # log Q_l, l = 1..L
    kernel: BaseKernel  # top base kernel C' at the solution
    action: float
    log_evidence: float
    grad_norm: float
    converged: bool
    evaluations: int
    G: np.ndarray  # G_l = N_l (Q_l − 1), l = 1..L


def _top(kern: BaseKernel, N_L: float, s2first: float, s2top: float, T: float):
    sol = solve_saddle(kern, np.array([[N_L]]), np.array([[s2first, s2top]]), np.array([T]))
    return sol


def _quasi_newton(
    fun: Callable[[np.ndarray], tuple[float, np.ndarray]],
    z0: np.ndarray,
    gtol: float,
    maxiter: int,
    h0: np.ndarray | None = None,
    xtol: float = 1e-10,
) -> tuple[np.ndarray, int]:
    """Minimize a smooth function of a few variables from its value and gradient.

    Newton steps on a Hessian that starts diagonal (``h0``: the prior curvature Q_l of the
    per-width action) and is refined by BFGS updates (one evaluation per step); a step that
    raises the function is halved (at most 30 times). Stops when max |gradient| <= gtol or the
    last full step moved every variable by less than ``xtol``.
    """
    m = z0.size
    z = z0.copy()
    f, g = fun(z)
    H = np.diag(np.asarray(h0, float)) if h0 is not None else np.eye(m)
    it = 0
    while it < maxiter and float(np.max(np.abs(g))) > gtol:
        it += 1
        w, Vh = np.linalg.eigh(H)
        w = np.maximum(np.abs(w), 1e-8 * max(1.0, float(np.max(np.abs(w)))))
        step = -(Vh / w) @ (Vh.T @ g)  # Newton step on |H| (descent direction)
        step *= min(1.0, 2.0 / max(float(np.max(np.abs(step))), 1e-300))  # |Δ log Q| <= 2
        for _ in range(30):
            f_new, g_new = fun(z + step)
            if np.isfinite(f_new) and f_new <= f + 1e-12 * abs(f):
                break
            step *= 0.5
        s_, yv = step, g_new - g
        z, f, g = z + step, f_new, g_new
        if float(np.max(np.abs(step))) < xtol:
            break
        sy = float(s_ @ yv)
        if sy > 1e-300:
            Hs = H @ s_
            H = H + np.outer(yv, yv) / sy - np.outer(Hs, Hs) / float(s_ @ Hs)
    return z, it


def _top_adjoint(kern: Any, uL: float, s2_1: float, T: float, y: np.ndarray) -> np.ndarray:
    """B_L = ½(A⁻¹ − ααᵀ) in the eigenbasis of C' (A = uL σ_1² C' + T I, α = A⁻¹ y): the
    derivative of the top action with respect to the top kernel."""
    d = uL * s2_1 * kern.evals + T
    V = kern.basis
    alpha = V @ (kern.ytil / d)
    W = V / np.sqrt(d)
    Ainv = W @ W.T  # BLAS syrk: exactly symmetric
    del W
    if kern.n_null:
        if T <= 0:
            raise InputError(
                "T must be > 0 for the layer-wise theory when the top kernel is singular"
            )
        Ainv += (np.eye(y.size) - V @ V.T) / T
        alpha += (y - V @ kern.ytil) / T
    return half_adjoint(Ainv, alpha, Ainv)  # ½(A⁻¹ − ααᵀ), in place


def _lower_gradient(activation, Ks, B, uL, scales, Qlow, N) -> np.ndarray:
    """dS/dq_l for l = 1..L−1 by back-propagating the adjoint through the Gram maps
    (K_{l+1} = Q_l σ² k_φ(K_l); the adjoint of k_φ(K_{L−1}) is uL B)."""
    grad = np.empty(Qlow.size)
    Badj, c = B, uL
    for l in range(Qlow.size, 0, -1):  # layers L−1 .. 1 (index l ↔ K_l)
        Bl = _vjp(activation, Ks[l], Badj)
        Bl *= c
        inner = float(np.vdot(Bl, Ks[l]))
        prior = 0.5 * N[l - 1] * (Qlow[l - 1] - 1.0) if np.isfinite(N[l - 1]) else 0.0
        grad[l - 1] = prior + inner
        Badj, c = Bl, scales[l - 1]
    return grad


class _Action:
    """S(q_1..q_{L−1}) and its gradient, remembering the last evaluation (kernel, top solution)."""

    def __init__(self, X, y, arch: Architecture, activation: Act):
        self.X, self.y, self.activation = X, y, activation
        self.N = np.asarray(arch.widths, float)
        self.s2 = np.asarray(arch.sigma2, float)
        self.T, self.L = float(arch.T), arch.L
        self.evaluations = 0
        self.last: dict[str, Any] = {}
        self.first: tuple[np.ndarray, np.ndarray] | None = None  # (K_0, k_φ(K_0)) if known

    def __call__(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        self.evaluations += 1
        L, N, s2 = self.L, self.N, self.s2
        Qlow = np.exp(x)
        scales = Qlow * s2[1:L]
        Ks = train_chain(self.X, self.activation, scales, s2[0], self.first)
        kern = top_kernel(self.X, self.y, self.activation, scales, s2[0], Ks)
        sol = _top(kern, N[-1], s2[0], s2[-1], self.T)
        uL = float(sol.u[0, 0])
        fin = np.isfinite(N[:-1])
        prior_low = float(np.sum(np.where(fin, 0.5 * N[:-1] * (Qlow - x - np.log(s2[1:L])), 0.0)))
        S = float(sol.action[0]) + prior_low
        grad = np.zeros(0)
        if L > 1:
            B = _top_adjoint(kern, uL, s2[0], self.T, self.y)
            grad = _lower_gradient(self.activation, Ks, B, uL, scales, Qlow, N)
        self.last = {"x": x.copy(), "kern": kern, "sol": sol, "uL": uL, "S": S, "grad": grad}
        return S, grad


def _minimize(
    action: _Action, gtol: float, maxiter: int, start: np.ndarray | None = None
) -> tuple[np.ndarray, float, bool]:
    """Quasi-Newton over the finite-width lower layers from ``start`` (log Q_1..log Q_{L−1})
    or the homogeneous-map start; returns (q_1..q_{L−1}, max |per-width gradient|,
    converged)."""
    L, N, s2 = action.L, action.N, action.s2
    if L == 1 or np.all(~np.isfinite(N[:-1])):
        action(np.zeros(L - 1))  # no free lower layer: nothing to minimize (GP layers fixed)
        return np.zeros(L - 1), 0.0, True
    free = np.flatnonzero(np.isfinite(N[:-1]))

    def embed(z: np.ndarray) -> np.ndarray:
        x = np.zeros(L - 1)
        x[free] = z
        return x

    def fun(z: np.ndarray) -> tuple[float, np.ndarray]:
        S, g = action(embed(z))
        return S, g[free] / (0.5 * N[free])  # scale: per-width gradient

    if start is not None:
        z0 = np.asarray(start, float)[free]
    else:
        # start: the top layer at Q_<L = 1, then the homogeneous-map relation
        # N_l(Q_l − 1) = G shared by all layers (exact for linear/ReLU) for the lower ones
        action(np.zeros(L - 1))
        G_top = N[-1] * (action.last["uL"] / s2[-1] - 1.0) if np.isfinite(N[-1]) else 0.0
        z0 = np.log(np.maximum(1.0 + G_top / N[free], 1e-3))
    z, _ = _quasi_newton(fun, z0, gtol, maxiter, h0=np.exp(z0))
    x = embed(z)
    if not np.array_equal(action.last["x"], x):
        action(x)
    gnorm = float(np.max(np.abs(action.last["grad"][free] / (0.5 * N[free])), initial=0.0))
    return x, gnorm, bool(gnorm < 1e3 * gtol) and bool(action.last["sol"].converged[0])


def _newton_applies(arch: Architecture, activation: Act) -> bool:
    """The Cholesky–Newton path: erf, L >= 2, some finite lower width, T > 0."""
    lower = np.asarray(arch.widths[:-1], float)
    return (
        isinstance(activation, str)
        and activation == "erf"
        and arch.L > 1
        and bool(np.any(np.isfinite(lower)))
        and arch.T > 0
    )


def _newton_lower(
    X: np.ndarray, y: np.ndarray, arch: Architecture, action: _Action, gtol: float
) -> tuple[np.ndarray | None, float, bool, int]:
    """Joint Newton over all log Q_l on Cholesky factors (deeprg.bpkr.layerwise_newton), then
    the check on the eigen path at its lower q (exact top layer; the eigendecomposition is the
    one the fit keeps). A check above ``gtol`` gets up to two reduced Newton corrections (the
    top layer eliminated from the last Hessian by its Schur complement).

    Returns (log Q_1..log Q_{L−1} or None if the iteration failed, max |per-width gradient|
    at it, converged, Cholesky evaluations).
    """
    from deeprg.bpkr.layerwise_newton import CholeskyAction, newton_solve

    L, N = arch.L, action.N
    check_kernel_memory(X.shape[0], 8.0 + L * L)
    chol = CholeskyAction(X, y, arch)
    action.first = (chol.K0, chol.C1)
    q, ev, n_chol, ok = newton_solve(chol)
    if not ok or ev is None:
        return None, np.inf, False, n_chol
    fin = np.isfinite(N[:-1])
    free = np.flatnonzero(fin)
    x = np.where(fin, q[:-1], 0.0)
    H = ev.H[np.ix_(free, free)]
    if np.isfinite(N[-1]) and ev.H[L - 1, L - 1] > 0:
        h = ev.H[free, L - 1]
        H = H - np.outer(h, h) / ev.H[L - 1, L - 1]
    w, V = np.linalg.eigh(H)
    w = np.maximum(np.abs(w), 1e-8 * max(1.0, float(np.max(np.abs(w)))))
    gnorm = np.inf
    for _ in range(3):
        _, grad = action(x)
        gnorm = float(np.max(np.abs(grad[free] / (0.5 * N[free]))))
        if gnorm <= gtol and bool(action.last["sol"].converged[0]):
            return x, gnorm, True, n_chol
        x = x.copy()
        x[free] -= (V / w) @ (V.T @ grad[free])
    return x, gnorm, False, n_chol


def solve_layerwise(
    X: np.ndarray,
    y: np.ndarray,
    arch: Architecture,
    activation: Act,
    *,
    gtol: float = 1e-9,
    maxiter: int = 200,
) -> LayerwiseSolution:
    """Minimize the layer-wise action S(Q) (module docstring) for any activation and widths."""
    check_kernel_memory(X.shape[0], 4.0)
    action = _Action(X, y, arch, activation)
    n_chol, conv, x0 = 0, False, None
    if _newton_applies(arch, activation):
        x0, gnorm, conv, n_chol = _newton_lower(X, y, arch, action, gtol)
        if conv and x0 is not None:
            x = x0
    if (
        not conv or x0 is None
    ):  # eigen path (quasi-Newton on the reduced action), from the Newton point
        x, gnorm, conv = _minimize(action, gtol, maxiter, start=x0 if n_chol else None)
    N, s2, T = action.N, action.s2, action.T
    sol, kern, uL = action.last["sol"], action.last["kern"], action.last["uL"]
    q = np.concatenate([x, [np.log(uL / s2[-1])]])
    Q = np.exp(q)
    # evidence: top-layer part from the scalar machinery + lower-layer prior terms
    _, ev_top = action_and_evidence(
        kern,
        np.array([np.log(uL)]),
        np.array([[uL]]),
        N[-1:][None, :],
        s2[-1:][None, :],
        s2[:1],
        np.array([T]),
    )
    fin = np.isfinite(N[:-1])
    Nf = np.where(np.isfinite(N), N, 0.0)  # GP layers (N = inf, Q = 1) contribute nothing
    ev_low = float(np.sum(np.where(fin, 0.5 * Nf[:-1] * (q[:-1] - Q[:-1] + 1.0), 0.0)))
    return LayerwiseSolution(
        q=q,
        kernel=kern,
        action=float(action.last["S"]),
        log_evidence=float(ev_top[0]) + ev_low,
        grad_norm=gnorm,
        converged=bool(conv and sol.converged[0]),
        evaluations=action.evaluations + n_chol,
        G=np.where(np.isfinite(N), Nf * (Q - 1.0), 0.0),
    )


def layer_kernels_layerwise(
    X: np.ndarray,
    y: np.ndarray,
    Z: np.ndarray,
    arch: Architecture,
    activation: Act,
    u: np.ndarray,
) -> np.ndarray:
    """Mean hidden-layer kernels ⟨K_l⟩ on inputs Z, l = 0..L, of the layer-wise theory.

    ``u`` are the order parameters u_l = Q_l σ_{l+1}² at the solution (σ_{l+1}² and infinite
    widths for the GP limit). Linear response of the theory's free energy to a source on the
    layer-l kernel (docs/theory/nonlinear-renormalization.md §2.5):

        K^R_0 = K_0,  K^R_l = u_l k_φ(K^R_{l−1})         (renormalized chain, on X ∪ Z),
        B_L = ½(A⁻¹ − ααᵀ),  B_{l−1} = u_l J_φ(K^R_{l−1})ᵀ B_l   (training block),
        K̄_0 = K_0(Z),
        K̄_l = σ_{l+1}²[(1 − 1/N_l) k_φ(K̄_{l−1}) + (1/N_l)(k^R_ZZ − 2 u_l k^R_ZX B_l k^R_XZ)],
        k^R = k_φ(K^R_{l−1}).

    For linear networks this is the exact §4.2 recursion of docs/bpkr.md at the saddle point
    (tested); N_l → ∞ gives the NNGP kernels. Returns (L+1, n, n). Dense: O((P+n)²) memory
    and O(P³ + L (P+n)² P) time.
    """
    Xa = np.asarray(X, dtype=np.float64)
    Za = np.asarray(Z, dtype=np.float64)
    if Za.ndim != 2 or Za.shape[1] != Xa.shape[1]:
        raise InputError(f"Z must have shape (n, {Xa.shape[1]}) like the training inputs")
    L = arch.L
    N = np.asarray(arch.widths, float)
    s2 = np.asarray(arch.sigma2, float)
    T = float(arch.T)
    u = np.asarray(u, float)
    P = Xa.shape[0]
    check_kernel_memory(P + Za.shape[0], 4.0)
    S = np.concatenate([Xa, Za])
    KR = [S @ S.T * (s2[0] / Xa.shape[1])]
    kR = []
    for l in range(L):
        kR.append(gram_map(activation, KR[-1]))
        KR.append(u[l] * kR[-1])
    A = KR[-1][:P, :P] + T * np.eye(P)
    from scipy.linalg import LinAlgError, cho_factor, cho_solve

    try:
        cf = cho_factor(A, lower=True)
    except LinAlgError:
        raise InputError(
            "the top kernel plus T I is singular on the training set (T = 0 with P > rank?)"
        ) from None
    Ainv = cho_solve(cf, np.eye(P))
    alpha = cho_solve(cf, np.asarray(y, float))
    B = [np.empty(0)] * (L + 1)  # B[l] ↔ K_l, l = 1..L
    B[L] = 0.5 * (Ainv - np.outer(alpha, alpha))
    for l in range(L, 1, -1):
        Bl = gram_map_vjp(activation, KR[l - 1][:P, :P], B[l])
        B[l - 1] = 0.5 * u[l - 1] * (Bl + Bl.T)
    out = np.empty((L + 1, Za.shape[0], Za.shape[0]))
    out[0] = KR[0][P:, P:]
    Kbar = out[0]
    for l in range(1, L + 1):
        k = kR[l - 1]
        kzx = k[P:, :P]
        tilt = k[P:, P:] - 2.0 * u[l - 1] * (kzx @ B[l] @ kzx.T)
        inv_n = 0.0 if not np.isfinite(N[l - 1]) else 1.0 / N[l - 1]
        Kbar = s2[l] * ((1.0 - inv_n) * gram_map(activation, Kbar) + inv_n * tilt)
        Kbar = 0.5 * (Kbar + Kbar.T)
        out[l] = Kbar
    return out
