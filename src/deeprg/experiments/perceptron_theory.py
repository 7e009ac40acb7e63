"""Replica-theory reproductions for deep perceptron networks (docs/theory/perceptron.md §3.9,
§6.1 item 4, §6.2).

``perceptron-rsb``: k-step RSB (k = 1 along an α path, k = 2 at one α) of the random-I/O chain,
closure A: the Parisi functions q(x, l) per layer (the staircase simplifies with depth: the
"renormalized hierarchy"), the number of non-zero Parisi levels per layer vs α, and the RS
replicon per layer (RS is unstable wherever a layer is frozen).

(``perceptron-phase``, ``perceptron-profiles`` and ``perceptron-thresholds`` are registered by
``deeprg.experiments.perceptron_repro`` and call this package's RS API.)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from deeprg.experiments.registry import ReproductionResult, register

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

    from deeprg.experiments.perceptron_repro import _save
    from deeprg.perceptron.replica import rs_replicon, rsb_dataset, rsb_path, solve_path, solve_rsb
    from deeprg.perceptron.replica.datasets import annotate
    from deeprg.plotting import colormap, subplots

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
    fig, axes = subplots(1, 3, figsize=(14, 4))
    xs = np.linspace(0, 1, 401)
    show = sols[-1]
    qx = show.parisi_function(xs)
    for l in range(1, L // 2 + 1):
        axes[0].plot(xs, qx[:, l], label=f"l = {l}", color=colormap("viridis")(l / (L / 2 + 1)))
    axes[0].set_xlabel("x")
    axes[0].set_ylabel("q(x, l)")
    axes[0].set_title(f"1RSB Parisi functions, L = {L}, α = {show.alpha:.0f}", fontsize=9)
    axes[0].legend(fontsize=7)
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
    figs = _save(fig, out_dir / "perceptron-rsb")
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
    return ReproductionResult(out, figs, msg, cfg)
