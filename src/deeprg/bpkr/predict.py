"""Predictor statistics of the renormalized GP and of its scale mixtures (docs/theory/bpkr.md §3, §4.2).

Given U, the posterior over functions is a GP with kernel U K_0 and noise T (§3.1). In the
eigenbasis of the σ-free kernel C (K_0 = σ_1² C, V = U σ_1², B = V^T C(X, x)):

    mean_U(x) = Σ_i B_i(x) V ỹ_i/(Vμ_i + T)
    var_U(x)  = V C(x, x) − V² Σ_i B_i(x)²/(Vμ_i + T)
    Cov_U     = V C(x, x') − V² Σ_i B_i(x) B_i(x')/(Vμ_i + T)

A :class:`Mixture` holds quadrature nodes U_s with weights w_s: one node for the saddle and
GP modes, the exact posterior of log U (§2.3) for the finite-width mode. Mixture moments are
reduced to per-eigendirection coefficients, so that every statistic costs O(m r n) for m nodes,
r = rank C eigen-directions and n test points, without Python loops over data points. The
projections B of a test set are computed once and cached by the base kernel (``project``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deeprg.bpkr.base import BaseKernel


@dataclass(frozen=True)
class Mixture:
    """Posterior over the kernel scale: nodes U (m,), weights (m,), and per-layer factors.

    ``lower[k]`` holds E[Π_{j<k} u_j | U] at each node (k = 0..L−1), used by the layer-kernel
    recursion (1/U_{≥k} = Π_{j<k} u_j / U).
    """

    U: np.ndarray
    weights: np.ndarray
    sigma2: tuple[float, ...]
    widths: tuple[float, ...]
    T: float
    lower: np.ndarray  # (L, m)

    @property
    def V(self) -> np.ndarray:
        return self.U * self.sigma2[0]


def _inv_den(kern: BaseKernel, mix: Mixture) -> np.ndarray:
    """1/(V_s μ_k + T) over the nonzero eigen-directions; shape (m, r).

    Null directions of C never reach a test input (B_k(x) = 0 there, §2.9), so predictions
    need only the r nonzero directions.
    """
    den = mix.V[:, None] * kern.evals[None, :] + mix.T
    return np.divide(1.0, den, out=np.zeros_like(den), where=den > 0)


def mean_coefficients(kern: BaseKernel, mix: Mixture) -> np.ndarray:
    """a_s = V_s ỹ/(V_s μ + T): mean_U(x) = a_s · B(x); shape (m, r)."""
    return mix.V[:, None] * kern.ytil[None, :] * _inv_den(kern, mix)


def predict(
    kern: BaseKernel, mix: Mixture, X_test: np.ndarray, *, full_cov: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Posterior mean, variance (and optionally covariance) of f on test inputs (§3.1).

    The variance is that of the network output over the posterior (law of total variance over
    the mixture); it does not include the label noise T.
    """
    B, d = kern.cross(X_test)  # cached per test set
    w, V = mix.weights, mix.V
    A = mean_coefficients(kern, mix)  # (m, r)
    M = A @ B  # (m, n) per-node means
    mean = w @ M
    c = (w * V**2) @ _inv_den(kern, mix)  # (r,)
    e_var = (w @ V) * d - c @ (B**2)
    var = e_var + w @ (M**2) - mean**2
    cov = None
    if full_cov:
        Ctt = kern.test_gram(X_test)
        cov = (w @ V) * Ctt - (B.T * c) @ B + (M.T * w) @ M - np.outer(mean, mean)
    return mean, np.maximum(var, 0.0), cov


def errors(
    kern: BaseKernel, mix: Mixture, X_test: np.ndarray, y_test: np.ndarray
) -> dict[str, float]:
    """ε_g = bias² + variance on a test set (§3.2); labels as given (noisy or clean)."""
    y = np.asarray(y_test, dtype=np.float64).ravel()
    mean, var, _ = predict(kern, mix, X_test)
    if y.shape != mean.shape:
        raise ValueError(f"y_test has {y.size} labels for {mean.size} test inputs")
    bias2 = float(np.mean((mean - y) ** 2))
    variance = float(np.mean(var))
    return {"eps_g": bias2 + variance, "bias2": bias2, "variance": variance}


def train_error(kern: BaseKernel, mix: Mixture) -> float:
    """ε_tr = (1/P)[T² Y^T A^{-2} Y + T Tr(U K_0 A^{-1})], mixed over U (§3.3).

    Null directions of C add ‖y_⊥‖² at every T > 0 (the residual T A^{-1} Y is y_⊥ there),
    and the same at T = 0 as the T → 0 limit: the network cannot fit y_⊥ (§2.9).
    """
    inv = _inv_den(kern, mix)
    x = mix.V[:, None] * kern.evals[None, :]
    per_node = mix.T**2 * (kern.ytil**2 * inv**2).sum(1) + mix.T * (x * inv).sum(1)
    return (float(mix.weights @ per_node) + kern.ynull2) / kern.P


def layer_kernels(kern: BaseKernel, mix: Mixture, Z: np.ndarray) -> np.ndarray:
    """Mean hidden-layer kernels ⟨K_l(z, z')⟩ for l = 0..L on inputs Z (§4.2, unrolled).

    ⟨K_l⟩ = a_l K_0 + Σ_{k≤l} c_{lk} E[⟨f f^T⟩_U / U_{≥k}], with
    a_l = Π_{k≤l} σ_{k+1}²(1 − 1/N_k), c_{lk} = [Π_{k<j≤l} σ_{j+1}²(1 − 1/N_j)] σ_{k+1}²/N_k,
    and ⟨f f^T⟩_U the renormalized-GP second moment. Layer 0 is K_0 itself. Returns (L+1, n, n).
    """
    Z = np.asarray(Z, dtype=np.float64)
    B, _ = kern.cross(Z)  # cached per input set
    Czz = kern.test_gram(Z)
    K0 = mix.sigma2[0] * Czz
    w, V, U = mix.weights, mix.V, mix.U
    A = mean_coefficients(kern, mix)
    M = A @ B  # (m, n)
    inv = _inv_den(kern, mix)
    L = len(mix.widths)
    widths = np.asarray(mix.widths, float)
    s2n = np.asarray(mix.sigma2[1:], float)
    decay = s2n * (1.0 - 1.0 / widths)  # σ_{l+1}²(1 − 1/N_l); = σ² for N = inf
    out = np.empty((L + 1, Z.shape[0], Z.shape[0]))
    out[0] = K0
    # E[g(U) <ff^T>_U] for g_k(U) = lower_k(U)/U, one per source layer k.
    task = np.empty((L, Z.shape[0], Z.shape[0]))
    for k in range(L):  # loop over layers, not data
        g = w * mix.lower[k] / U
        cvec = (g * V**2) @ inv
        task[k] = (g @ V) * Czz - (B.T * cvec) @ B + (M.T * g) @ M
    for l in range(1, L + 1):
        Kl = np.prod(decay[:l]) * K0
        for k in range(1, l + 1):
            ck = np.prod(decay[k:l]) * s2n[k - 1] / widths[k - 1]
            Kl = Kl + ck * task[k - 1]
        out[l] = Kl
    return out


def alignment(K: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Kernel–target alignment ⟨K, y y^T⟩_F / (‖K‖_F ‖y y^T‖_F) (docs/theory/bpkr.md §4); K may be (..., n, n)."""
    y = np.asarray(y, dtype=np.float64).ravel()
    num = np.einsum("...ij,i,j->...", K, y, y)
    return num / (np.linalg.norm(K, axis=(-2, -1)) * (y @ y))
