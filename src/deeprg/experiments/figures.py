"""Figures of the command outputs, drawn from their saved Datasets (``deeprg plot FILE.nc``):
Monte Carlo runs (``deeprg mc --out``), replica-theory paths (``deeprg replica --out``) and
population annealing (``deeprg anneal --out``). The demo and compare figures live with their
experiments; every plotter is registered with :func:`deeprg.plotting.register_plot`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from deeprg.plotting import _PLOTTERS, colormap, register_plot, save_figure, subplots


def _top_level(da: Any) -> Any:
    """The within-state (top Parisi level) overlap of a k-RSB variable; RS unchanged."""
    return da.isel(level=-1) if "level" in da.dims else da


@register_plot("replica")
def plot_replica(ds: Any, path: Path) -> Path:
    """q(α) per neuron layer and Q(α) per weight layer along the continuation path."""
    fig, axes = subplots(1, 2, figsize=(10, 3.8), sharex=True)
    q, Q = _top_level(ds["q"]), _top_level(ds["Q"])
    L = int(ds.sizes["wlayer"])
    for l in ds["layer"].values:
        axes[0].plot(ds["alpha"], q.sel(layer=l), color=colormap("viridis")(l / max(L, 1)))
    for l in ds["wlayer"].values:
        axes[1].plot(
            ds["alpha"], Q.sel(wlayer=l), color=colormap("viridis")(l / max(L, 1)), label=f"{l}"
        )
    for ax, name in zip(axes, ("q(l), neuron layers", "Q(l), weight layers"), strict=True):
        ax.set_xscale("log")
        ax.set_xlabel("alpha")
        ax.set_title(name)
    axes[1].legend(fontsize=6, ncol=2, title="layer", title_fontsize=6)
    fig.suptitle(
        f"replica theory, L = {L}, scenario {ds.attrs.get('scenario', '?')}, closure "
        f"{ds.attrs.get('closure', '?')}"
    )
    fig.tight_layout()
    return save_figure(fig, path)


@register_plot("mc")
def plot_mc(ds: Any, path: Path) -> Path:
    """Sample-mean host-guest overlaps q(l; t) and Q(l; t) against the time after cloning."""
    fig, axes = subplots(1, 2, figsize=(10, 3.8), sharex=True)
    L = int(ds.sizes["wlayer"])
    q, Q = ds["q"].mean("sample"), ds["Q"].mean("sample")
    for l in ds["layer"].values:
        axes[0].semilogx(ds["time"], q.sel(layer=l), color=colormap("viridis")(l / max(L, 1)))
    for l in ds["wlayer"].values:
        axes[1].semilogx(
            ds["time"], Q.sel(wlayer=l), color=colormap("viridis")(l / max(L, 1)), label=f"{l}"
        )
    axes[0].set_title("q(l; t)")
    axes[1].set_title("Q(l; t)")
    for ax in axes:
        ax.set_xlabel("MC steps after cloning")
    axes[1].legend(fontsize=6, ncol=2, title="layer", title_fontsize=6)
    fig.tight_layout()
    return save_figure(fig, path)


@register_plot("anneal")
def plot_anneal(ds: Any, path: Path) -> Path:
    """Log Gardner volume per weight, the population's families, and the overlaps measured
    along α."""
    fig, axes = subplots(1, 3, figsize=(14, 3.8))
    axes[0].plot(ds["alpha"], ds["log_volume"])
    axes[0].set_title("log V per weight")
    axes[1].semilogy(ds["alpha"], ds["R_eff"], label="R_eff")
    axes[1].semilogy(ds["alpha"], ds["families"], label="families")
    axes[1].legend()
    meas = ds.dropna("alpha", subset=["Q"], how="all")
    for l in meas["wlayer"].values:
        axes[2].plot(meas["alpha"], meas["Q"].sel(wlayer=l), "o-", label=f"Q({l})")
    axes[2].set_title("overlaps Q(l)")
    axes[2].legend(fontsize=7)
    for ax in axes:
        ax.set_xlabel("alpha")
    fig.tight_layout()
    return save_figure(fig, path)


def plot_kinds() -> list[str]:
    """Kinds that have a plotter."""
    import deeprg.experiments.compare
    import deeprg.experiments.demo  # noqa: F401  (registers the demo figure)
    from deeprg.experiments.registry import available

    available()  # the reproduction modules register their figures on import
    return sorted(_PLOTTERS)


def plot_file(path: str | os.PathLike[str], out: str | os.PathLike[str] | None = None) -> Path:
    """Regenerate the figure of a saved result from the file alone (PNG next to it by
    default, or ``out``; the format follows the suffix)."""
    from deeprg.errors import InputError
    from deeprg.results import read_dataset

    ds = read_dataset(path)
    kind = ds.attrs.get("plot")
    kinds = plot_kinds()
    if kind is None:
        raise InputError(
            f"{path} records no figure kind (attribute 'plot'); files written by deeprg "
            f"commands carry one of: {', '.join(kinds)}"
        )
    if kind not in _PLOTTERS:
        raise InputError(f"{path}: no plotter for kind {kind!r} (known: {', '.join(kinds)})")
    target = Path(out) if out is not None else Path(path).with_suffix(".png")
    return _PLOTTERS[kind][1](ds, target)


__all__ = ["plot_anneal", "plot_file", "plot_kinds", "plot_mc", "plot_replica"]
