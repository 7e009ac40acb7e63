"""Replica-theory reproductions for deep perceptron networks (docs/theory/perceptron.md §3.9,
§6.1 item 4, §6.2).

``perceptron-rsb``: k-step RSB (k = 1 along an α path, k = 2 at one α) of the random-I/O chain,
closure A: the Parisi functions q(x, l) per layer (the staircase simplifies with depth: the
"renormalized hierarchy"), the number of non-zero Parisi levels per layer vs α, and the RS
replicon per layer (RS is unstable wherever a layer is frozen).

(``perceptron-phase``, ``perceptron-profiles`` and ``perceptron-thresholds`` are registered by
``deeprg.experiments.perceptron_repro`` and call this package's RS API.) The figure is drawn
from the saved Dataset by :func:`plot_rsb` (``deeprg plot perceptron-rsb.nc``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from deeprg.experiments.registry import ReproductionResult, register
from deeprg.plotting import colormap, register_plot, save_figure, subplots

_SIZES = {
    # L (1RSB path), α grid, L and α of the 2RSB point
    "tiny": (4, np.geomspace(2.0, 30.0, 4), None),
    "quick": (10, np.geomspace(2.0, 250.0, 12), (6, 30.0)),
    "full": (12, np.geomspace(2.0, 300.0, 40), (8, 60.0)),
}


_RS_ATTRS = {
    "rs_replicon": {
        "long_name": "RS replicon eigenvalue",
        "units": "1",
        "description": "1 - lambda_max of the replicon form of the RS chain at the same alpha "
        "(< 0: replica symmetry unstable)",
    },
    "rs_replicon_neurons": {
        "long_name": "local RS replicon of a neuron layer",
        "units": "1",
        "description": "1 - B_ll of the replicon form per interior neuron layer (NaN on the "
        "clamped layers 0 and L)",
    },
    "parisi_function": {
        "long_name": "1RSB Parisi function q(x, l)",
        "units": "1",
        "description": "overlap q(x, l) per neuron layer of the 1RSB solution at the largest "
        "alpha of the path (parisi_alpha), on the grid parisi_x of x in [0, 1]",
    },
    "parisi_alpha": {
        "long_name": "load of the Parisi functions",
        "units": "1",
        "description": "alpha of the 1RSB solution whose parisi_function is stored",
    },
    "parisi_x": {
        "long_name": "Parisi parameter x",
        "units": "1",
        "description": "grid of the Parisi function's argument on [0, 1]",
    },
    "f_rs": {
        "long_name": "RS free entropy",
        "units": "1",
        "description": "free entropy per N c of the RS solution at the same alpha",
    },
}


@register(
    "perceptron-rsb",
    "Replica k-RSB (random I/O, closure A): Parisi functions q(x, l) per layer, levels per "
    "layer vs α, RS replicon",
)
def run_rsb(size: str, seed: int, out_dir: Path) -> ReproductionResult:
    import xarray as xr

    from deeprg.perceptron.replica import rs_replicon, rsb_dataset, rsb_path, solve_path, solve_rsb
    from deeprg.perceptron.replica.datasets import annotate

    L, alphas, two = _SIZES[size]
    sols = rsb_path(L, alphas, 1)
    ds = rsb_dataset(sols)
    # RS at each α (its own continuation ends exactly there) and its replicon
    rs_at = [solve_path(L, np.geomspace(1.0, a, 12))[-1] for a in alphas]
    reps = [rs_replicon(s) for s in rs_at]
    ds["rs_replicon"] = ("alpha", np.array([r.eigenvalue for r in reps]))
    ds["rs_replicon_neurons"] = (
        ("alpha", "layer"),
        np.array([np.concatenate([[np.nan], r.neurons, [np.nan]]) for r in reps]),
    )
    ds["f_rs"] = ("alpha", np.array([s.f for s in rs_at]))
    show = sols[-1]
    xs = np.linspace(0, 1, 401)
    ds = ds.assign_coords(parisi_x=xs)
    ds["parisi_function"] = (("parisi_x", "layer"), show.parisi_function(xs))
    ds["parisi_alpha"] = ((), float(show.alpha))
    annotate(ds, _RS_ATTRS)
    out = ds
    summary2 = ""
    if two is not None:
        L2, a2 = two
        base = solve_path(L2, np.geomspace(1.0, a2, 14))[-1]
        r1 = solve_rsb(L2, a2, 1, init=base)
        x1 = r1.x[0]
        r2 = solve_rsb(L2, a2, 2, init=base, x=[0.7 * x1, x1 + 0.3 * (1 - x1)])
        two_ds = rsb_dataset([r2]).isel(alpha=0, drop=True)
        out = xr.merge(
            [
                ds,
                two_ds.rename({k: f"rsb2_{k}" for k in two_ds.data_vars}).rename(
                    {
                        "layer": "layer2",
                        "wlayer": "wlayer2",
                        "level": "level2",
                        "breakpoint": "breakpoint2",
                    }
                ),
            ],
            compat="override",
        )
        out.attrs.update({"rsb2_L": L2, "rsb2_alpha": a2})
        summary2 = (
            f"; 2RSB at L = {L2}, α = {a2:g}: x = {np.round(r2.x, 3).tolist()}, levels per layer "
            f"{r2.levels.tolist()} (1RSB {r1.levels.tolist()}), converged {r2.converged}"
        )
    conv = int(ds["converged"].sum())
    lev = ds["levels"].values
    ok = ds["converged"].values
    most = bool(np.all(lev[ok, 1] >= lev[ok, 1:-1].max(axis=1)))
    msg = (
        f"1RSB L = {L}: {conv} of {len(sols)} α converged; levels per layer at α = "
        f"{show.alpha:.0f}: {lev[-1].tolist()}; boundary layers carry the most levels: {most}; "
        f"RS replicon < 0 for every α > π²/4: "
        f"{bool(np.all(ds['rs_replicon'].values[alphas > 2.5] < 0))}; "
        f"f_1RSB <= f_RS: {bool(np.all(ds['f'].values[ok] <= ds['f_rs'].values[ok] + 1e-9))}"
        + summary2
    )
    cfg = {"size": size, "L": L, "alpha": alphas.tolist(), "rsb2": two}
    return ReproductionResult(out, [], msg, cfg)


@register_plot("perceptron-rsb")
def plot_rsb(ds: Any, path: Path) -> Path:
    """The 1RSB Parisi functions q(x, l) of the outer half at the largest α, the number of
    non-zero Parisi levels per layer over ln α, and the RS replicon against α."""
    fig, axes = subplots(1, 3, figsize=(14, 4))
    L = int(ds.sizes["layer"]) - 1
    xs = ds["parisi_x"].values
    for l in range(1, L // 2 + 1):
        axes[0].plot(
            xs,
            ds["parisi_function"].sel(layer=l),
            label=f"l = {l}",
            color=colormap("viridis")(l / (L / 2 + 1)),
        )
    axes[0].set_xlabel("x")
    axes[0].set_ylabel("q(x, l)")
    axes[0].set_title(
        f"1RSB Parisi functions, L = {L}, α = {float(ds['parisi_alpha']):.0f}", fontsize=9
    )
    axes[0].legend(fontsize=7)
    alphas = ds["alpha"].values
    im = axes[1].pcolormesh(
        np.log(alphas), np.arange(L + 1), ds["levels"].values.T, shading="nearest", cmap="Blues"
    )
    fig.colorbar(im, ax=axes[1], label="non-zero Parisi levels")
    axes[1].set_xlabel("ln α")
    axes[1].set_ylabel("layer l")
    axes[1].set_title("hierarchy depth per layer (1RSB)", fontsize=9)
    axes[2].semilogx(alphas, ds["rs_replicon"], "o-", ms=3)
    axes[2].axhline(0, color="gray", lw=0.5)
    axes[2].axvline(np.pi**2 / 4, color="gray", lw=0.5, ls=":")
    axes[2].set_xlabel("α")
    axes[2].set_title("RS replicon 1 − λ_max (< 0: RS unstable)", fontsize=9)
    fig.tight_layout()
    return save_figure(fig, path)
