"""BPKR reproduction R3 (docs/theory/bpkr.md §2.7): the (σ², α) phase diagram of the depth
effect — the analytic T → 0 sign of dε_g/dL with the lines σ_c² and σ²(1 − α) = 1, against
the numerical sign at finite T from the vectorized saddle sweep. The figure is drawn from the
saved Dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from deeprg.experiments.bpkr_common import TEACHER
from deeprg.experiments.registry import ReproductionResult, register
from deeprg.plotting import register_plot, save_figure, subplots
from deeprg.schema import annotate, var

_ATTRS = {
    "sign_T0": var(
        "sign of d eps_g/dL at T -> 0", "analytic (docs/theory/bpkr.md §2.7): +1 deeper is worse"
    ),
    "sign_T": var("sign of eps_g(L=3) - eps_g(L=2) at T", "numerical, vectorized saddle sweep"),
    "sigma_c2": var("critical prior variance sigma_c^2", "(1 - alpha r~)/(1 - alpha)"),
    "sigma2_div": var("divergence line", "sigma^2 with sigma^2 (1 - alpha) = 1"),
    "sigma2": var("prior variance sigma^2", "weight prior variance, every layer"),
    "alpha": var("load alpha = P/N", "P over the hidden width"),
}


def _finite_T_sign(kern, split, s2, alpha, rank, T):
    from deeprg.bpkr.sweep import errors_points, solve_points

    S, A = np.meshgrid(s2, alpha, indexing="ij")
    N = np.maximum(1, np.round(rank / A.ravel()))
    eps = {}
    for L in (2, 3):
        sol = solve_points(kern, [[w] * L for w in N], list(S.ravel()), np.full(S.size, T))
        eps[L] = errors_points(
            kern, np.exp(sol.logU), S.ravel(), np.full(S.size, T), split.X_test, split.y_test
        )["eps_g"].reshape(S.shape)
    return np.sign(eps[3] - eps[2])


@register(
    "bpkr-phase", "BPKR R3: (σ², α) phase diagram of the depth effect with the analytic lines"
)
def run_phase(size: str, seed: int, out_dir: Path) -> ReproductionResult:
    import xarray as xr

    from deeprg.bpkr import base_kernel
    from deeprg.bpkr.phase import depth_effect_sign, r_tilde, sigma2_divergence, sigma_c2
    from deeprg.data import make_dataset

    n = {"tiny": 8, "quick": 60, "full": 200}[size]
    split = make_dataset("teacher", seed=seed, **TEACHER)
    kern = base_kernel(split.X, split.y)
    rt, rank = r_tilde(kern)
    s2 = np.geomspace(0.2, 5.0, n)
    alpha = np.geomspace(0.1, 4.0, n)
    T = 0.05
    ds = xr.Dataset(
        {
            "sign_T0": (("sigma2", "alpha"), depth_effect_sign(s2, alpha, rt)),
            "sign_T": (("sigma2", "alpha"), _finite_T_sign(kern, split, s2, alpha, rank, T)),
            "sigma_c2": ("alpha", sigma_c2(alpha, rt)),
            "sigma2_div": ("alpha", sigma2_divergence(alpha)),
        },
        coords={"sigma2": s2, "alpha": alpha},
    )
    ds = annotate(ds, _ATTRS)
    ds.attrs.update(T=T, r_tilde=rt)
    agree = float(np.mean(ds["sign_T0"].values == ds["sign_T"].values))
    msg = f"analytic T→0 sign and numerical T={T} sign agree on {100 * agree:.1f}% of the (σ², α) grid; r̃ = {rt:.3f}"
    return ReproductionResult(ds, [], msg, {"size": size, "T": T, "n": n})


@register_plot("bpkr-phase")
def plot_phase(ds: Any, path: Path) -> Path:
    """Sign maps at T → 0 (analytic) and finite T (numerical) with the analytic lines."""
    alpha, s2, T = ds["alpha"].values, ds["sigma2"].values, ds.attrs["T"]
    fig, axes = subplots(1, 2, figsize=(10, 4))
    titles = ("T → 0 (analytic)", f"T = {T} (numerical, L = 2 → 3)")
    for ax, key, ttl in zip(axes, ("sign_T0", "sign_T"), titles, strict=True):
        ax.pcolormesh(alpha, s2, ds[key].values, cmap="coolwarm", vmin=-1, vmax=1, shading="auto")
        ax.plot(alpha, ds["sigma_c2"], "k-", label="σ_c² = (1 − αr̃)/(1 − α)")
        ax.plot(alpha, ds["sigma2_div"], "k--", label="σ²(1 − α) = 1")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_ylim(s2[0], s2[-1])
        ax.set_xlabel("α = P/N")
        ax.set_ylabel("σ²")
        ax.set_title(
            f"sign dε_g/dL: {ttl}\n(red: deeper is worse, blue: deeper is better)", fontsize=9
        )
    axes[0].legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    return save_figure(fig, path)
