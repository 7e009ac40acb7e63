"""The main job, ``deeprg demo``: BPKR theory on two-class digits vs width (docs/theory/bpkr.md §2–3).

Saddle point, exact finite-width mixture and GP limit for a deep linear network (L = 2) on
scikit-learn's digits 3 vs 8, over a range of widths, sharing one eigendecomposition; and
blocked-Gibbs samples of the actual finite networks at a few widths, with Monte Carlo errors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field

from deeprg.config import Config
from deeprg.plotting import register_plot


class DemoConfig(Config):
    """The demo's configuration (defaults are the published demo)."""

    data: Literal["digits", "mnist"] = Field("digits", description="Built-in image data.")
    classes: tuple[int, int] = Field((3, 8), description="The two digit classes.")
    P: int = Field(200, ge=2, description="Training examples.")
    P_test: int = Field(150, ge=1, description="Test examples.")
    L: int = Field(2, ge=1, description="Hidden layers.")
    widths: list[int] = Field(
        [2, 4, 8, 16, 32, 64, 128, 256, 1024], min_length=1, description="Theory widths."
    )
    sigma2: float = Field(1.0, gt=0, description="Prior variance of every layer.")
    T: float = Field(0.05, gt=0, description="Temperature.")
    sim_widths: list[int] = Field([4, 16, 64], description="Widths of the Gibbs simulations.")
    sim_chains: int = Field(16, ge=2, description="Chains per simulated width.")
    sim_steps: int = Field(2000, ge=2, description="Gibbs sweeps per chain after warm-up.")
    seed: int = Field(0, ge=0, description="Seed for data subsampling and simulations.")


DEMO_CONFIG: dict[str, Any] = DemoConfig().to_dict()  # the defaults, for reference

VARIABLES = {
    "eps_g": ("generalization error", "eps_g = bias2 + variance on the test set"),
    "bias2": ("squared bias", "mean over test inputs of (<f> - y)^2"),
    "variance": ("predictor variance", "mean over test inputs of the posterior variance of f"),
    "U": ("renormalization of the readout", "U = prod of the layer scalars u_l (bpkr theory)"),
    "train_error": ("training error", "mean squared error on the training set"),
    "log_evidence": ("log evidence", "log partition function of the posterior"),
    "converged": ("solver converged", "True where the saddle / mixture solve converged"),
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
    config: dict | DemoConfig | None = None,
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

    base = config if isinstance(config, DemoConfig) else DemoConfig(**(config or {}))
    cfg = base.replace(seed=seed).to_dict()
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
    from deeprg.schema import annotate, var

    ds = xr.Dataset(
        {k: (("mode", "width"), v) for k, v in vals.items()}
        | {"converged": (("mode", "width"), conv)},
        coords={"mode": list(modes), "width": cfg["widths"]},
    )
    ds = ds.merge(_simulate(split, cfg, seed, say))
    table = {k: var(a, f"theory: {b}") for k, (a, b) in VARIABLES.items()}
    table |= {
        f"gibbs_{k}": var(a, f"blocked-Gibbs samples: {b}") for k, (a, b) in VARIABLES.items()
    }
    table |= {
        "gibbs_eps_g_se": var("standard error of eps_g", "sd of chain means / sqrt(chains)"),
        "gibbs_a2_over_N": var("readout norm per unit", "sampled |a|^2/N_L (theory: u_L)"),
        "gibbs_a2_over_N_se": var("standard error of a2_over_N", "sd of chain means/sqrt(C)"),
        "gibbs_rhat_max": var("largest R-hat", "rank-normalized split R-hat, worst observable"),
    }
    annotate(ds, table)
    ds.attrs["plot"] = "demo"
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

    from deeprg.sampling import sample_posterior
    from deeprg.seeds import derive_seed

    keys = ("eps_g", "eps_g_se", "bias2", "variance", "a2_over_N", "a2_over_N_se", "rhat_max")
    out = {k: np.full(len(cfg["sim_widths"]), np.nan) for k in keys}
    for j, n in enumerate(cfg["sim_widths"]):
        say(
            f"sampling: blocked Gibbs at width {n} ({j + 1}/{len(cfg['sim_widths'])}), "
            f"{cfg['sim_chains']} chains x {cfg['sim_steps']} steps"
        )
        res = sample_posterior(
            split,
            [n] * cfg["L"],
            cfg["sigma2"],
            cfg["T"],
            chains=cfg["sim_chains"],
            steps=cfg["sim_steps"],
            thin=2,
            seed=derive_seed(seed, n),
            progress=False,
        )
        summ = res.summary()
        for k in keys:
            out[k][j] = summ[k]
    return xr.Dataset(
        {f"gibbs_{k}": ("sim_width", v) for k, v in out.items()},
        coords={"sim_width": cfg["sim_widths"]},
    )


@register_plot("demo")
def plot_demo(ds: Any, path: Path) -> Path:
    """ε_g, bias² and variance vs width for each mode (one PNG)."""
    from deeprg.plotting import save_figure, subplots

    fig, axes = subplots(1, 3, figsize=(11, 3.4), sharex=True)
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
    return save_figure(fig, path, dpi=110)
