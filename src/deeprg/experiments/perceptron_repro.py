"""Replica-symmetric reproductions for deep perceptron networks (docs/theory/perceptron.md §4).

``perceptron-phase``: heat maps of q(l) and Q(l) over (l, ln α), random I/O and teacher–student
(RS, closure A); ``perceptron-profiles``: q(l), Q(l) vs l at several α; ``perceptron-thresholds``:
α_g(l) and α_c(l) vs l from the front criterion, with exponential and power-law fits.

The Monte Carlo reproductions live in :mod:`deeprg.experiments.perceptron_mc_repro`, the k-RSB
one in :mod:`deeprg.experiments.perceptron_theory`. Every figure is drawn from the saved
Dataset by the plotter registered under the reproduction's name (``deeprg plot NAME.nc``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from deeprg.experiments.registry import ReproductionResult, register
from deeprg.plotting import register_plot, save_figure, subplots
from deeprg.schema import annotate, var

_SCENARIOS = ("random", "teacher")


@register(
    "perceptron-phase",
    "Replica RS: q(l), Q(l) over (l, ln α), random I/O and teacher–student (closure A)",
)
def run_phase(size: str, seed: int, out_dir: Path) -> ReproductionResult:
    import xarray as xr

    from deeprg.perceptron.replica import path_dataset, solve_path

    L, n = {"tiny": (4, 6), "quick": (12, 60), "full": (20, 200)}[size]
    alphas = np.geomspace(1.0, 2000.0 if size != "tiny" else 30.0, n)
    parts = []
    for scen in _SCENARIOS:
        parts.append(
            path_dataset(solve_path(L, alphas, scenario=scen)).expand_dims(scenario=[scen])
        )
    ds = xr.concat(parts, dim="scenario", coords="minimal", compat="override")
    conv = float(ds["converged"].mean())
    sym = float(np.nanmax(np.abs(ds["q"].values - ds["q"].values[..., ::-1])))
    msg = f"{int(ds['converged'].sum())} of {ds['converged'].size} RS solves converged ({100 * conv:.0f}%); reflection symmetry max |q(l) − q(L−l)| = {sym:.1e}"
    return ReproductionResult(ds, [], msg, {"size": size, "L": L, "n_alpha": n})


@register_plot("perceptron-phase")
def plot_phase(ds: Any, path: Path) -> Path:
    """Heat maps of q(l) and Q(l) over (ln α, l), one row per scenario."""
    fig, axes = subplots(2, 2, figsize=(10, 7), sharex=True)
    L = int(ds.sizes["wlayer"])
    for r, scen in enumerate(_SCENARIOS):
        for c, (key, dim) in enumerate((("q", "layer"), ("Q", "wlayer"))):
            ax = axes[r, c]
            im = ax.pcolormesh(
                np.log(ds["alpha"].values),
                ds[dim],
                ds[key].sel(scenario=scen).values.T,
                vmin=0,
                vmax=1,
                shading="auto",
                cmap="magma",
            )
            ax.set_title(f"{key}(l), {scen}", fontsize=9)
            ax.set_ylabel({"layer": "layer l", "wlayer": "weight layer l"}[dim])
            fig.colorbar(im, ax=ax)
    for ax in axes[1]:
        ax.set_xlabel("ln α")
    fig.suptitle(
        f"RS layered replica theory, closure A, L = {L}: solid wedges from both boundaries, liquid centre",
        fontsize=10,
    )
    fig.tight_layout()
    return save_figure(fig, path)


_PROFILE_ATTRS = {
    "mark": var("marked load", "index of the marked alpha of each scenario"),
    "alpha_value": var(
        "load alpha at the mark", "alpha = M/c of the marked profile (NaN: no such mark)"
    ),
}


@register(
    "perceptron-profiles",
    "Replica RS: profiles q(l), Q(l) vs l at several α, random I/O and teacher–student",
)
def run_profiles(size: str, seed: int, out_dir: Path) -> ReproductionResult:
    import xarray as xr

    from deeprg.perceptron.replica import path_dataset, solve_path

    L = {"tiny": 6, "quick": 24, "full": 24}[size]
    marks = {
        "random": [5.1, 20.8, 47.2, 95.3, 491.0, 2000.0],
        "teacher": [9.46, 19.2, 51.5, 104.0, 281.0],
    }
    if size == "tiny":
        marks = {"random": [5.1, 20.8], "teacher": [9.46]}
    parts = []
    for scen in _SCENARIOS:
        grid = np.union1d(
            np.geomspace(2.0, max(marks[scen]), 40 if size != "tiny" else 8), marks[scen]
        )
        ds = path_dataset(solve_path(L, grid, scenario=scen)).sel(alpha=marks[scen])
        parts.append(
            ds.expand_dims(scenario=[scen])
            .assign_coords(alpha=np.arange(len(marks[scen])))
            .rename(alpha="mark")
            .assign(alpha_value=("mark", marks[scen]))
        )
    out = xr.concat(
        parts, dim="scenario", data_vars="all", coords="minimal", compat="override", join="outer"
    )
    annotate(out, _PROFILE_ATTRS)
    rnd = out.sel(scenario="random")
    msg = "random I/O, α = " + ", ".join(
        f"{a:g}: q(1..3) = {np.round(rnd['q'].isel(mark=i).values[1:4], 3).tolist()}"
        for i, a in enumerate(marks["random"])
    )
    return ReproductionResult(out, [], msg, {"size": size, "L": L})


@register_plot("perceptron-profiles")
def plot_profiles(ds: Any, path: Path) -> Path:
    """q(l) and Q(l) against l at the marked loads, one row per scenario."""
    fig, axes = subplots(2, 2, figsize=(10, 7))
    for r, scen in enumerate(_SCENARIOS):
        s = ds.sel(scenario=scen)
        for i, a in enumerate(s["alpha_value"].values):
            if not np.isfinite(a):
                continue
            m = s.isel(mark=i)
            axes[r, 0].plot(ds["layer"], m["q"], "o-", ms=3, label=f"α={float(a)}")
            axes[r, 1].plot(ds["wlayer"], m["Q"], "o-", ms=3)
        axes[r, 0].set_title(f"q(l), {scen}", fontsize=9)
        axes[r, 1].set_title(f"Q(l), {scen}", fontsize=9)
        axes[r, 0].legend(fontsize=6)
    for ax in axes.ravel():
        ax.set_xlabel("layer l")
    fig.tight_layout()
    return save_figure(fig, path)


_THRESHOLD_ATTRS = {
    "alpha_threshold": var(
        "freezing load of layer l",
        "alpha at which layer l (counted from a boundary) freezes, by the front criterion: "
        "alpha_g(l) for random I/O, alpha_c(l) for teacher-student (NaN: not reached)",
    ),
    "exp_lambda": var(
        "exponential depth scale",
        "lambda of the fit ln alpha(l) = a + l / lambda over the layers l >= 2",
    ),
    "power_nu": var(
        "power-law exponent", "nu of the fit ln alpha(l) = b + nu ln l over the layers l >= 2"
    ),
    "layer": var("layer from a boundary", "l = 1..n: the l-th neuron layer from a boundary"),
}


@register(
    "perceptron-thresholds",
    "Replica RS: α_g(l) (glass) and α_c(l) (crystal) vs l by the front criterion, with fits",
)
def run_thresholds(size: str, seed: int, out_dir: Path) -> ReproductionResult:
    import xarray as xr

    from deeprg.perceptron.replica import front_thresholds

    n_layers, L, amax, ng = {
        "tiny": (2, 6, 40.0, 20),
        "quick": (5, 14, 1000.0, 80),
        "full": (7, 20, 4000.0, 160),
    }[size]
    res = {
        scen: front_thresholds(L, n_layers, scenario=scen, alpha_max=amax, n_grid=ng)
        for scen in _SCENARIOS
    }
    n = max(len(r.alpha) for r in res.values())
    arr = np.full((2, n), np.nan)
    for i, r in enumerate(res.values()):
        arr[i, : len(r.alpha)] = r.alpha
    ds = xr.Dataset(
        {
            "alpha_threshold": (("scenario", "layer"), arr),
            "exp_lambda": ("scenario", [r.exp_fit[1] for r in res.values()]),
            "power_nu": ("scenario", [r.power_fit[1] for r in res.values()]),
        },
        coords={"scenario": list(res), "layer": np.arange(1, n + 1)},
    )
    annotate(ds, _THRESHOLD_ATTRS)
    msg = "; ".join(
        f"{s}: α(l) = {np.round(r.alpha, 2).tolist()}, ln α = a + l/λ with λ = {r.exp_fit[1]:.2f}, power ν = {r.power_fit[1]:.2f}"
        for s, r in res.items()
    )
    return ReproductionResult(ds, [], msg, {"size": size, "L": L, "n_layers": n_layers})


@register_plot("perceptron-thresholds")
def plot_thresholds(ds: Any, path: Path) -> Path:
    """Freezing load against the layer's distance from a boundary, with the fitted scales."""
    fig, ax = subplots(figsize=(5, 4))
    for scen in ds["scenario"].values:
        s = ds.sel(scenario=scen)
        ok = np.isfinite(s["alpha_threshold"].values)
        ax.semilogy(
            ds["layer"].values[ok],
            s["alpha_threshold"].values[ok],
            "o-",
            label=f"{scen}: λ={float(s['exp_lambda']):.2f}, ν={float(s['power_nu']):.2f}",
        )
    ax.axhline(np.pi**2 / 4, color="gray", lw=0.5)
    ax.set_xlabel("layer l from a boundary")
    ax.set_ylabel("α at which layer l freezes")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path)
