"""Front end: ``fit`` a BPKR theory to data and query it (bpkr.md §9 "Core API").

>>> fit_ = fit(X, y, widths=[60, 60], sigma2=1.0, T=0.05, mode="saddle")
>>> fit_.u, fit_.U, fit_.converged
>>> fit_.errors(X_test, y_test)   # {'eps_g', 'bias2', 'variance'}

Modes: ``"saddle"`` (proportional-limit saddle point, §2.4), ``"exact"`` (exact finite-width
scale mixture of GPs, §2.3) and ``"gp"`` (all N_l → ∞, §2.10). Paths (how the spectrum of
C = XXᵀ/N0 is obtained, :mod:`deeprg.bpkr.base`): ``"kernel"`` (P×P), ``"feature"`` (N0×N0,
linear networks), ``"auto"`` (feature space when N0 < P). Every mode and query works on both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from deeprg.bpkr.base import (
    PATHS,
    Architecture,
    BaseKernel,
    architecture,
    base_kernel,
    choose_path,
)
from deeprg.bpkr.exact import posterior_logU
from deeprg.bpkr.predict import Mixture, alignment, errors, layer_kernels, predict, train_error
from deeprg.bpkr.saddle import solve_saddle
from deeprg.errors import InputError, check_choice

MODES = ("saddle", "exact", "gp")
ACTIVATIONS = ("linear", "relu")


@dataclass(frozen=True)
class BPKRFit:
    """A solved BPKR theory: order parameters, diagnostics and the posterior over U.

    ``u`` lists u_1..u_L (input side first; u_l is created when W_l is integrated out and has
    prior mean σ_{l+1}², §2.3). In exact mode ``u`` and ``U`` are posterior means.
    """

    mode: str
    kernel: BaseKernel = field(repr=False)
    arch: Architecture
    u: np.ndarray
    U: float
    G: float
    action: float
    log_evidence: float
    converged: bool
    residual: float
    iterations: int
    mixture: Mixture = field(repr=False)
    diagnostics: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        """Either "converged" or "not_converged" (saddle: root not polished to tolerance; exact: the
        posterior grid lost mass at its edges or the evidence is not finite; ``residual``)."""
        return "converged" if self.converged else "not_converged"

    def predict(self, X_test: np.ndarray, *, full_cov: bool = False):
        """(mean, variance, covariance or None) of f on test inputs (§3.1)."""
        return predict(self.kernel, self.mixture, X_test, full_cov=full_cov)

    def errors(self, X_test: np.ndarray, y_test: np.ndarray) -> dict[str, float]:
        """ε_g, bias² and variance on a test set (§3.2)."""
        return errors(self.kernel, self.mixture, X_test, y_test)

    def train_error(self) -> float:
        """Mean training error ε_tr (§3.3); ⟨E⟩ = P ε_tr / 2."""
        return train_error(self.kernel, self.mixture)

    def layer_kernels(self, Z: np.ndarray) -> np.ndarray:
        """⟨K_l⟩ on inputs Z for l = 0..L, shape (L+1, n, n) (§4.2; linear networks)."""
        if self.kernel.activation != "linear":
            raise InputError("layer kernels are implemented for linear networks only")
        return layer_kernels(self.kernel, self.mixture, Z)

    def alignment(self, Z: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Kernel–target alignment of ⟨K_l⟩, l = 0..L, on inputs Z with targets y (§4.5)."""
        return alignment(self.layer_kernels(Z), y)


def _saddle_point(kern: BaseKernel, arch: Architecture, gp: bool) -> dict[str, Any]:
    widths = np.full(arch.L, np.inf) if gp else np.asarray(arch.widths, float)
    sol = solve_saddle(kern, widths[None, :], np.asarray(arch.sigma2)[None, :], np.array([arch.T]))
    return {k: np.asarray(getattr(sol, k))[0] for k in sol.__dataclass_fields__}


def fit_kernel(
    kern: BaseKernel,
    arch: Architecture,
    mode: str = "saddle",
    *,
    progress: Callable[[int, int], None] | None = None,
) -> BPKRFit:
    """Solve the theory on a pre-decomposed base kernel (amortizes the O(P³) step).

    ``progress(done, total)``: exact mode reports its per-layer steps (deep networks are slow).
    """
    check_choice("mode", mode, MODES)
    if mode == "exact" and kern.activation != "linear":
        raise InputError("mode 'exact' applies to linear networks only (ReLU: saddle or gp)")
    sp = _saddle_point(kern, arch, gp=(mode == "gp"))
    u = np.asarray(sp["u"], float)
    diag: dict[str, Any] = {"n_roots": int(sp["n_roots"])}
    if mode in ("saddle", "gp"):
        lower = np.concatenate([[1.0], np.cumprod(u)[:-1]])[:, None]
        mix = Mixture(
            U=np.array([np.exp(sp["logU"])]),
            weights=np.ones(1),
            sigma2=arch.sigma2,
            widths=tuple(np.inf for _ in arch.widths) if mode == "gp" else arch.widths,
            T=arch.T,
            lower=lower,
        )
        return BPKRFit(
            mode=mode,
            kernel=kern,
            arch=arch,
            u=u,
            U=float(np.exp(sp["logU"])),
            G=float(sp["G"]),
            action=float(sp["action"]),
            log_evidence=float(sp["log_evidence"]),
            converged=bool(sp["converged"]),
            residual=float(sp["residual"]),
            iterations=int(sp["iterations"]),
            mixture=mix,
            diagnostics=diag,
        )
    grid = posterior_logU(kern, arch, s_center=float(sp["logU"]), progress=progress)
    mix = Mixture(
        U=grid.U,
        weights=grid.weights,
        sigma2=arch.sigma2,
        widths=arch.widths,
        T=arch.T,
        lower=grid.cond_lower,
    )
    diag.update(
        {
            "edge_mass": grid.edge_mass,
            "n_grid": grid.n_grid,
            "logU_mean": float(grid.weights @ grid.s),
            "logU_sd": float(np.sqrt(grid.weights @ (grid.s - grid.weights @ grid.s) ** 2)),
        }
    )
    return BPKRFit(
        mode="exact",
        kernel=kern,
        arch=arch,
        u=grid.cond_u @ grid.weights,
        U=float(grid.weights @ grid.U),
        G=float(sp["G"]),
        action=float(sp["action"]),
        log_evidence=grid.log_evidence,
        converged=bool(grid.edge_mass < 1e-8 and np.isfinite(grid.log_evidence)),
        residual=grid.edge_mass,
        iterations=1,
        mixture=mix,
        diagnostics=diag,
    )


def fit(
    X: np.ndarray,
    y: np.ndarray,
    widths: Sequence[float] | float,
    sigma2: Sequence[float] | float = 1.0,
    T: float = 0.0,
    mode: str = "saddle",
    activation: str = "linear",
    *,
    path: str = "auto",
    progress: Callable[[int, int], None] | None = None,
) -> BPKRFit:
    """Fit the BPKR theory to data (X of shape (P, N0), y (P,)).

    ``widths`` = N_1..N_L (L >= 1 hidden layers, input side first); ``sigma2`` one value or
    σ_1²..σ_{L+1}²; ``T`` >= 0 (T = 0 is the exact interpolation limit, §2.6);
    ``activation`` "linear" (exact theory) or "relu" (the §5.1 heuristic; saddle and gp modes);
    ``path`` "auto" (feature space for linear networks with N0 < P: O(P N0² + N0³) time and
    O(P N0) memory), "kernel" (the P×P kernel) or "feature" (linear only).
    """
    check_choice("mode", mode, MODES)
    check_choice("activation", activation, ACTIVATIONS)
    check_choice("path", path, PATHS)
    arch = architecture(widths, sigma2, T)
    shape = (*np.shape(X), 1, 1)
    choose_path(path, int(shape[0]), int(shape[1]), activation)  # "feature" + ReLU refused early
    if activation == "relu":
        if mode == "exact":
            raise InputError("mode 'exact' applies to linear networks only (ReLU: saddle or gp)")
        from deeprg.bpkr.base import check_kernel_memory
        from deeprg.bpkr.relu import relu_kernel

        check_kernel_memory(int(np.shape(X)[0]))
        return fit_kernel(relu_kernel(X, y, arch.L), arch, mode)
    return fit_kernel(base_kernel(X, y, path=path), arch, mode, progress=progress)


def report(
    fit_: BPKRFit, X_test: np.ndarray | None = None, y_test: np.ndarray | None = None
) -> dict:
    """The ``deeprg bpkr --json`` object for a fit (errors included when a test set is given)."""
    out: dict[str, Any] = {
        "mode": fit_.mode,
        "activation": fit_.kernel.activation,
        "u": [float(v) for v in fit_.u],
        "U": fit_.U,
        "G": fit_.G,
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
    if X_test is not None and y_test is not None:
        out.update(fit_.errors(X_test, y_test))
    else:
        out.update({"eps_g": None, "bias2": None, "variance": None})
    return out
