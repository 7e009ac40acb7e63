"""Front end: ``fit`` a BPKR theory to data and query it (docs/theory/bpkr.md §2–§4).

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
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from deeprg.bpkr.base import (
    PATHS,
    Architecture,
    BaseKernel,
    architecture,
    base_kernel,
    choose_path,
    fit_summary,
)
from deeprg.bpkr.exact import posterior_logU
from deeprg.bpkr.predict import Mixture, alignment, errors, layer_kernels, predict, train_error
from deeprg.bpkr.saddle import solve_saddle
from deeprg.errors import InputError, check_choice, check_xy

MODES = ("saddle", "exact", "gp")
ACTIVATIONS = ("linear", "relu", "erf", "tanh")
RENORMALIZATIONS = ("scalar", "layerwise")


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
    renormalization: str = "scalar"
    activation_fn: Any = field(default=None, repr=False)  # the activation as given to fit

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
        """⟨K_l⟩ = σ_{l+1}²⟨φ(h_l)φ(h_l)ᵀ⟩/N_l on inputs Z for l = 0..L, shape (L+1, n, n).

        Linear networks: the §4.2 recursion (exact mode: exact at finite width). Nonlinear
        networks (saddle and gp modes): linear response of the layer-wise theory
        (docs/theory/nonlinear-renormalization.md §2.5); for ReLU the layer-wise and scalar
        theories coincide; for erf, tanh and callables at L >= 2 it needs
        ``renormalization="layerwise"`` (the scalar heuristic has no layer structure).
        """
        act = self.activation_fn if self.activation_fn is not None else self.kernel.activation
        if act == "linear":
            return layer_kernels(self.kernel, self.mixture, Z)
        from deeprg.bpkr.layerwise import act_name, layer_kernels_layerwise
        from deeprg.kernels.grad import HOMOGENEOUS

        L = self.arch.L
        if self.renormalization == "scalar" and L >= 2 and act not in HOMOGENEOUS:
            raise InputError(
                f"layer kernels of activation {act_name(act)!r} at L >= 2 need "
                "renormalization='layerwise' (the scalar heuristic has no layer structure)"
            )
        arch = self.arch
        if self.mode == "gp":
            arch = replace(arch, widths=tuple(np.inf for _ in arch.widths))
            u = np.asarray(arch.sigma2[1:], float)
        else:
            u = np.asarray(self.u, float)
        return layer_kernels_layerwise(self.kernel.X, self.kernel.y, Z, arch, act, u)

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
    activation: str | Callable[[np.ndarray], np.ndarray] = "linear",
    *,
    renormalization: str = "layerwise",
    path: str = "auto",
    progress: Callable[[int, int], None] | None = None,
) -> Any:
    """Fit the kernel-renormalization theory to data (X of shape (P, N0), y (P,) or (P, D)).

    ``widths`` = N_1..N_L (L >= 1 hidden layers, input side first); ``sigma2`` one value or
    σ_1²..σ_{L+1}²; ``T`` >= 0 (T = 0 is the exact interpolation limit, §2.6);
    ``activation`` "linear" (exact theory), "relu", "erf", "tanh" or a vectorized callable
    (nonlinear: saddle and gp modes); ``renormalization`` "layerwise" (one order parameter per
    layer, entering before the next nonlinearity; docs/theory/nonlinear-renormalization.md
    §2) or "scalar" (the output NNGP kernel times Π_l Q_l, bpkr.md §5.1) — the two coincide for
    linear and ReLU networks and for L = 1; ``path`` "auto" (feature space for linear networks
    with N0 < P), "kernel" or "feature" (linear only).

    Targets with D >= 2 columns use the multi-output theory (a D×D order parameter; returns a
    :class:`~deeprg.bpkr.multi.BPKRMultiFit`): one hidden layer with any activation, or deep
    linear networks; saddle and gp modes.
    """
    from deeprg.kernels.grad import HOMOGENEOUS, check_gram_activation

    check_choice("mode", mode, MODES)
    check_choice("renormalization", renormalization, RENORMALIZATIONS)
    if not callable(activation):
        check_choice("activation", activation, ACTIVATIONS)
    check_gram_activation(activation)
    check_choice("path", path, PATHS)
    arch = architecture(widths, sigma2, T)
    from deeprg.bpkr.layerwise import act_name

    name = act_name(activation)
    Y = np.asarray(y, dtype=np.float64) if np.ndim(y) == 2 else None
    multi = Y is not None and Y.shape[1] >= 2
    shape = (*np.shape(X), 1, 1)
    choose_path(path, int(shape[0]), int(shape[1]), "linear" if name == "linear" else name)
    if multi:
        return _fit_multi(X, Y, arch, mode, activation, name, renormalization, path)
    if mode == "exact" and name != "linear":
        raise InputError(
            f"mode 'exact' applies to linear networks only (activation {name!r}: saddle or gp)"
        )
    if name == "linear":
        f = fit_kernel(base_kernel(X, y, path=path), arch, mode, progress=progress)
        return replace(f, renormalization=renormalization)
    from deeprg.bpkr.base import check_kernel_memory

    check_kernel_memory(int(np.shape(X)[0]))
    if name == "relu":
        from deeprg.bpkr.relu import relu_kernel

        # homogeneous map: layer-wise = scalar renormalization (docs/theory page §2.3)
        f = fit_kernel(relu_kernel(X, y, arch.L), arch, mode)
        return replace(f, renormalization=renormalization, activation_fn="relu")
    from deeprg.bpkr.layerwise import gp_output_kernel, solve_layerwise

    check_kernel_memory(int(np.shape(X)[0]), 4.0)  # chain + dsyevd workspace
    Xa, ya = check_xy(X, y)
    if renormalization == "scalar" or arch.L == 1 or mode == "gp":
        kern = gp_output_kernel(Xa, ya, activation, arch)
        f = fit_kernel(kern, arch, mode)  # gp: Q = 1, both theories give the NNGP kernel
        return replace(f, renormalization=renormalization, activation_fn=activation)
    assert activation not in HOMOGENEOUS
    sol = solve_layerwise(Xa, ya, arch, activation)
    u = np.exp(sol.q) * np.asarray(arch.sigma2[1:])
    mix = Mixture(
        U=np.array([u[-1]]),
        weights=np.ones(1),
        sigma2=arch.sigma2,
        widths=arch.widths,
        T=arch.T,
        lower=np.ones((arch.L, 1)),
    )
    return BPKRFit(
        mode="saddle",
        kernel=sol.kernel,
        arch=arch,
        u=u,
        U=float(np.prod(u)),
        G=float(sol.G[-1]),
        action=sol.action,
        log_evidence=sol.log_evidence,
        converged=sol.converged,
        residual=sol.grad_norm,
        iterations=sol.evaluations,
        mixture=mix,
        diagnostics={"G_layers": [float(g) for g in sol.G], "Q": [float(q) for q in np.exp(sol.q)]},
        renormalization="layerwise",
        activation_fn=activation,
    )


def _fit_multi(X, Y, arch, mode, activation, name, renormalization, path):
    from deeprg.bpkr.multi import fit_multi

    if mode == "exact":
        raise InputError("mode 'exact' is not defined for multi-output targets (saddle or gp)")
    if name != "linear" and arch.L > 1:
        raise InputError(
            f"multi-output targets with activation {name!r} need one hidden layer (widths of "
            "length 1); deep multi-output theory is defined for linear networks only"
        )
    Xa = np.asarray(X, dtype=np.float64)
    if Xa.ndim != 2 or Xa.shape[0] != Y.shape[0]:
        raise InputError(f"X must have shape (P, N0) with P = {Y.shape[0]} rows like y")
    if name == "linear":
        kern = base_kernel(Xa, Y[:, 0], path=path)
    elif name == "relu":
        from deeprg.bpkr.relu import relu_kernel

        kern = relu_kernel(Xa, Y[:, 0], 1)
    else:
        from deeprg.bpkr.layerwise import gp_output_kernel

        kern = gp_output_kernel(Xa, Y[:, 0], activation, arch)
    return fit_multi(kern, Y, arch, mode, activation=name, renormalization=renormalization)


def report(
    fit_: BPKRFit, X_test: np.ndarray | None = None, y_test: np.ndarray | None = None
) -> dict:
    """The ``deeprg bpkr --json`` object for a fit (errors included when a test set is given)."""
    from deeprg.bpkr.multi import BPKRMultiFit, report_multi

    if isinstance(fit_, BPKRMultiFit):
        return report_multi(fit_, X_test, y_test)
    out: dict[str, Any] = {
        "mode": fit_.mode,
        "activation": fit_.kernel.activation,
        "renormalization": fit_.renormalization,
        "u": [float(v) for v in fit_.u],
        "U": fit_.U,
        "G": fit_.G,
        **fit_summary(fit_),
    }
    if X_test is not None and y_test is not None:
        out.update(fit_.errors(X_test, y_test))
    else:
        out.update({"eps_g": None, "bias2": None, "variance": None})
    return out
