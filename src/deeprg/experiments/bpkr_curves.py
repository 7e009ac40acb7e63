"""BPKR reproductions R1, R2, R4 (docs/theory/bpkr.md §2–3): ε_g, bias², variance and the
readout renormalization U against width and depth, and learning curves against P/N0; theory
(saddle, exact finite width, GP limit) against blocked-Gibbs samples. Each figure is drawn from
the saved Dataset by the plotter registered under the reproduction's name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from deeprg.experiments.bpkr_common import (
    ATTRS,
    OBS,
    SIZES,
    TEACHER,
    agreement,
    draw_panels,
    sample_point,
    theory_curves,
    width_dataset,
)
from deeprg.experiments.registry import ReproductionResult, register
from deeprg.plotting import label, register_plot, save_figure, subplots
from deeprg.schema import annotate, var

MODES = ("saddle", "exact", "gp")


def _gibbs(split, L, n, s2, T, cfg, seed):
    return sample_point(
        split, L, n, s2, T, sampler="gibbs", chains=cfg["chains"], steps=cfg["steps"], seed=seed
    )


# ----------------------------------------------------------------------------- R1 width


@register(
    "bpkr-width", "BPKR R1: eps_g, bias², variance, U vs width for L = 1, 2, 4 (theory + Gibbs)"
)
def run_width(size: str, seed: int, out_dir: Path) -> ReproductionResult:
    import xarray as xr

    from deeprg.data import make_dataset

    cfg = SIZES["bpkr-width"][size]
    split = make_dataset("teacher", seed=seed, **TEACHER)
    widths = list(np.geomspace(15, 960, cfg["n_w"]).round().astype(int))
    parts = []
    for s2 in cfg["sigma2"]:
        for T in cfg["T"]:
            th = theory_curves(split, cfg["Ls"], widths, s2, T, MODES)
            sims = {}
            if s2 == 1.0 and T == 0.05:
                for j, L in enumerate(cfg["Ls"]):
                    if L in cfg["sim_Ls"]:
                        for k, n in enumerate(cfg["sim_widths"]):
                            sims[(j, k)] = _gibbs(split, L, n, s2, T, cfg, seed)
            d = width_dataset(th, MODES, cfg["Ls"], widths, sims, cfg["sim_widths"])
            parts.append(d.expand_dims(sigma2=[s2], T=[T]))
    ds = annotate(xr.combine_by_coords(parts), ATTRS)
    dev, msg = agreement(ds.sel(sigma2=1.0, T=0.05))
    ds.attrs.update(max_dev_se=dev, **TEACHER)
    return ReproductionResult(ds, [], msg, {"size": size, **cfg})


@register_plot("bpkr-width")
def plot_width(ds: Any, path: Path) -> Path:
    """The σ² = 1, T = 0.05 slice (the one with Gibbs points) against width."""
    fig, axes = subplots(1, 4, figsize=(15, 3.6))
    draw_panels(axes, ds.sel(sigma2=1.0, T=0.05), "width")
    fig.suptitle(
        f"BPKR vs width (teacher, P={ds.attrs['P']}, N0={ds.attrs['N0']}, σ²=1, T=0.05): "
        "saddle —, exact --, GP ··, Gibbs ●",
        fontsize=10,
    )
    fig.tight_layout()
    return save_figure(fig, path)


# ----------------------------------------------------------------------------- R2 depth


@register(
    "bpkr-depth",
    "BPKR R2: eps_g, bias², variance, U vs depth L = 1..10 on both sides of σ_c² and beyond σ²(1−α) = 1",
)
def run_depth(size: str, seed: int, out_dir: Path) -> ReproductionResult:
    import xarray as xr

    from deeprg.bpkr import base_kernel
    from deeprg.bpkr.phase import r_tilde
    from deeprg.data import make_dataset

    cfg = SIZES["bpkr-depth"][size]
    split = make_dataset("teacher", seed=seed, **TEACHER)
    rt, _ = r_tilde(base_kernel(split.X, split.y))
    Ls = list(range(1, cfg["L_max"] + 1))
    T = 0.05
    parts = []
    for r, (s2, alpha) in enumerate(cfg["sets"]):
        N = round(split.P / alpha)
        th = theory_curves(split, Ls, [N], s2, T, MODES)
        sims = {
            (j, 0): _gibbs(split, L, N, s2, T, cfg, seed)
            for j, L in enumerate(Ls)
            if L in cfg["sim_Ls"]
        }
        d = width_dataset(th, MODES, Ls, [N], sims, [N]).isel(width=0, sim_width=0)
        d = d.expand_dims(param_set=[r])
        d["sigma2"] = ("param_set", [s2])
        d["alpha"] = ("param_set", [alpha])
        parts.append(d)
    ds = xr.concat(parts, dim="param_set", coords="minimal", compat="override")
    sim, se = ds["sim_eps_g"].values, ds["sim_eps_g_se"].values
    ok = np.isfinite(sim)
    devs = np.abs(sim - ds["eps_g"].sel(mode="exact").values)[ok] / se[ok]
    m = float(devs.max()) if devs.size else float("nan")
    ds = annotate(ds, ATTRS | {"alpha": var("load alpha = P/N", "per parameter set")})
    ds["param_set"].attrs.update(var("parameter set", "index of the (sigma^2, alpha) pair"))
    ds.attrs.update(max_dev_se=m, r_tilde=rt, T=T, **TEACHER)
    msg = f"max |Gibbs − exact theory| (eps_g) = {m:.2f} standard errors over {devs.size} points; r̃ = {rt:.3f}"
    config = {k: v for k, v in cfg.items() if k != "sets"}
    return ReproductionResult(
        ds, [], msg, {"size": size, "T": T, **config, "sets": [list(s) for s in cfg["sets"]]}
    )


@register_plot("bpkr-depth")
def plot_depth(ds: Any, path: Path) -> Path:
    """One row per (σ², α) set: theory modes and Gibbs points against L."""
    n, rt, T = ds.sizes["param_set"], ds.attrs["r_tilde"], ds.attrs["T"]
    Ls = ds["L"].values
    fig, axes = subplots(n, 4, figsize=(15, 3 * n), squeeze=False)
    for r in range(n):
        d = ds.isel(param_set=r)
        s2, alpha = float(d["sigma2"]), float(d["alpha"])
        for c, o in enumerate(OBS):
            ax = axes[r, c]
            for mode, st in zip(MODES, ("-", "--", ":"), strict=True):
                col = "k" if mode != "gp" else "C0"
                ax.plot(Ls, d[o].sel(mode=mode).values, st, color=col, label=mode)
            ax.errorbar(
                Ls,
                d[f"sim_{o}"],
                yerr=d[f"sim_{o}_se"],
                fmt="o",
                color="C3",
                ms=4,
                capsize=2,
                label="Gibbs",
            )
            ax.set_title(
                f"{label(o)}  (σ²={s2}, α={alpha}, σ²(1−α)+αr̃={s2 * (1 - alpha) + alpha * rt:.2f})",
                fontsize=8,
            )
            ax.set_xlabel(label("L"))
            span = d[o].values[np.isfinite(d[o].values) & (d[o].values > 0)]
            if o in ("variance", "U") or (span.size and span.max() > 20 * span.min()):
                ax.set_yscale("log")  # the GP's exponential growth would hide the rest
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(
        f"BPKR vs depth (teacher P={ds.attrs['P']}, N0={ds.attrs['N0']}, T={T}; r̃={rt:.3f})",
        fontsize=10,
    )
    fig.tight_layout()
    return save_figure(fig, path)


# ----------------------------------------------------------------------------- R4 learning curves

_LC_ATTRS = {
    "eps_g": var("theory generalization error", "test MSE per mode (saddle, gp), L, T and P"),
    "sim_eps_g": var("Gibbs generalization error", "blocked Gibbs, T = 0.05, the first depth"),
    "sim_eps_g_se": var("standard error of sim_eps_g", "sd of chain means / sqrt(chains)"),
    "P": var("training set size P", "theory grid"),
    "sim_P": var("training set size P (sampled)", "sizes with Gibbs points"),
}


def _lc_theory(full, Ps, cfg, modes):
    from deeprg.bpkr import architecture, base_kernel, fit_kernel, report

    eps = np.full((len(modes), len(cfg["Ls"]), len(cfg["T"]), len(Ps)), np.nan)
    for k, P in enumerate(Ps):
        kern = base_kernel(full.X[:P], full.y[:P])
        for j, L in enumerate(cfg["Ls"]):
            for t, T in enumerate(cfg["T"]):
                arch = architecture([cfg["N"]] * L, 1.0, T)
                for i, mode in enumerate(modes):
                    rep = report(fit_kernel(kern, arch, mode), full.X_test, full.y_test)
                    eps[i, j, t, k] = rep["eps_g"]
    return eps


@register(
    "bpkr-learning-curve",
    "BPKR R4: eps_g vs P/N0 with the double-descent peak, its T and L dependence",
)
def run_learning_curve(size: str, seed: int, out_dir: Path) -> ReproductionResult:
    import xarray as xr

    from deeprg.data import DataSplit, make_dataset

    cfg = SIZES["bpkr-learning-curve"][size]
    N0, N = cfg["N0"], cfg["N"]
    Ps = sorted(set(np.geomspace(10, 3 * N0, cfg["n_P"]).round().astype(int)) | set(cfg["sim_P"]))
    modes = ("saddle", "gp")
    full = make_dataset("teacher", P=max(Ps), P_test=2000, N0=N0, seed=seed, noise=0.5)
    eps = _lc_theory(full, Ps, cfg, modes)
    sim = np.full((len(cfg["Ls"]), len(cfg["sim_P"])), np.nan)
    sim_se = np.full_like(sim, np.nan)
    for k, P in enumerate(cfg["sim_P"]):
        sp = DataSplit(full.X[:P], full.y[:P], full.X_test, full.y_test, full.info)
        r = _gibbs(sp, cfg["Ls"][0], N, 1.0, 0.05, cfg, seed)
        sim[0, k], sim_se[0, k] = r["eps_g"]
    ds = xr.Dataset(
        {
            "eps_g": (("mode", "L", "T", "P"), eps),
            "sim_eps_g": (("L", "sim_P"), sim),
            "sim_eps_g_se": (("L", "sim_P"), sim_se),
        },
        coords={"mode": list(modes), "L": cfg["Ls"], "T": cfg["T"], "P": Ps, "sim_P": cfg["sim_P"]},
    )
    ds = annotate(ds, ATTRS | _LC_ATTRS)
    ds.attrs.update(N0=N0, N=N, noise=0.5)
    L0 = cfg["Ls"][0]
    ex = ds["eps_g"].sel(mode="saddle", L=L0, T=0.05).sel(P=cfg["sim_P"]).values
    devs = np.abs(sim[0] - ex) / sim_se[0]
    peak = Ps[int(np.argmax(ds["eps_g"].sel(mode="saddle", L=L0, T=cfg["T"][0]).values))]
    msg = f"double-descent peak at P = {peak} (N0 = {N0}) for T = {cfg['T'][0]}; max |Gibbs − saddle| = {np.nanmax(devs):.2f} se (saddle, O(1/N) apart from exact)"
    return ReproductionResult(ds, [], msg, {"size": size, **cfg})


@register_plot("bpkr-learning-curve")
def plot_learning_curve(ds: Any, path: Path) -> Path:
    """ε_g against P/N0, one panel per depth: BPKR saddle solid, GP dotted, Gibbs points."""
    Ls, N0 = ds["L"].values, ds.attrs["N0"]
    x = ds["P"].values / N0
    fig, axes = subplots(1, len(Ls), figsize=(5 * len(Ls), 3.8), sharey=True, squeeze=False)
    for a, L in zip(axes[0], Ls, strict=True):
        for t, T in enumerate(ds["T"].values):
            eps = ds["eps_g"].sel(L=L, T=T)
            a.plot(x, eps.sel(mode="saddle"), "-", color=f"C{t}", label=f"T={T} BPKR")
            a.plot(x, eps.sel(mode="gp"), ":", color=f"C{t}")
        sim = ds["sim_eps_g"].sel(L=L)
        if np.isfinite(sim.values).any():
            a.errorbar(
                ds["sim_P"].values / N0,
                sim,
                yerr=ds["sim_eps_g_se"].sel(L=L),
                fmt="o",
                color="C1",
                label="Gibbs, T=0.05",
            )
        a.axvline(1.0, color="gray", lw=0.5)
        a.set_yscale("log")
        a.set_xscale("log")
        a.set_xlabel("P/N0")
        a.set_title(f"L = {L}, N = {ds.attrs['N']}, N0 = {N0}, label noise {ds.attrs['noise']}")
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path)
