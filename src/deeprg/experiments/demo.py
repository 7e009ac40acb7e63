"""The main job, ``deeprg demo``: BPKR theory on two-class digits vs width (bpkr.md §2–3).

Saddle point, exact finite-width mixture and GP limit for a deep linear network (L = 2) on
scikit-learn's digits 3 vs 8, over a range of widths, sharing one eigendecomposition; and
blocked-Gibbs samples of the actual finite networks at a few widths, with Monte Carlo errors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

DEMO_CONFIG: dict[str, Any] = {
    "data": "digits",
    "classes": [3, 8],
    "P": 200,
    "P_test": 150,
    "L": 2,
    "widths": [2, 4, 8, 16, 32, 64, 128, 256, 1024],
    "sigma2": 1.0,
    "T": 0.05,
    "sim_widths": [4, 16, 64],
    "sim_chains": 16,
    "sim_steps": 1200,
}


@dataclass(frozen=True)
class DemoResult:
    dataset: Any  # xarray.Dataset with dims (mode, width)
    figure: Path | None
    config: dict[str, Any]


def run_demo(
    out_dir: Path | None = None,
    *,
    seed: int = 0,
    config: dict | None = None,
    stage: Callable[[str], None] | None = None,
) -> DemoResult:
    """Compute the demo data set; write ``demo.nc`` and ``demo.png`` into ``out_dir`` if given.

    ``stage(text)`` is told each stage as it starts ("theory ...", "sampling ...",
    "writing ..."); the CLI prints them on stderr.
    """

    def say(text: str) -> None:
        if stage is not None:
            stage(text)

    import xarray as xr

    from deeprg.bpkr import architecture, base_kernel, fit_kernel, report
    from deeprg.data import make_dataset
    from deeprg.results import write_dataset

    cfg = {**DEMO_CONFIG, **(config or {}), "seed": seed}
    say(f"data: {cfg['data']} {cfg['classes']}, P = {cfg['P']}, P_test = {cfg['P_test']}")
    split = make_dataset(
        cfg["data"], P=cfg["P"], P_test=cfg["P_test"], seed=seed, classes=tuple(cfg["classes"])
    )
    kern = base_kernel(split.X, split.y)  # one eigendecomposition for every point
    modes = ("saddle", "exact", "gp")
    keys = ("eps_g", "bias2", "variance", "U", "train_error", "log_evidence")
    vals = {k: np.full((len(modes), len(cfg["widths"])), np.nan) for k in keys}
    conv = np.zeros((len(modes), len(cfg["widths"])), bool)
    say(f"theory: {', '.join(modes)} at {len(cfg['widths'])} widths (L = {cfg['L']})")
    for j, n in enumerate(cfg["widths"]):
        arch = architecture([n] * cfg["L"], cfg["sigma2"], cfg["T"])
        for i, mode in enumerate(modes):
            rep = report(fit_kernel(kern, arch, mode), split.X_test, split.y_test)
            for k in keys:
                vals[k][i, j] = rep[k]
            conv[i, j] = rep["converged"]
    ds = xr.Dataset(
        {k: (("mode", "width"), v) for k, v in vals.items()}
        | {"converged": (("mode", "width"), conv)},
        coords={"mode": list(modes), "width": cfg["widths"]},
    )
    ds = ds.merge(_simulate(split, cfg, seed, say))
    fig_path = None
    if out_dir is not None:
        out_dir = Path(out_dir)
        say(f"writing {out_dir / 'demo.nc'} and {out_dir / 'demo.png'}")
        write_dataset(ds, out_dir / "demo.nc", config=cfg, seed=seed)
        fig_path = plot_demo(ds, out_dir / "demo.png")
    return DemoResult(ds, fig_path, cfg)


def _quiet(text: str) -> None:
    """A stage reporter that says nothing."""


def _simulate(split, cfg: dict[str, Any], seed: int, say: Callable[[str], None] = _quiet):
    """Blocked-Gibbs samples of the actual finite networks at a few widths (issue 3)."""
    import xarray as xr

    from deeprg.networks import init_params, network
    from deeprg.sampling import make_sampler, run_chains

    keys = ("eps_g", "eps_g_se", "bias2", "variance", "a2_over_N", "a2_over_N_se", "rhat_max")
    out = {k: np.full(len(cfg["sim_widths"]), np.nan) for k in keys}
    for j, n in enumerate(cfg["sim_widths"]):
        say(
            f"sampling: blocked Gibbs at width {n} ({j + 1}/{len(cfg['sim_widths'])}), "
            f"{cfg['sim_chains']} chains x {cfg['sim_steps']} steps"
        )
        net = network(split.N0, [n] * cfg["L"], cfg["sigma2"])
        rng = np.random.default_rng(np.random.SeedSequence([seed, n]))
        res = run_chains(
            make_sampler("gibbs", net, split.X, split.y, cfg["T"]),
            net,
            init_params(net, cfg["sim_chains"], rng),
            X_test=split.X_test,
            y_test=split.y_test,
            steps=cfg["sim_steps"],
            warmup=cfg["sim_steps"] // 4,
            thin=2,
            seed=seed + n,
            progress=False,
        )
        summ = res.summary()
        for k in keys:
            out[k][j] = summ[k]
    return xr.Dataset(
        {f"gibbs_{k}": ("sim_width", v) for k, v in out.items()},
        coords={"sim_width": cfg["sim_widths"]},
    )


def plot_demo(ds: Any, path: Path) -> Path:
    """ε_g, bias² and variance vs width for each mode (one PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from deeprg.results import atomic_path

    fig, axes = plt.subplots(1, 3, figsize=(11, 3.4), sharex=True)
    styles = {"saddle": "k-", "exact": "C1--", "gp": "C0:"}
    for ax, key, title in zip(
        axes, ("eps_g", "bias2", "variance"), ("ε_g", "bias²", "variance"), strict=True
    ):
        for mode in ds["mode"].values:
            ax.plot(
                ds["width"],
                ds[key].sel(mode=mode),
                styles.get(str(mode), "-"),
                marker="o",
                ms=3,
                label=str(mode),
            )
        if "gibbs_eps_g" in ds:
            err = ds["gibbs_eps_g_se"] if key == "eps_g" else None
            ax.errorbar(
                ds["sim_width"],
                ds[f"gibbs_{key}"],
                yerr=err,
                fmt="s",
                color="C3",
                ms=5,
                capsize=3,
                label="Gibbs samples",
            )
        ax.set_xscale("log")
        ax.set_xlabel("width N")
        ax.set_title(title)
    axes[0].legend()
    fig.suptitle("deep linear network on two-class digits: BPKR theory (lines) and Gibbs samples")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
    return Path(path)
