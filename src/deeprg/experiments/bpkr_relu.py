"""BPKR reproduction R6 (docs/theory/bpkr.md §5.1): ReLU networks on the template model and
two-class MNIST against the scalar kernel-renormalization heuristic and the GP limit, with
MALA samples. The figure (one row per data set) is drawn from the saved Dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deeprg.experiments.bpkr_common import (
    ATTRS,
    SIZES,
    draw_panels,
    sample_point,
    theory_curves,
    width_dataset,
)
from deeprg.experiments.registry import ReproductionResult, register
from deeprg.plotting import register_plot, save_figure, subplots
from deeprg.schema import annotate, var

MODES = ("saddle", "gp")
TITLES = {
    "template": "ReLU, template model (N0=200, γ=0.05, σ0=0.1, σw=0.3)",
    "mnist": "ReLU, MNIST 0 vs 1 (N0=784)",
}


def _one(data: str, cfg: dict[str, Any], seed: int):
    """Theory curves and MALA points on one data set; MNIST uses fewer sampler points (N0 = 784
    makes its first layer 4x more expensive)."""
    from deeprg.data import make_dataset

    extra: dict[str, Any] = {"classes": (0, 1)} if data == "mnist" else {}
    split = make_dataset(data, P=cfg["P"], P_test=300, seed=seed, **extra)
    sim_widths = cfg["sim_widths"] if data == "template" else cfg["sim_widths"][:1]
    steps = cfg["steps"] if data == "template" else max(cfg["steps"] // 2, 20)
    th = theory_curves(split, cfg["Ls"], cfg["widths"], 1.0, 0.05, MODES, activation="relu")
    sims = {
        (j, k): sample_point(
            split, L, n, 1.0, 0.05, sampler="mala", chains=cfg["chains"], steps=steps, seed=seed
        )
        for j, L in enumerate(cfg["Ls"])
        if L in cfg["sim_Ls"]
        for k, n in enumerate(sim_widths)
    }
    return width_dataset(th, MODES, cfg["Ls"], cfg["widths"], sims, sim_widths), sim_widths


@register(
    "bpkr-relu",
    "BPKR R6: ReLU networks (template model) vs the kernel-renormalization heuristic and the GP limit",
)
def run_relu(size: str, seed: int, out_dir: Path) -> ReproductionResult:
    import xarray as xr

    cfg = SIZES["bpkr-relu"][size]
    parts, lines = [], []
    for data in ("template", "mnist"):
        ds, sim_widths = _one(data, cfg, seed)
        lines += [f"[{data}] {line}" for line in _relu_lines(ds, cfg["sim_Ls"], sim_widths)]
        parts.append(ds.expand_dims(data=[data]))
    out = xr.concat(
        parts, dim="data", data_vars="all", coords="minimal", compat="override", join="outer"
    )
    out = annotate(out, ATTRS | {"data": var("data set", "template model or MNIST 0 vs 1")})
    out.attrs.update(sigma2=1.0, T=0.05)
    msg = "ReLU heuristic vs MALA:\n" + "\n".join(lines)
    return ReproductionResult(out, [], msg, {"size": size, **cfg})


@register_plot("bpkr-relu")
def plot_relu(ds: Any, path: Path) -> Path:
    """One row per data set: heuristic (solid), GP (dotted) and MALA points against width."""
    datas = [str(d) for d in ds["data"].values]
    fig, axes = subplots(len(datas), 4, figsize=(15, 3.6 * len(datas)), squeeze=False)
    for row, data in zip(axes, datas, strict=True):
        d = ds.sel(data=data).dropna("sim_width", how="all", subset=["sim_eps_g"])
        draw_panels(row, d, "width", legend=data == datas[0])
        row[0].set_ylabel(TITLES.get(data, data), fontsize=7)
    fig.suptitle(
        f"ReLU networks, σ²={ds.attrs['sigma2']}, T={ds.attrs['T']}: heuristic —, GP ··, MALA ●",
        fontsize=10,
    )
    fig.tight_layout()
    return save_figure(fig, path)


def _relu_lines(ds, sim_Ls, sim_widths) -> list[str]:
    lines = []
    for L in sim_Ls:
        for n in sim_widths:
            v, s = (float(ds[f"sim_eps_g{x}"].sel(L=L, sim_width=n)) for x in ("", "_se"))
            t = float(ds["eps_g"].sel(mode="saddle", L=L).interp(width=n))
            g = float(ds["eps_g"].sel(mode="gp", L=L).interp(width=n))
            lines.append(
                f"L={L} N={n}: MALA {v:.4f}±{s:.4f}, heuristic {t:.4f} ({(v - t) / s:+.1f} se, {100 * (t - v) / v:+.1f}%), GP {g:.4f} ({100 * (g - v) / v:+.1f}%)"
            )
    return lines
